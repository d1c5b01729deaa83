"""The dental group's units through the real app: a signed `/otp kpi` and `/otp seat` to
`otp serve`, the HTTP API, the MCP server and `otp kpi push`; the exact text a user sees."""

from __future__ import annotations

import html
from collections.abc import Iterator

import httpx
import pytest

from otp_bot.store.db import Database
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents.tokens import create_token
from tests.support.cli import otp_process
from tests.support.dental import MARIA, dental, load
from tests.support.mcp import Agent, session_with
from tests.support.serve import Server
from tests.support.stores import cloned_store


@pytest.fixture(scope="module")
def dental_db(templates) -> Iterator[Database]:
    for db in cloned_store(templates, "empty"):
        load(db, dental())
        yield db


@pytest.fixture(scope="module")
def molar(dental_db) -> str:
    with dental_db.session() as s:
        return create_token(s, Actor.cli_operator("tests"), holder_id="molar").secret


@pytest.fixture(scope="module")
def server_db(dental_db):
    return dental_db


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {"OTP_POLL_SECONDS": "0.2", "OTP_SWEEP_SECONDS": "3600"}


def kpi(server: Server, typed: str) -> str:
    status, payload = server.command(f"kpi {typed}", user=MARIA)
    assert status == 200
    return html.unescape(payload["text"])  # as Slack shows it: &lt; is <


def test_slack_kpi_reads_and_shows_each_unit(server):
    said = kpi(server, "dso 32 days")
    assert said.startswith(":white_check_mark: Recorded 32 days for *Days sales outstanding* (`dso`), ")
    assert said.endswith(": on track (goal <= 45 days).")
    said = kpi(server, "revenue €1.2M strong month")
    assert "Recorded €1.2M for *Collected revenue* (`revenue`)" in said and "on track (goal >= €1.2M)." in said
    said = kpi(server, "supplies $12,000")
    assert "Recorded $12,000 for *Supplies spend*" in said and "(goal <= $20,000)" in said
    said = kpi(server, "lab-fees 9000 GBP")
    assert "Recorded £9,000 for *Lab fees*" in said and "off track (goal <= £8,000)" in said
    # Another currency, a duration on money: refused, and said how to type it.
    said = kpi(server, "revenue $400k")
    assert "`$400k`: this metric is in €, not $: type the amount in € (like €400k if it is the same number)" in said
    assert "Recorded" not in said
    said = kpi(server, "supplies €400")
    assert "`€400`: this metric is in $, not €" in said
    said = kpi(server, "supplies 2 d late invoices")
    assert "`2 d`: this metric is not a duration (it is $ (USD)): type the number alone, like 2" in said, said
    said = kpi(server, "dso 5k")
    assert "`5k`: a duration takes the number itself, not k / M / bn" in said


def test_the_seat_shows_values_in_their_units(server, molar):
    assert "Recorded 32 days" in kpi(server, "dso 32") and "Recorded €1.2M" in kpi(server, "revenue 1.2M EUR")
    agent = httpx.Client(base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {molar}"}, timeout=60)
    pushed = agent.post(
        "/metrics/values",
        json={
            "values": [
                {"metric": "nps", "value": "NPS 45"},
                {"metric": "first-reply", "value": "1h30"},
                {"metric": "calls", "value": 212},
                {"metric": "accept-ratio", "value": "1,8"},
                {"metric": "nps", "value": 2000},
                {"metric": "calls", "value": "2 d"},
            ]
        },
    ).json()
    assert [r["outcome"] for r in pushed["results"]] == ["recorded"] * 4 + ["error"] * 2
    assert [r["value"] for r in pushed["results"][:4]] == [45, 1.5, 212, 1.8]  # in the metric's unit: 1.5 h
    assert pushed["results"][4]["error"]["detail"] == "`nps`: `2000` is not an NPS: an NPS runs from -100 to 100"
    assert pushed["results"][5]["error"]["detail"] == (
        "`calls`: `2 d`: this metric is not a duration (it is calls): type the number alone, like 2"
    )

    seat = agent.get("/seats/front-desk").json()
    metrics = {m["id"]: m for m in seat["metrics"]}
    assert {mid: (m["kind"], m["unit"], m["currency"]) for mid, m in metrics.items()} == {
        "first-reply": ("duration", "hours", None),
        "nps": ("score", "NPS", None),
        "calls": ("number", "calls", None),
        "accept-ratio": ("number", "ratio", None),
        "chair-time": ("duration", "minutes", None),
        "lab-turnaround": ("number", "days", None),
        "recall-sent": ("yesno", "yesno", None),
        "reply-seconds": ("duration", "seconds", None),
        "backlog": ("duration", "weeks", None),
    }
    assert metrics["first-reply"]["latest"]["value"] == 1.5 and metrics["first-reply"]["latest"]["shown"] == "1.5 h"
    assert metrics["first-reply"]["goal"] == "<= 1.5 h"
    assert metrics["nps"]["latest"]["shown"] == "NPS 45" and metrics["nps"]["goal"] == ">= NPS 40"
    billing = {m["id"]: m for m in agent.get("/seats/billing").json()["metrics"]}
    assert (billing["revenue"]["kind"], billing["revenue"]["unit"], billing["revenue"]["currency"]) == (
        "currency",
        "currency",
        "EUR",
    )
    assert billing["revenue"]["latest"]["shown"] == "€1.2M" and billing["revenue"]["goal"] == ">= €1.2M"
    agent.close()

    _status, payload = server.command("seat billing", user=MARIA)
    lines = html.unescape(payload["text"]).splitlines()
    assert (
        ":red_circle: Days sales outstanding: 32 days (goal <= 45 days), latest on track, but no value in 2 of "
        "the last 3 months"
    ) in lines, lines
    assert (
        ":red_circle: Collected revenue: €1.2M (goal >= €1.2M), latest on track, but no value in 2 of the last 3 months"
    ) in lines, lines
    _status, payload = server.command("scorecard billing", user=MARIA)
    rows = [" ".join(line.split()) for line in html.unescape(payload["text"]).splitlines()]
    assert "🔴 Days sales outstanding <= 45 days · · · ✓ 32 days 32 days (monthly)" in rows, rows
    assert "🔴 Collected revenue >= €1.2M · · · ✓ €1.2M €1.2M (monthly)" in rows, rows
    assert "🔴 Patient NPS >= NPS 40 · · · · · · · · · · · · ✓ NPS 45 NPS 45" in rows, rows
    assert "🔴 Calls answered >= 200 calls · · · · · · · · · · · · ✓ 212 calls 212 calls" in rows, rows
    _status, payload = server.command("seat front-desk", user=MARIA)
    text = html.unescape(payload["text"])
    assert "NPS 45 (goal >= NPS 40)" in text and "1.5 h (goal <= 1.5 h)" in text and "212 calls" in text, text
    assert "1.8 (goal >= 1.5)" in text, text


def test_mcp_and_the_cli_read_the_same_units(dental_db, molar):
    async def scenario(agent: Agent) -> tuple[dict, dict]:
        pushed = await agent.call(
            "push_metric_values",
            values=[{"metric": "first-reply", "value": "45 min"}, {"metric": "nps", "value": "45%"}],
        )
        return pushed, await agent.call("list_my_metrics")

    pushed, mine = session_with(dental_db, molar, scenario)
    assert [r["outcome"] for r in pushed["results"]] == ["recorded", "error"]
    assert pushed["results"][0]["value"] == 0.75
    assert (
        pushed["results"][1]["error"]["detail"]
        == "`nps`: `45%`: this metric is not a percent (it is NPS): type the number alone, like 45"
    )
    first = next(m for m in mine["metrics"] if m["id"] == "first-reply")
    assert (first["kind"], first["unit"], first["latest"]["shown"]) == ("duration", "hours", "0.75 h")

    env = {"OTP_DATABASE_URL": dental_db.url}
    done = otp_process("kpi", "push", "backlog", "1 w", env=env)
    assert done.returncode == 0 and "recorded 1 week" in done.stdout, done.stdout + done.stderr
    done = otp_process("kpi", "push", "revenue", "£3", env=env)
    assert done.returncode == 2 and "this metric is in €, not £" in done.stdout + done.stderr
