"""The weekly review through MCP: `otp mcp` over stdio with the official client, and the same
tools over HTTP at /mcp in `otp serve`. Pulse (an agent) holds retention, accountable: Bogdan;
Dirk (an agent) holds sales. People act through the domain, as Slack would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.review import headlines, rocks, todos
from otp_bot.store.domain.review.quarters import quarter_bounds, quarter_of
from tests.support.mcp import TOOLS, Agent, session_with
from tests.support.serve import Server


def add_rock(db, seat: str, title: str, **kw: Any) -> tuple[int, str]:
    with db.session() as s:
        quarter = quarter_of(todos.org_today(s))
        rock = rocks.add_rock(s, Actor.cli_operator(), seat, title, due=quarter_bounds(quarter)[1], **kw)
        return rock.id, quarter


def coming_week(db) -> str:
    with db.session(readonly=True) as s:
        return headlines.upcoming_week(s).isoformat()


def add_todo(db, seat: str, text: str, **kw: Any) -> int:
    with db.session() as s:
        return todos.add_todo(s, Actor.cli_operator(), seat, text, **kw).id


def test_an_agent_takes_part_in_the_review_over_stdio(store, agents):
    rock_id, quarter = add_rock(store, "retention", "Cut SMB churn to 2%", milestones=["Call the top 10"])
    with store.session(readonly=True) as s:
        today = todos.org_today(s)
    late = add_todo(
        store,
        "retention",
        "Send the churn report",
        due=today - dt.timedelta(days=3),
        today=today - dt.timedelta(days=5),
    )
    theirs = add_todo(store, "sales", "Price the Initech upsell")

    async def pulse(agent: Agent) -> dict:
        raised = await agent.call("raise_issue", title="Acme stopped answering", detail="Two weeks silent.", key="acme")
        issue = raised["issue"]
        assert raised["created"] and (issue["seat"], issue["status"], issue["source"]) == (
            "retention",
            "open",
            "manual",
        )
        again = await agent.call("raise_issue", title="Acme stopped answering", detail="Two weeks silent.", key="acme")
        assert not again["created"] and again["issue"]["id"] == issue["id"]
        assert "another issue with other content" in await agent.error("raise_issue", title="Other", key="acme")
        assert "an issue needs a title" in await agent.error("raise_issue", title="  ")
        assert "there is no seat `nowhere`" in await agent.error("raise_issue", title="t", seat="nowhere")
        listed = await agent.call("list_issues")
        assert issue["id"] in [i["id"] for i in listed["issues"]]
        assert (await agent.call("list_issues", issue_id=issue["id"]))["issues"] == [issue]

        added = await agent.call("add_todo", text="Call Acme's CFO", due="friday")
        todo = added["todo"]
        assert added["created"] and todo["seat"] == "retention" and not todo["overdue"]
        assert "its own seats only" in await agent.error("add_todo", text="Close Initech", seat="sales")
        mine = await agent.call("list_my_todos")
        by_id = {t["id"]: t for t in mine["todos"]}
        assert {todo["id"], late} <= set(by_id) and theirs not in by_id and by_id[late]["overdue"]
        done = await agent.call("complete_todo", todo_id=todo["id"], note="Spoke to her; renewal on track.")
        assert done["status"] == "done" and done["note"].startswith("Spoke")
        assert "is `sales`'s" in await agent.error("complete_todo", todo_id=theirs)
        assert "already done" in await agent.error("complete_todo", todo_id=todo["id"])

        listed_rocks = await agent.call("list_rocks", seat="retention")
        assert listed_rocks["quarter"] == quarter and rock_id in [r["id"] for r in listed_rocks["rocks"]]
        assert "is not a quarter" in await agent.error("list_rocks", quarter="2026-Q7")
        proposal = await agent.call("set_rock_track", rock_id=rock_id, track="off")
        assert proposal["proposed"] and proposal["awaiting"] == "Bogdan" and proposal["rock"]["track"] == "on"
        assert "is not a track" in await agent.error("set_rock_track", rock_id=rock_id, track="sideways")

        assert (await agent.read("otp://review"))["headline"] is None
        said = await agent.call("set_headline", text="Acme went quiet; the save desk is ready")
        assert (said["via"], said["week"]) == ("mcp", coming_week(store))
        assert "a headline needs some words" in await agent.error("set_headline", text=" ")
        review = await agent.read("otp://review")
        assert review["headline"] == said
        assert review["quarter"] == quarter and review["week"] == coming_week(store)
        assert issue["id"] in [i["id"] for i in review["issues"]]
        assert [i["rank"] for i in review["issues"]] == sorted(i["rank"] for i in review["issues"])
        assert late in [t["id"] for t in review["todos"]] and todo["id"] not in [t["id"] for t in review["todos"]]
        assert {t["seat"] for t in review["todos"]} == {"retention"} and {r["seat"] for r in review["rocks"]} == {
            "retention"
        }
        assert next(r for r in review["rocks"] if r["id"] == rock_id)["proposed_track"] == "off"

        briefing = await agent.call("get_briefing")
        assert next(t for t in briefing["todos"] if t["id"] == late)["overdue"]
        assert rock_id in [r["id"] for r in briefing["rocks"]]
        read = await agent.read("otp://briefing")
        assert (read["todos"], read["rocks"]) == (briefing["todos"], briefing["rocks"])

        prompt = (await agent.session.get_prompt("weekly_review", {})).messages[0].content.text
        assert "## To-dos" in prompt and f"#{late} Send the churn report" in prompt and "OVERDUE" in prompt
        assert "## Rocks this quarter" in prompt and f"#{rock_id} Cut SMB churn to 2%" in prompt
        assert "you proposed off, awaiting confirmation" in prompt and "milestones 0/1 done" in prompt
        return proposal

    session_with(store, agents["pulse"], pulse)

    # The proposal stays one until Bogdan confirms it.
    with store.session() as s:
        assert rocks.get_rock(s, rock_id).track == "on"
        rocks.confirm_track(s, actor_for_holder(s, "bogdan"), rock_id)

    async def pulse_again(agent: Agent) -> None:
        rock = next(r for r in (await agent.call("list_rocks"))["rocks"] if r["id"] == rock_id)
        assert (rock["track"], rock["proposed_track"], rock["track_set_by"]) == ("off", None, "holder:bogdan")

    session_with(store, agents["pulse"], pulse_again)


def test_the_review_tools_over_http_in_otp_serve(store, agents, api):
    server = Server(store, api)
    rock_id, _ = add_rock(store, "sales", "Open three enterprise accounts")

    async def connect(token: str, scenario: Callable[[Agent], Awaitable[Any]]) -> Any:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=90) as http,
            streamable_http_client(f"{server.url}/mcp", http_client=http) as (read, write, *_),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await scenario(Agent(session))

    async def dirk(agent: Agent) -> None:
        assert {t.name for t in (await agent.session.list_tools()).tools} == TOOLS
        raised = await agent.call("raise_issue", title="Initech wants a discount we cannot give")
        assert raised["issue"]["seat"] == "sales" and raised["issue"]["raised_by"] == "holder:dirk"
        todo = (await agent.call("add_todo", text="Draft the Initech counter-offer"))["todo"]
        assert todo["id"] in [t["id"] for t in (await agent.call("list_my_todos"))["todos"]]
        assert (await agent.call("complete_todo", todo_id=todo["id"]))["status"] == "done"
        proposal = await agent.call("set_rock_track", rock_id=rock_id, track="on")
        assert proposal["proposed"] and proposal["rock"]["proposed_by"] == "holder:dirk"
        # The static resource is read as this request's token.
        review = await agent.read("otp://review")
        assert {r["seat"] for r in review["rocks"]} == {"sales"}

    async def pulse(agent: Agent) -> None:
        assert "is `sales`'s" in await agent.error("set_rock_track", rock_id=rock_id, track="off")
        assert all(r["seat"] == "retention" for r in (await agent.read("otp://review"))["rocks"])

    try:
        anyio.run(connect, agents["dirk"], dirk)
        anyio.run(connect, agents["pulse"], pulse)
    finally:
        output = server.stop()
    assert "Traceback" not in output, output
