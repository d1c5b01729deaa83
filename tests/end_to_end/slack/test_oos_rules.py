"""The org's operating rules (OTP's claims) where people read them: `/otp rules [topic]` and
`/otp seat`, through `otp serve` answering slash commands signed as Slack signs them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from mcp.shared.exceptions import MCPError

from otp_bot.store.db import Database
from tests.support.cli import otp
from tests.support.mcp import Agent, session_with, token_for
from tests.support.paths import DATA

FIXTURES = DATA / "oos"
OWNER = "U0OWNER01"  # the dental group's Practice Owner


@pytest.fixture(scope="module")
def dental(templates) -> Iterator[Database]:
    """The dental group's chart, then its claims file merged in."""
    from tests.support.stores import cloned_store

    store = cloned_store(templates, "empty")
    db = next(store)
    for name in ("dental-group.oos.json", "dental-claims.oos.md"):
        assert otp(db, "chart", "import", str(FIXTURES / name)).returncode == 0
    yield db
    store.close()


@pytest.fixture(scope="module")
def server_db(dental):
    return dental


def test_rules_about_a_topic_tolerate_plurals_and_typos(server):
    expected = (
        "*Rules about _fees_* (1):\n"
        "• *C001* core operating rules · HIGH · HUMAN_DEFINED_RULE: Patient retention drafts never quote a fee.\n"
        "    _Why:_ Fees are set by the Practice Owner.\n"
        "    _Failure mode:_ A patient is quoted an old rate and holds the practice to it.\n"
        "    _Scope:_ Every recall message. Internal notes may discuss fees.\n"
        "    _Seats:_ Patient retention"
    )
    _, payload = server.command("rules fees", user=OWNER)
    assert payload["text"].strip() == expected
    _, payload = server.command("rules about steriliztion?", user=OWNER)
    assert payload["text"].splitlines()[:2] == [
        "*Rules about _steriliztion_* (1):",
        "• *C005* sterilisation · HIGH · HUMAN_DEFINED_RULE: No tray is used before its cycle log is signed.",
    ]
    _, payload = server.command("rules front desk", user=OWNER)  # a seat's title finds the rules naming it
    assert payload["text"].splitlines()[1].startswith("• *C002* patient intake · MEDIUM · INFERENCE: The Front desk")


def test_all_rules_and_none_found(server):
    _, payload = server.command("rules", user=OWNER)
    lines = payload["text"].splitlines()
    assert lines[0] == "*The org's operating rules* (6):"
    assert [line.split(" ")[1] for line in lines if line.startswith("• ")] == [
        "*C001*",
        "*C002*",
        "*C003*",
        "*C004*",
        "*C005*",
        "*C006*",
    ]
    _, payload = server.command("rules xyz", user=OWNER)
    assert payload["text"].strip() == "No rule is about _xyz_ as far as the chart says. `/otp rules` lists them all."


def test_a_seat_shows_the_rules_naming_it(server):
    _, payload = server.command("seat front-desk", user=OWNER)
    assert (
        payload["text"]
        .split("\n\n*Trust ledger*")[0]  # an agent seat's trust ledger follows its rules
        .strip()
        .endswith(
            "*Rules naming this seat* (1):\n"
            "• *C002* The Front desk never gives clinical advice on the phone; it books an assessment instead."
        )
    )
    _, payload = server.command("seat treatment-sales", user=OWNER)
    assert "Rules naming this seat" not in payload["text"]


def test_a_chart_without_rules_says_where_they_come_from(example_db):
    result = otp(example_db, "ask", "rules")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "The chart has no rules yet: they come from the claims of an OTP OOS file (otp chart import FILE)."
    )


C002 = {
    "id": "C002",
    "section": "patient_intake",
    "rule": "The Front desk never gives clinical advice on the phone; it books an assessment instead.",
    "why": "Advice without an exam is a liability.",
    "failure_mode": "A caller acts on a guess and complains.",
    "confidence": "MEDIUM",
    "confidence_score": None,
    "evidence": "INFERENCE",
    "evidence_reference": None,
    "scope": "All inbound calls.",
    "seats": ["front-desk"],
}


def test_agents_read_their_seats_rules_over_mcp(dental):
    """The briefing carries the rules naming the agent's seats; a resource per seat; a search tool."""

    async def scenario(agent: Agent) -> tuple:
        briefing = await agent.call("get_briefing")
        found = await agent.call("search_rules", topic="clinical advise")
        resource = await agent.session.read_resource("otp://seat/front-desk/rules")
        try:
            await agent.session.read_resource("otp://seat/nowhere/rules")
        except MCPError as exc:
            missing = exc.error.message
        return briefing, found, resource, missing

    briefing, found, resource, missing = session_with(dental, token_for(dental, "molly"), scenario)
    assert briefing["rules"] == [C002]
    assert found == {"topic": "clinical advise", "rules": [C002]}
    assert json.loads(resource.contents[0].text) == {"seat": "front-desk", "rules": [C002]}
    assert resource.contents[0].mime_type == "application/json"
    assert missing.startswith("there is no seat `nowhere`")
