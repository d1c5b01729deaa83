"""`otp mcp` driven by the official MCP client over stdio, as an LLM host would drive it,
against a store holding the example org; and the same tools over HTTP at /mcp in `otp serve`.

Each agent gets a real API token (created here, in the test process); the server runs in
a subprocess and finds the store through OTP_DATABASE_URL, the token through OTP_TOKEN."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from sqlalchemy import func, select

from otp_bot.store.db import Database
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents import tokens
from otp_bot.store.domain.gate import drafts
from otp_bot.store.models import MetricValue

from .serve import OTP

TOOLS = {
    "who_owns",
    "get_chart",
    "get_seat",
    "list_my_metrics",
    "push_metric_values",
    "submit_draft",
    "get_draft",
    "set_flag",
    "list_flags",
    "send_message",
    "read_inbox",
    "get_thread",
    "get_briefing",
    "search_rules",
}


@pytest.fixture(scope="module")
def store(module_db) -> Database:
    """One example store for the module: every test uses its own subjects, so none sees another's."""
    return module_db


def token_for(db: Database, holder: str | None, **kw: Any) -> str:
    with db.session() as s:
        return tokens.create_token(s, Actor.cli_operator(), holder_id=holder, **kw).secret


@pytest.fixture(scope="module")
def agents(store) -> dict[str, str]:
    every_seat = ["retention", "sales", "analytics", "call-center", "projects", "prospecting", "inbox"]
    return {
        "pulse": token_for(store, "pulse"),
        "dirk": token_for(store, "dirk"),
        "tally": token_for(store, "tally", push_seats=every_seat),
        "bogdan": token_for(store, "bogdan"),
        "admin": token_for(store, None, admin=True),
    }


class Agent:
    """One MCP session: call tools, read their JSON, see their errors."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session

    async def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await self.session.call_tool(tool, arguments)
        assert not result.is_error, f"{tool}: {result.content[0].text}"
        assert result.structured_content is not None
        # The same JSON as text, for hosts that read only text content.
        assert json.loads(result.content[0].text) == result.structured_content
        return result.structured_content

    async def error(self, tool: str, **arguments: Any) -> str:
        result = await self.session.call_tool(tool, arguments)
        assert result.is_error, f"{tool} should have failed: {result.content}"
        return result.content[0].text


def session_with(db: Database, token: str | None, scenario: Callable[[Agent], Awaitable[Any]]) -> Any:
    """Start `otp mcp` with this token, run the scenario in one session, return what it returns."""
    env = {"OTP_DATABASE_URL": db.url, "OTP_LOG_LEVEL": "WARNING"}
    if token is not None:
        env["OTP_TOKEN"] = token

    async def main() -> Any:
        with tempfile.TemporaryFile("w+") as errlog:
            params = StdioServerParameters(command=OTP, args=["mcp"], env=env)
            try:
                async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                    init = await session.initialize()
                    assert "get_briefing" in (init.instructions or "")
                    result = await scenario(Agent(session))
            except Exception as exc:  # the server's own account of it helps more
                errlog.seek(0)
                raise AssertionError(f"the MCP session failed; the server said:\n{errlog.read()}") from exc
            errlog.seek(0)
            logged = errlog.read()
            assert "Traceback" not in logged and "otp_" not in logged, logged  # no crash, no token in the log
            return result

    return anyio.run(main)


# ------------------------------------------------------------------------- the tools and who may call them


def test_every_tool_is_listed_with_a_description_and_a_schema(store, agents):
    async def scenario(agent: Agent) -> list:
        return (await agent.session.list_tools()).tools

    listed = {t.name: t for t in session_with(store, agents["pulse"], scenario)}
    assert set(listed) == TOOLS
    for tool in listed.values():
        assert len(tool.description or "") > 60, tool.name
        assert tool.input_schema["type"] == "object" and "ctx" not in tool.input_schema.get("properties", {})
    push = listed["push_metric_values"].input_schema
    assert push["properties"]["values"]["maxItems"] == 5000
    assert set(push["$defs"]["ValueIn"]["required"]) == {"metric", "value"}
    assert listed["send_message"].input_schema["properties"]["performative"]["enum"] == [
        "REQUEST",
        "INFORM",
        "PROPOSAL",
        "RESPONSE",
    ]
    assert listed["get_briefing"].annotations.read_only_hint is True
    assert listed["submit_draft"].annotations.read_only_hint is False


def test_without_a_valid_token_every_tool_says_why(store, agents):
    async def scenario(agent: Agent) -> list[str]:
        return [await agent.error(tool) for tool in ("get_briefing", "list_flags", "get_chart")]

    for said in session_with(store, None, scenario):
        assert "no API token: set OTP_TOKEN" in said and "otp token create" in said
    for said in session_with(store, "otp_not-a-real-token", scenario):
        assert "not valid (unknown or revoked)" in said
    for said in session_with(store, "xoxb-looks-like-slack", scenario):
        assert "a valid API token is required" in said


def test_a_token_revoked_mid_session_stops_at_the_next_call(store):
    secret = token_for(store, "crystal")

    async def scenario(agent: Agent) -> str:
        assert (await agent.call("get_briefing"))["seats"][0]["id"] == "projects"
        with store.session() as s:
            tokens.revoke_token(s, Actor.cli_operator(), secret[:12])
        return await agent.error("get_briefing")

    assert "revoked" in session_with(store, secret, scenario)


def test_reading_the_chart(store, agents):
    async def scenario(agent: Agent) -> None:
        owner = await agent.call("who_owns", topic="churn")
        assert owner["seat"]["id"] == "retention" and owner["seat"]["holder"]["name"] == "Pulse"
        assert owner["seat"]["accountable"]["id"] == "bogdan"
        assert (await agent.call("who_owns", topic="pizza oven"))["seat"] is None
        chart = await agent.call("get_chart")
        assert chart["org"]["name"] == "Acme Agency" and len(chart["seats"]) == 15 and not chart["truncated"]
        below = await agent.call("get_chart", below="sales")
        assert [s["id"] for s in below["seats"]] == ["sales", "prospecting"]
        seat = await agent.call("get_seat", seat="kpi")
        assert seat["holder"]["id"] == "tally" and {m["id"] for m in seat["metrics"]} == {
            "kpi-pushes",
            "kpi-stale-metrics",
        }
        assert "there is no seat `slaes`. Hint: did you mean `sales`?" in await agent.error("get_seat", seat="slaes")
        assert "no seat" in await agent.error("get_chart", below="nowhere")
        assert "validation error" in await agent.error("who_owns", topic="")

    session_with(store, agents["dirk"], scenario)


# ------------------------------------------------------------------------- agents doing their whole job


def test_pulse_flags_a_client_submits_a_draft_and_reads_it_back(store, agents):
    async def scenario(agent: Agent) -> dict:
        flag = await agent.call("set_flag", subject="client:acme", flag="at-risk", reason="usage down 40%", until="7d")
        assert flag["created"] and flag["flag"]["seat"] == "retention" and flag["flag"]["holds"] == ["retention-wins"]
        again = await agent.call("set_flag", subject="client:acme", flag="at-risk", reason="usage down 45%")
        assert not again["created"] and again["flag"]["reason"] == "usage down 45%"
        submitted = await agent.call(
            "submit_draft",
            seat="retention",
            kind="retention-outreach",
            subject="client:acme",
            title="Check in with Acme",
            body="Hi Jo, we noticed fewer leads...",
            key="acme-1",
        )
        draft = submitted["draft"]
        assert submitted["created"] and draft["status"] == "pending" and "Bogdan" in draft["outcome"]
        retry = await agent.call(
            "submit_draft",
            seat="retention",
            kind="retention-outreach",
            subject="client:acme",
            title="Check in with Acme",
            body="Hi Jo, we noticed fewer leads...",
            key="acme-1",
        )
        assert not retry["created"] and retry["draft"]["id"] == draft["id"]
        read = await agent.call("get_draft", draft_id=draft["id"])
        assert read["status"] == "pending" and read["body"].startswith("Hi Jo") and read["final_text"] is None

        # Bogdan approves with an edit; Pulse reads the outcome and the final text.
        with store.session() as s:
            drafts.decide(
                s, Actor(label="Bogdan", holder_id="bogdan"), draft["id"], "approve", edited_body="Hi Jo, checking in."
            )
        decided = await agent.call("get_draft", draft_id=draft["id"])
        assert decided["status"] == "approved" and decided["edited"] and decided["final_text"] == "Hi Jo, checking in."

        briefing = await agent.call("get_briefing")
        assert [s["id"] for s in briefing["seats"]] == ["retention"]
        assert any(f["subject"] == "client:acme" and f["flag"] == "at-risk" for f in briefing["flags"])
        # Another seat's draft is not Pulse's to read, and nobody drafts for a seat they do not hold.
        assert "you hold" in await agent.error(
            "submit_draft", seat="sales", kind="expansion", subject="client:acme", title="t", body="b"
        )
        # Approved text is never sent to this machine or the private network (no OTP_CALLBACK_ALLOW here).
        refused = await agent.error(
            "submit_draft",
            seat="retention",
            kind="retention-outreach",
            subject="client:acme",
            title="t",
            body="b",
            destination="http://169.254.169.254/latest/meta-data",
        )
        assert "callback target 169.254.169.254 is a link-local address" in refused and "OTP_CALLBACK_ALLOW" in refused
        assert "you do not hold seat `sales`" in await agent.error(
            "set_flag", subject="client:x", flag="hot", seat="sales"
        )
        assert "no draft #999999" in await agent.error("get_draft", draft_id=999999)
        assert "validation error" in await agent.error("get_draft", draft_id=0)
        return draft

    session_with(store, agents["pulse"], scenario)


def test_dirk_checks_the_flags_before_an_expansion_draft_and_it_is_held(store, agents):
    async def pulse(agent: Agent) -> None:
        await agent.call("set_flag", subject="client:globex", flag="at-risk", reason="two missed calls")

    session_with(store, agents["pulse"], pulse)

    async def dirk(agent: Agent) -> int:
        flags = (await agent.call("list_flags", subject="client:globex"))["flags"]
        assert [(f["flag"], f["seat"], f["holds"]) for f in flags] == [("at-risk", "retention", ["retention-wins"])]
        assert all(f["subject"] == "client:globex" for f in flags)
        assert (await agent.call("list_flags", subject="client:nobody"))["flags"] == []
        # Dirk drafts anyway: the policy holds it, and says why.
        done = await agent.call(
            "submit_draft",
            seat="sales",
            kind="expansion",
            subject="client:globex",
            title="Upsell Globex",
            body="Globex could double its spend.",
        )
        draft = done["draft"]
        assert draft["status"] == "held" and "client:globex is flagged at-risk" in draft["hold_reason"]
        briefing = await agent.call("get_briefing")
        assert [d["id"] for d in briefing["drafts_held"]] == [draft["id"]]
        assert briefing["drafts_held"][0]["hold_reason"] == draft["hold_reason"]
        return draft["id"]

    held = session_with(store, agents["dirk"], dirk)

    async def pulse_reads(agent: Agent) -> str:
        return await agent.error("get_draft", draft_id=held)

    assert "you can read only the drafts of seats you hold" in session_with(store, agents["pulse"], pulse_reads)


def test_tally_pushes_values_for_every_seat_it_is_granted(store, agents):
    async def scenario(agent: Agent) -> None:
        mine = {m["id"] for m in (await agent.call("list_my_metrics"))["metrics"]}
        assert {"kpi-pushes", "early-flags", "deals-won", "appointment-rate"} <= mine and "mrr" not in mine
        batch = [
            {"metric": "early-flags", "value": 4, "key": "t-1"},
            {"metric": "appointment-rate", "value": "31.5%", "key": "t-2"},
            {"metric": "kpi-pushes", "value": 3, "period": "last", "note": "catch-up"},
            {"metric": "deals-won", "value": "lots"},
            {"metric": "close-rate", "value": 50},
        ]
        pushed = await agent.call("push_metric_values", values=batch)
        assert (pushed["recorded"], pushed["duplicates"], pushed["errors"]) == (3, 0, 2)
        first, second, _, bad, computed = pushed["results"]
        assert first["outcome"] == "recorded" and first["on_track"] is True and first["period_label"].count("-W") == 1
        assert second["value"] == 31.5 and second["on_track"] is True
        assert bad["outcome"] == "error" and "lots" in bad["error"]
        assert "computed" in computed["error"]
        again = await agent.call("push_metric_values", values=batch[:2])
        assert (again["recorded"], again["duplicates"]) == (0, 2)
        # A metric of a seat Tally may not push to: refused whole, nothing recorded.
        with store.session(readonly=True) as s:
            before = s.scalar(select(func.count()).select_from(MetricValue))
        said = await agent.error(
            "push_metric_values", values=[{"metric": "kpi-pushes", "value": 1}, {"metric": "mrr", "value": 190000}]
        )
        assert "`mrr` belongs to seat `ceo`" in said
        with store.session(readonly=True) as s:
            assert s.scalar(select(func.count()).select_from(MetricValue)) == before
        assert "validation error" in await agent.error("push_metric_values", values=[])
        assert "Extra inputs" in await agent.error(
            "push_metric_values", values=[{"metric": "kpi-pushes", "value": 1, "perod": "2026-W01"}]
        )

    session_with(store, agents["tally"], scenario)


def test_another_seats_metric_is_a_tool_error(store, agents):
    async def scenario(agent: Agent) -> str:
        return await agent.error("push_metric_values", values=[{"metric": "deals-won", "value": 2}])

    said = session_with(store, agents["pulse"], scenario)
    assert "`deals-won` belongs to seat `sales`, held by Dirk" in said


def test_two_agents_talk_through_the_bus(store, agents):
    async def dirk_asks(agent: Agent) -> int:
        sent = await agent.call(
            "send_message",
            performative="REQUEST",
            to_seat="retention",
            subject="Initech?",
            body="Is Initech safe for an expansion pitch?",
            deadline="2d",
        )
        message = sent["message"]
        assert sent["created"] and message["from"]["id"] == "sales" and message["deadline"]
        assert "only a REQUEST has a deadline" in await agent.error(
            "send_message", performative="INFORM", to_seat="retention", body="b", subject="s", deadline="2d"
        )
        assert "no seat `retentoin`" in await agent.error(
            "send_message", performative="INFORM", to_seat="retentoin", body="b", subject="s"
        )
        assert "you cannot read it" in await agent.error("read_inbox", seat="retention")
        return message["id"]

    asked = session_with(store, agents["dirk"], dirk_asks)

    async def pulse_answers(agent: Agent) -> None:
        inbox = await agent.call("read_inbox")
        assert inbox["seat"]["id"] == "retention" and [m["id"] for m in inbox["messages"]] == [asked]
        assert inbox["marked_read"] == 1 and inbox["messages"][0]["status"] == "unread"
        assert (await agent.call("read_inbox", status="unread"))["messages"] == []
        answer = await agent.call(
            "send_message", performative="RESPONSE", in_reply_to=asked, body="Yes: Initech is healthy."
        )
        assert answer["answered"] == asked and answer["message"]["to"]["id"] == "sales"
        thread = (await agent.call("get_thread", message_id=asked))["messages"]
        assert [m["performative"] for m in thread] == ["REQUEST", "RESPONSE"]
        assert "not a cursor" in await agent.error("read_inbox", cursor="abc")

    session_with(store, agents["pulse"], pulse_answers)

    async def dirk_reads(agent: Agent) -> None:
        inbox = await agent.call("read_inbox", seat="sales", mark_read=False)
        assert inbox["messages"][0]["subject"] == "Re: Initech?" and inbox["marked_read"] == 0

    session_with(store, agents["dirk"], dirk_reads)

    async def bogdan_reads(agent: Agent) -> None:
        # Bogdan is accountable for retention: he may read its inbox, and reading it marks nothing.
        inbox = await agent.call("read_inbox", seat="retention", status="all")
        assert asked in [m["id"] for m in inbox["messages"]] and inbox["marked_read"] == 0

    session_with(store, agents["bogdan"], bogdan_reads)


def test_an_admin_token_acts_as_an_operator(store, agents):
    async def scenario(agent: Agent) -> None:
        briefing = await agent.call("get_briefing")
        assert len(briefing["seats"]) == 15
        sent = await agent.call(
            "send_message",
            performative="INFORM",
            from_seat="coo",
            to_seat="kpi",
            subject="Reminder",
            body="Push before noon.",
        )
        assert sent["message"]["sent_by"].startswith("operator:")
        assert "name the seat whose inbox" in await agent.error("read_inbox")

    session_with(store, agents["admin"], scenario)


# ------------------------------------------------------------------------- over HTTP, in `otp serve`


def test_the_same_tools_over_http_in_otp_serve(store, agents, api):
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    from .serve import Server

    server = Server(store, api)

    async def connect(token: str, scenario: Callable[[Agent], Awaitable[Any]]) -> Any:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
            streamable_http_client(f"{server.url}/mcp", http_client=http) as (read, write, *_),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await scenario(Agent(session))

    async def dirk(agent: Agent) -> None:
        assert {t.name for t in (await agent.session.list_tools()).tools} == TOOLS
        assert [s["id"] for s in (await agent.call("get_briefing"))["seats"]] == ["sales"]
        assert "you do not hold" in await agent.error("set_flag", subject="client:x", flag="hot", seat="retention")
        assert "10.0.0.1 is a private address" in await agent.error(
            "submit_draft",
            seat="sales",
            kind="expansion",
            subject="client:acme",
            title="t",
            body="b",
            destination="http://10.0.0.1/hook",
        )

    try:
        anyio.run(connect, agents["dirk"], dirk)
        # No token, a bad one, or a revoked one: 401 before MCP sees the request.
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        secret = token_for(store, "nick")
        with store.session() as s:
            tokens.revoke_token(s, Actor.cli_operator(), secret[:12])
        for auth in (
            {},
            {"Authorization": "Bearer otp_nope"},
            {"Authorization": "Basic abc"},
            {"Authorization": f"Bearer {secret}"},
        ):
            r = httpx2.post(f"{server.url}/mcp", content=body, headers=headers | auth)
            assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
            assert r.json()["code"] == "unauthenticated" and "Bearer" in r.headers["www-authenticate"]
        assert "revoked" in r.json()["detail"]
    finally:
        output = server.stop()
    assert "Traceback" not in output, output
