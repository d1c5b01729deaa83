"""MCP over HTTP at /mcp in `otp serve`: resources without a parameter are read as the request's
own token, and an agent waiting for its draft hears the decision a person clicks in Slack (a
change request included: it revises, and the revision is approved in the same message); a
server that begins to stop answers its waiters at once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.support.approvals import FAST, ask_changes, click, draft_row, posted, wait_until
from tests.support.mcp import TOOLS, Agent
from tests.support.serve import BOGDAN, Server


def connect(server: Server, token: str, scenario: Callable[[Agent], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=90) as http,
            streamable_http_client(f"{server.url}/mcp", http_client=http) as (read, write, *_),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await scenario(Agent(session))

    return anyio.run(main)


def recorded(store, api):
    """The approval message of a draft once the worker has recorded it: Slack answers the post
    before the worker writes the message down, and a click on an unrecorded message is refused."""

    def shown(draft_id: int):
        message = posted(api, draft_id)
        wait_until(lambda: draft_row(store, draft_id).messages, what=f"draft #{draft_id}'s message recorded")
        return message

    return shown


async def submit(agent: Agent, subject: str) -> int:
    done = await agent.call(
        "submit_draft", seat="retention", kind="retention-outreach", subject=subject, title="Check in", body="Hi Jo"
    )
    return done["draft"]["id"]


def test_over_http_resources_are_the_tokens_and_a_slack_click_ends_the_wait(store, agents, api):
    server = Server(store, api, env=FAST)
    shown = recorded(store, api)
    try:

        async def dirk(agent: Agent) -> None:
            assert {t.name for t in (await agent.session.list_tools()).tools} == TOOLS
            assert [s["id"] for s in (await agent.read("otp://briefing"))["seats"]] == ["sales"]
            assert len((await agent.read("otp://chart"))["seats"]) == 15
            assert (await agent.read("otp://seat/sales"))["holder"]["name"] == "Dirk"
            review = await agent.session.get_prompt("weekly_review", {})
            assert "(`sales`)" in review.messages[0].content.text

        connect(server, agents["dirk"], dirk)

        async def pulse(agent: Agent) -> dict:
            # The static resource is read as this request's token, not the previous one's.
            assert [s["id"] for s in (await agent.read("otp://briefing"))["seats"]] == ["retention"]
            draft_id = await submit(agent, "client:http-wait")
            clicked = threading.Thread(
                target=lambda: click(server, BOGDAN, "otp_draft_approve", draft_id, shown(draft_id))
            )
            clicked.start()
            t0 = time.monotonic()
            waited = await agent.call("wait_for_decision", draft_id=draft_id, timeout=30)
            clicked.join()
            assert time.monotonic() - t0 < 20
            return waited

        waited = connect(server, agents["pulse"], pulse)
        assert waited["changed"] and not waited["timed_out"]
        assert waited["draft"]["status"] == "approved" and waited["draft"]["outcome"].startswith("approved by Bogdan")
        assert [(d["name"], d["verdict"]) for d in waited["draft"]["decisions"]] == [("Bogdan", "approve")]
    finally:
        output = server.stop()
    assert "Traceback" not in output, output


def test_the_agent_waits_over_mcp_hears_a_change_request_revises_and_the_revision_goes_out_once(store, agents, api):
    server = Server(store, api, env=FAST)
    shown = recorded(store, api)
    out = "C0ACMESHARED"  # the approved text goes to the client's shared channel

    seen: dict = {}

    def in_slack(draft_id: int, then: str, text: str = "") -> None:
        if then == "ask":
            seen["message"] = shown(draft_id)
            ask_changes(server, api, BOGDAN, draft_id, seen["message"], text)
        else:  # the revision is on the same message: no new one is posted
            click(server, BOGDAN, "otp_draft_approve", draft_id, seen["message"])

    async def pulse(agent: Agent) -> tuple[dict, dict, dict]:
        first = await agent.call(
            "submit_draft", seat="retention", kind="retention-outreach", subject="client:mcp-loop",
            title="Check in", body="Hi Jo, can we help with the ads?", destination=out,
        )  # fmt: skip
        number = first["draft"]["id"]
        asking = threading.Thread(target=in_slack, args=(number, "ask", "Mention the *May* renewal <!here>"))
        asking.start()
        asked = await agent.call("wait_for_decision", draft_id=number, timeout=30)
        asking.join()
        request = asked["draft"]["change_requests"][-1]["text"]
        revised = await agent.call(
            "submit_draft", seat="retention", kind="retention-outreach", subject="client:mcp-loop",
            title="Check in", body=f"Hi Jo, with May's renewal near, can we help with the ads? ({request[:14]})",
            destination=out, revises=number,
        )  # fmt: skip
        approving = threading.Thread(target=in_slack, args=(revised["draft"]["id"], "approve"))
        approving.start()
        approved = await agent.call("wait_for_decision", draft_id=revised["draft"]["id"], timeout=30)
        approving.join()
        return asked, revised, approved

    try:
        asked, revised, approved = connect(server, agents["pulse"], pulse)
        assert asked["changed"] and asked["draft"]["status"] == "changes-requested"
        assert asked["draft"]["change_requests"][-1]["text"] == "Mention the *May* renewal <!here>"
        assert asked["draft"]["change_requests"][-1]["name"] == "Bogdan"
        assert revised["draft"]["revises"] == asked["draft"]["id"] and revised["draft"]["status"] == "pending"
        assert approved["draft"]["status"] == "approved" and approved["draft"]["round"] == 2
        # One approval message for both versions, and the approved text delivered exactly once.
        second = revised["draft"]["id"]
        assert not [c for c in api.calls_to("chat.postMessage") if f'"{second}"' in json.dumps(c.args.get("blocks"))]
        updated = [c for c in api.calls_to("chat.update") if c.args.get("ts") == seen["message"].response["ts"]]
        assert any(f"#{second}" in json.dumps(c.args.get("blocks")) for c in updated)
        sent = wait_until(
            lambda: [c for c in api.calls_to("chat.postMessage") if c.ok and c.args.get("channel") == out],
            what="the delivery",
        )
        time.sleep(1.0)  # a second delivery, if there were one, would have landed by now
        assert len([c for c in api.calls_to("chat.postMessage") if c.ok and c.args.get("channel") == out]) == 1
        assert "May's renewal" in sent[0].args["text"]
    finally:
        output = server.stop()
    assert "Traceback" not in output, output


def test_a_stopping_server_answers_a_waiting_agent_at_once(store, agents, api):
    server = Server(store, api, env=FAST)
    stopped: dict = {}

    def stop_soon() -> None:
        time.sleep(1.5)
        stopped["at"] = time.monotonic()
        stopped["output"] = server.stop()

    stopper = threading.Thread(target=stop_soon)

    async def pulse(agent: Agent) -> dict:
        draft_id = await submit(agent, "client:http-stop")
        stopper.start()
        waited = await agent.call("wait_for_decision", draft_id=draft_id, timeout=60)
        stopped["answered"] = time.monotonic()
        return waited

    try:
        waited = connect(server, agents["pulse"], pulse)
    finally:
        if stopper.is_alive() or "at" in stopped:
            stopper.join(15)
        else:
            server.stop()
    assert stopped["answered"] - stopped["at"] < 5, "the stop waited for the long-poll"
    assert waited["timed_out"] and not waited["changed"] and waited["draft"]["status"] == "pending"
    assert "Traceback" not in stopped["output"], stopped["output"]
