"""The outside tester's numbers, sent through every surface for real: a signed slash command
to `otp serve`, `otp kpi push` and `otp agent push` as processes, the HTTP API, and the MCP
tool over stdio. Each is read exactly or refused with the same words, and a refusal records
nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import anyio  # noqa: F401  (the MCP scenario runs under it)
import httpx
import pytest
from sqlalchemy import select

from otp_bot.store.db import Database
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents.tokens import create_token
from otp_bot.store.models import MetricValue
from tests.support.agents import FAST
from tests.support.cli import otp_process
from tests.support.mcp import Agent, session_with
from tests.support.serve import PULSE


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return FAST


JANINE = "U03JNN2W5TA"  # holds accounting: ar-over-60 (currency), payables-on-time (percent)
HOLDER_OF = {"early-flags": ("pulse", PULSE), "ar-over-60": ("janine", JANINE), "payables-on-time": ("janine", JANINE)}

# (metric, what was typed, the value recorded or the words of the refusal)
TESTER = [
    ("early-flags", "3,5", Decimal("3.5")),
    ("early-flags", "1,2,3", "is not one number"),
    ("early-flags", "6,5", Decimal("6.5")),
    ("ar-over-60", "€400k", "this metric is in $, not €"),
    ("early-flags", "99999999999999999999999", "too large"),
    ("payables-on-time", "0.85", "did you mean 85 %?"),
    ("payables-on-time", "0.85%", Decimal("0.85")),
    ("early-flags", "1,250", "did you mean 1250 or 1.25?"),
    ("ar-over-60", "$400k", Decimal("400000")),
    ("early-flags", "\u22123", Decimal("-3")),
    ("early-flags", "NaN", "finite"),
]


def rows(db: Database, metric: str) -> list[float]:
    with db.session(readonly=True) as s:
        return list(
            s.scalars(select(MetricValue.value).where(MetricValue.metric_id == metric).order_by(MetricValue.id))
        )


@pytest.fixture(scope="module")
def janine(module_db) -> str:
    with module_db.session() as s:
        return create_token(s, Actor.cli_operator("tests"), holder_id="janine").secret


def check_every_case(db: Database, push: Callable[[str, str], tuple[bool, str]]) -> None:
    """Push each of the tester's values through one surface; each is recorded exactly or refused."""
    for metric, typed, expected in TESTER:
        before = rows(db, metric)
        ok, said = push(metric, typed)
        after = rows(db, metric)
        if isinstance(expected, Decimal):
            assert ok, (typed, said)
            assert len(after) == len(before) + 1 and Decimal(repr(after[-1])) == expected, (typed, after[-1:])
        else:
            assert not ok and expected in said, (typed, said)
            assert after == before, typed  # nothing recorded


def test_slack_slash_command(module_db, server):
    def push(metric: str, typed: str) -> tuple[bool, str]:
        status, payload = server.command(f"kpi {metric} {typed}", user=HOLDER_OF[metric][1])
        assert status == 200
        return "Recorded" in payload["text"], payload["text"]

    check_every_case(module_db, push)
    # A space-grouped number and a % after a space are one value, not a value and a note.
    before = rows(module_db, "early-flags")
    _, payload = server.command("kpi early-flags 12 500 a busy week", user=PULSE)
    assert rows(module_db, "early-flags") == [*before, 12500.0] and "Recorded 12,500" in payload["text"]
    _, payload = server.command("kpi payables-on-time 85 %", user=JANINE)
    assert rows(module_db, "payables-on-time")[-1] == 85.0 and "Recorded 85%" in payload["text"]


def test_otp_kpi_push(module_db):
    def push(metric: str, typed: str) -> tuple[bool, str]:
        done = otp_process("kpi", "push", metric, typed, env={"OTP_DATABASE_URL": module_db.url})
        assert done.returncode in (0, 2), done.stderr
        return done.returncode == 0, done.stdout + done.stderr

    check_every_case(module_db, push)
    env = {"OTP_DATABASE_URL": module_db.url}
    negative = otp_process("kpi", "push", "early-flags", "--", "-3", env=env)
    assert negative.returncode == 0 and "recorded -3" in negative.stdout, negative.stderr
    assert rows(module_db, "early-flags")[-1] == -3.0


def test_otp_agent_push(module_db, server, tokens, janine):
    secrets = {"pulse": tokens.pulse, "janine": janine}

    def push(metric: str, typed: str) -> tuple[bool, str]:
        env = {"OTP_URL": server.url, "OTP_TOKEN": secrets[HOLDER_OF[metric][0]]}
        done = otp_process("agent", "push", metric, typed, env=env)
        assert done.returncode in (0, 2), done.stderr
        return done.returncode == 0, done.stdout + done.stderr

    check_every_case(module_db, push)


def test_http_api(module_db, server, tokens, janine):
    secrets = {"pulse": tokens.pulse, "janine": janine}

    def post(who: str, values: list[dict]) -> dict:
        r = httpx.post(
            f"{server.url}/api/v1/metrics/values",
            json={"values": values},
            headers={"Authorization": f"Bearer {secrets[who]}"},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        return r.json()

    def push(metric: str, typed: str) -> tuple[bool, str]:
        result = post(HOLDER_OF[metric][0], [{"metric": metric, "value": typed}])["results"][0]
        return result["outcome"] == "recorded", (result["error"] or {}).get("detail", "")

    check_every_case(module_db, push)

    # JSON numbers get the same checks, per value; the rest of the batch is recorded.
    before = rows(module_db, "payables-on-time")
    body = post(
        "janine",
        [
            {"metric": "payables-on-time", "value": 0.85},
            {"metric": "payables-on-time", "value": 97},
            {"metric": "ar-over-60", "value": 99999999999999999999999},
            {"metric": "payables-on-time", "value": "0.85%"},
        ],
    )
    assert [r["outcome"] for r in body["results"]] == ["error", "recorded", "error", "recorded"]
    assert "did you mean 85 %?" in body["results"][0]["error"]["detail"]
    assert "too large" in body["results"][2]["error"]["detail"]
    assert rows(module_db, "payables-on-time") == [*before, 97.0, 0.85]

    # A JSON number is read as sent, not through a float: more digits than kept are refused.
    raw = (
        '{"values": [{"metric": "early-flags", "value": 1.00000000000000000001}, '
        '{"metric": "early-flags", "value": 2.5}]}'
    )
    r = httpx.post(
        f"{server.url}/api/v1/metrics/values",
        content=raw,
        timeout=60,
        headers={"Authorization": f"Bearer {tokens.pulse}", "Content-Type": "application/json"},
    )
    results = r.json()["results"]
    assert [x["outcome"] for x in results] == ["error", "recorded"] and "more digits" in results[0]["error"]["detail"]
    r = httpx.post(
        f"{server.url}/api/v1/metrics/values",
        timeout=60,
        content='{"values": [{"metric": "early-flags", "value": NaN}]}',
        headers={"Authorization": f"Bearer {tokens.pulse}", "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and "NaN is not a JSON number" in r.text, r.text


def explained(error: dict | None) -> str:
    """A value's error as the tool answers it (the API's shape): what was wrong, and the hint."""
    if error is None:
        return ""
    return error["detail"] + (f". Hint: {error['hint']}" if error["hint"] else "")


def test_mcp_tool(module_db, tokens, janine):
    results: list[tuple[bool, str]] = []

    async def every_case(agent: Agent) -> None:  # one session: an admin token pushes to both seats
        for metric, typed, _ in TESTER:
            result = (await agent.call("push_metric_values", values=[{"metric": metric, "value": typed}]))["results"][0]
            results.append((result["outcome"] == "recorded", explained(result["error"])))

    before = {m: rows(module_db, m) for m in HOLDER_OF}
    session_with(module_db, tokens.admin, every_case)
    replies = iter(results)
    check_every_case_after(module_db, before, replies)

    async def numbers(agent: Agent) -> dict:
        return await agent.call(
            "push_metric_values",
            values=[
                {"metric": "payables-on-time", "value": 0.85},
                {"metric": "payables-on-time", "value": 96},
                {"metric": "ar-over-60", "value": 99999999999999999999999},
            ],
        )

    before_numbers = rows(module_db, "payables-on-time")
    body = session_with(module_db, janine, numbers)
    assert [r["outcome"] for r in body["results"]] == ["error", "recorded", "error"], json.dumps(body)
    assert "did you mean 85 %?" in explained(body["results"][0]["error"])
    assert "too large" in explained(body["results"][2]["error"])
    assert rows(module_db, "payables-on-time") == [*before_numbers, 96.0]


def check_every_case_after(db: Database, before: dict[str, list[float]], replies) -> None:
    """As check_every_case, for pushes already made in order: the rows each metric gained."""
    gained = {m: rows(db, m)[len(before[m]) :] for m in before}
    for metric, typed, expected in TESTER:
        ok, said = next(replies)
        if isinstance(expected, Decimal):
            assert ok, (typed, said)
            assert Decimal(repr(gained[metric].pop(0))) == expected, typed
        else:
            assert not ok and expected in said, (typed, said)
    assert all(not left for left in gained.values()), gained  # no refusal recorded anything
