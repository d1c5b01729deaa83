"""`otp mcp` over stdio, as the protocol intends: every tool declares its output and answers in it,
the record is readable as resources and prompts, and an agent follows its draft to the decision
(waiting for it, withdrawing it, lifting the flag that holds another's) without polling."""

from __future__ import annotations

import threading
import time
import uuid

import jsonschema
import pytest
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import INVALID_PARAMS

from otp_bot.store.domain.gate.learnings import learnings
from tests.support.agents import decide
from tests.support.mcp import TOOLS, Agent, session_with

RESOURCES = {"otp://chart", "otp://briefing", "otp://review"}
TEMPLATES = {
    "otp://seat/{seat}",
    "otp://seat/{seat}/rules",
    "otp://seat/{seat}/ledger",
    "otp://seat/{seat}/learnings",
    "otp://drafts/{draft_id}",
}


def subject() -> str:
    return f"client:{uuid.uuid4().hex[:8]}"


async def draft(agent: Agent, subject: str = "client:acme", **fields: str) -> int:
    fields = {"seat": "retention", "kind": "retention-outreach", "title": "Check in", "body": "Hi Jo"} | fields
    return (await agent.call("submit_draft", subject=subject, **fields))["draft"]["id"]


async def refused_read(agent: Agent, uri: str) -> str:
    with pytest.raises(MCPError) as refused:
        await agent.session.read_resource(uri)
    assert refused.value.error.code == INVALID_PARAMS, refused.value.error  # the client's mistake, not the server's
    return refused.value.error.message


async def refused_prompt(agent: Agent, name: str, **arguments: str) -> str:
    try:
        await agent.session.get_prompt(name, arguments)
    except MCPError as exc:
        return exc.error.message
    raise AssertionError(f"{name} should have been refused")


def test_every_tool_declares_its_output_and_resources_and_prompts_are_listed(store, agents):
    async def scenario(agent: Agent) -> tuple:
        s = agent.session
        return (
            (await s.list_tools()).tools,
            (await s.list_resources()).resources,
            (await s.list_resource_templates()).resource_templates,
            (await s.list_prompts()).prompts,
        )

    tools, resources, templates, prompts = session_with(store, agents["pulse"], scenario)
    assert {t.name for t in tools} == TOOLS
    for tool in tools:
        schema = tool.output_schema
        assert schema and schema["type"] == "object" and schema["properties"], tool.name
        jsonschema.Draft202012Validator.check_schema(schema)
    by_name = {t.name: t for t in tools}
    assert set(by_name["wait_for_decision"].output_schema["required"]) == {"changed", "timed_out", "draft"}
    assert by_name["wait_for_decision"].input_schema["properties"]["timeout"]["maximum"] == 60
    assert "from" in by_name["send_message"].output_schema["$defs"]["Message"]["properties"]
    assert by_name["withdraw_draft"].annotations.read_only_hint is False
    assert by_name["list_my_drafts"].annotations.read_only_hint is True

    assert {r.uri for r in resources} == RESOURCES
    assert {t.uri_template for t in templates} == TEMPLATES
    for listed in [*resources, *templates]:
        assert listed.mime_type == "application/json" and len(listed.description or "") > 30, listed
    assert {p.name: [(a.name, a.required) for a in p.arguments] for p in prompts} == {
        "draft_for_approval": [("seat", True), ("kind", True), ("subject", True)],
        "weekly_review": [("seat", False)],
    }


def test_resources_are_read_as_the_token_with_the_tools_rights(store, agents):
    async def pulse(agent: Agent) -> int:
        chart = await agent.read("otp://chart")
        assert chart == await agent.call("get_chart")
        assert chart["org"]["name"] == "Acme Agency" and len(chart["seats"]) == 15
        briefing = await agent.read("otp://briefing")
        assert [s["id"] for s in briefing["seats"]] == ["retention"] and "unread_messages" in briefing
        seat = await agent.read("otp://seat/retention")
        assert seat == await agent.call("get_seat", seat="retention") and seat["holder"]["name"] == "Pulse"
        assert (await agent.read("otp://seat/retention/rules"))["seat"] == "retention"
        ledger = await agent.read("otp://seat/retention/ledger")
        assert ledger["seat"] == "retention" and "approval_rate" in ledger["total"]
        assert (await agent.read("otp://seat/retention/learnings"))["seat"] == "retention"
        own = await draft(agent, subject())
        read = await agent.read(f"otp://drafts/{own}")
        assert read == await agent.call("get_draft", draft_id=own) and read["status"] == "pending"
        assert "there is no seat `nowhere`" in await refused_read(agent, "otp://seat/nowhere")
        assert "no draft #999999" in await refused_read(agent, "otp://drafts/999999")
        return own

    own = session_with(store, agents["pulse"], pulse)

    async def dirk(agent: Agent) -> None:
        assert [s["id"] for s in (await agent.read("otp://briefing"))["seats"]] == ["sales"]
        said = await refused_read(agent, f"otp://drafts/{own}")
        assert "you can read only the drafts of seats you hold" in said
        for uri in ("otp://seat/retention/ledger", "otp://seat/retention/learnings"):  # another agent's record
            assert "retention" in await refused_read(agent, uri)

    session_with(store, agents["dirk"], dirk)

    async def nobody(agent: Agent) -> list[str]:
        return [await refused_read(agent, uri) for uri in ("otp://chart", "otp://briefing", f"otp://drafts/{own}")]

    for said in session_with(store, None, nobody):
        assert "no API token" in said


def test_wait_for_decision_answers_when_a_person_decides_and_times_out_cleanly(store, agents):
    async def scenario(agent: Agent) -> int:
        draft_id = await draft(agent, subject())
        decider = threading.Timer(1.0, decide, args=(store, draft_id, "approve"), kwargs={"edited_body": "Hi Jo!"})
        decider.start()
        t0 = time.monotonic()
        waited = await agent.call("wait_for_decision", draft_id=draft_id, timeout=30)
        took = time.monotonic() - t0
        decider.join()
        assert waited["changed"] and not waited["timed_out"] and 0.8 < took < 10, (waited, took)
        assert waited["draft"]["status"] == "approved" and waited["draft"]["final_text"] == "Hi Jo!"
        # Decided already: answered at once, unchanged.
        t0 = time.monotonic()
        again = await agent.call("wait_for_decision", draft_id=draft_id, timeout=30)
        assert time.monotonic() - t0 < 5 and not again["changed"] and not again["timed_out"]

        # A rejection comes back with its reason.
        rejected = await draft(agent, subject())
        threading.Timer(0.5, decide, args=(store, rejected, "reject"), kwargs={"reason": "Too pushy"}).start()
        waited = await agent.call("wait_for_decision", draft_id=rejected, timeout=30)
        assert waited["changed"] and waited["draft"]["rejection_reason"] == "Too pushy"

        # Nobody decides: it times out with the draft as it was.
        quiet = await draft(agent, subject())
        t0 = time.monotonic()
        waited = await agent.call("wait_for_decision", draft_id=quiet, timeout=1.2)
        took = time.monotonic() - t0
        assert waited["timed_out"] and not waited["changed"] and waited["draft"]["status"] == "pending"
        assert 1.1 < took < 5
        assert "validation error" in await agent.error("wait_for_decision", draft_id=quiet, timeout=61)
        assert "no draft #999999" in await agent.error("wait_for_decision", draft_id=999999, timeout=1)
        return quiet

    quiet = session_with(store, agents["pulse"], scenario)

    async def dirk(agent: Agent) -> str:
        return await agent.error("wait_for_decision", draft_id=quiet, timeout=1)

    assert "you can read only the drafts of seats you hold" in session_with(store, agents["dirk"], dirk)


def test_withdraw_a_draft_and_the_refusals(store, agents):
    async def pulse(agent: Agent) -> int:
        gone = await draft(agent, subject())
        withdrawn = await agent.call("withdraw_draft", draft_id=gone)
        assert withdrawn["status"] == "withdrawn" and withdrawn["id"] == gone
        assert "was already withdrawn" in await agent.error("withdraw_draft", draft_id=gone)
        decided = await draft(agent, subject())
        decide(store, decided, "approve")
        assert "was already approved" in await agent.error("withdraw_draft", draft_id=decided)
        assert (await agent.call("get_draft", draft_id=decided))["status"] == "approved"  # nothing changed
        return await draft(agent, subject())

    pending = session_with(store, agents["pulse"], pulse)

    async def dirk(agent: Agent) -> str:
        return await agent.error("withdraw_draft", draft_id=pending)

    assert "only the drafter of" in session_with(store, agents["dirk"], dirk)

    async def pulse_again(agent: Agent) -> None:
        assert (await agent.call("get_draft", draft_id=pending))["status"] == "pending"  # untouched

    session_with(store, agents["pulse"], pulse_again)


def test_lift_a_flag_releases_what_it_held_and_only_its_seat_may(store, agents):
    on = subject()

    async def pulse_flags(agent: Agent) -> None:
        await agent.call("set_flag", subject=on, flag="at-risk", reason="usage down")

    session_with(store, agents["pulse"], pulse_flags)

    async def dirk(agent: Agent) -> int:
        held = await draft(agent, on, seat="sales", kind="expansion", title="Upsell")
        assert (await agent.call("get_draft", draft_id=held))["status"] == "held"
        said = await agent.error("lift_flag", subject=on, flag="at-risk")
        assert "only the holder of the flagging seat (retention)" in said
        assert [f["flag"] for f in (await agent.call("list_flags", subject=on))["flags"]] == ["at-risk"]
        return held

    held = session_with(store, agents["dirk"], dirk)

    async def pulse_lifts(agent: Agent) -> None:
        lifted = await agent.call("lift_flag", subject=on, flag="at-risk")
        assert lifted["flag"]["subject"] == on and not lifted["created"]
        assert [(d["id"], d["status"]) for d in lifted["released"]] == [(held, "pending")]
        assert f"{on} is not flagged at-risk" in await agent.error("lift_flag", subject=on, flag="at-risk")
        assert (await agent.call("list_flags", subject=on))["flags"] == []

    session_with(store, agents["pulse"], pulse_lifts)


def test_list_my_drafts_shows_only_the_callers(store, agents):
    async def pulse(agent: Agent) -> tuple[int, int]:
        first, second = await draft(agent, subject()), await draft(agent, subject())
        await agent.call("withdraw_draft", draft_id=first)
        listed = (await agent.call("list_my_drafts", limit=100))["drafts"]
        assert [d["id"] for d in listed[:2]] == [second, first]  # newest first
        assert {d["seat"] for d in listed} == {"retention"}
        withdrawn = (await agent.call("list_my_drafts", status="withdrawn", limit=100))["drafts"]
        assert first in [d["id"] for d in withdrawn] and {d["status"] for d in withdrawn} == {"withdrawn"}
        assert len((await agent.call("list_my_drafts", limit=1))["drafts"]) == 1
        assert "`later` is not a draft status" in await agent.error("list_my_drafts", status="later")
        assert "validation error" in await agent.error("list_my_drafts", limit=0)
        return first, second

    first, second = session_with(store, agents["pulse"], pulse)

    async def dirk(agent: Agent) -> list[int]:
        return [d["id"] for d in (await agent.call("list_my_drafts", limit=100))["drafts"]]

    assert not {first, second} & set(session_with(store, agents["dirk"], dirk))


def test_the_draft_for_approval_prompt_brings_rules_rejections_and_flags(store, agents):
    on = subject()
    kind = f"winback-{uuid.uuid4().hex[:6]}"

    async def pulse(agent: Agent) -> str:
        rejected = await draft(agent, on, kind=kind, title="Win them back")
        decide(store, rejected, "reject", reason="Too pushy: no discount talk")
        edited = await draft(agent, on, kind=kind, title="Second try")
        decide(store, edited, "approve", edited_body="Hi, shall we talk about May?")
        other = await draft(agent, on, kind="retention-outreach", title="Other kind")
        decide(store, other, "reject", reason="Wrong tone")
        await agent.call("set_flag", subject=on, flag="churn-risk", reason="contract ends in May")
        got = await agent.session.get_prompt("draft_for_approval", {"seat": "retention", "kind": kind, "subject": on})
        assert len(got.messages) == 1 and got.messages[0].role == "user"
        text = got.messages[0].content.text
        assert f'#{rejected} "Win them back"' in text and "Too pushy: no discount talk" in text
        assert "rejected by Bogdan" in text and "Wrong tone" not in text  # another kind's rejection
        assert f'#{edited} "Second try"' in text and "+Hi, shall we talk about May?" in text  # the edit as a diff
        assert "## What people asked to change" in text and "None lately." in text
        assert "`churn-risk` set by seat `retention` (Pulse): contract ends in May" in text
        assert "The org's operating rules for this seat" in text and "wait_for_decision" in text
        assert "there is no seat `nowhere`" in await refused_prompt(
            agent, "draft_for_approval", seat="nowhere", kind=kind, subject=on
        )
        assert "not a draft kind" in await refused_prompt(
            agent, "draft_for_approval", seat="retention", kind="Not A Kind", subject=on
        )
        return text

    session_with(store, agents["pulse"], pulse)
    with store.session(readonly=True) as s:
        assert [r.reason for r in learnings(s, "retention", kind=kind).rejections] == ["Too pushy: no discount talk"]

    async def dirk(agent: Agent) -> str:
        return await refused_prompt(agent, "draft_for_approval", seat="retention", kind=kind, subject=on)

    assert "seat `retention` is held by Pulse; you can prepare only for seats you hold" in session_with(
        store, agents["dirk"], dirk
    )


def test_the_weekly_review_prompt_frames_the_scorecard_and_the_briefing(store, agents):
    async def tally(agent: Agent) -> str:
        got = await agent.session.get_prompt("weekly_review", {})
        text = got.messages[0].content.text
        assert text.startswith("Review the week for") and "(`kpi`)" in text
        assert "## Scorecard" in text and "(`kpi-pushes`, goal" in text and "## Off track" in text
        assert "Write the review" in text
        assert (await agent.session.get_prompt("weekly_review", {"seat": "kpi"})).messages[0].content.text == text
        assert "you can prepare only for seats you hold" in await refused_prompt(agent, "weekly_review", seat="sales")
        assert "there is no seat `nowhere`" in await refused_prompt(agent, "weekly_review", seat="nowhere")
        return text

    session_with(store, agents["tally"], tally)
