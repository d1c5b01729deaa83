"""`otp mcp` over stdio on the example org: two agents talking through the bus, an admin token
acting as an operator; and the same tools over HTTP at /mcp in `otp serve`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp import ClientSession

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents import tokens
from tests.support.mcp import TOOLS, Agent, session_with, token_for


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

    from tests.support.serve import Server

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
