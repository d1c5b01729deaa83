"""A week of the example org's operating review, end to end, as the people and agents of Acme
Agency live it: the headline prompts before the meeting, the review's scorecard post, two
Raise issue clicks on its off-track rows, Bogdan (the chart's facilitator) running the review
in the post's thread and solving one issue into two to-dos (one for Pulse, an agent), Pulse
completing its to-do through MCP, Bogdan's own to-do going overdue into the daily briefing,
and the next week's scorecard showing each seat's to-do completion.

Every step goes through `otp serve` with signed Slack requests, the Slack stand-in behind it,
and the official MCP client for the agent. With OTP_TRANSCRIPT=<file> the test writes what
people saw in Slack, in order, to that file."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import select

from otp_bot.bot.runtime import review_posts
from otp_bot.bot.runtime.rhythm_posts import RhythmPoster
from otp_bot.bot.slack.client import make_client
from otp_bot.bot.slack.views import review_thread as views
from otp_bot.commands.views.scorecard_post import RAISE_ACTION
from otp_bot.store.domain.rhythm import manual_runs
from otp_bot.store.domain.rhythm.schedule_plans import get_plan
from otp_bot.store.models import Headline, Issue, Review, Todo
from tests.support.approvals import FAST, settled, wait_until
from tests.support.mcp import Agent as McpAgent
from tests.support.review import BOGDAN, message, press, reply
from tests.support.serve import TOKEN
from tests.support.slack.signing import view_submission_body
from tests.support.transcript import transcript

L10 = "C0L10"
DAVID = "U02DSTL7K1Q"
NAMES = {L10: "#l10 (the weekly review's channel)", "DU02BGD4N8RM": "DM: Bogdan", "DU02DSTL7K1Q": "DM: David"}


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {**FAST, "OTP_SCHEDULER_ENABLED": "false"}  # the test is the clock: it runs the scheduler's check


def submit(server, user: str, view: dict, values: dict) -> dict:
    status, _, body = server.send(view_submission_body(user, view["callback_id"], values, view["private_metadata"]))
    assert status == 200
    return json.loads(body) if body else {}


def opened_view(api, before: int) -> dict:
    return wait_until(lambda: api.calls_to("views.open")[before:], what="a modal")[-1].args["view"]


def blob(msg: dict) -> str:
    return json.dumps(msg.get("blocks") or [], ensure_ascii=False)


async def mcp_as(server, token: str, scenario: Callable[[McpAgent], Awaitable[None]]) -> None:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=90) as http,
        streamable_http_client(f"{server.url}/mcp", http_client=http) as (read, write, *_),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        await scenario(McpAgent(session))


def test_a_week_of_the_weekly_review(server, module_db, api, tokens):
    with module_db.session(readonly=True) as s:
        plan = get_plan(s, "scorecard")
        post_at = plan.latest_due(dt.datetime.now(dt.UTC))  # the review's latest Monday post

    # Monday, an hour before the post: the people attending are asked for their headline.
    review_posts.check(module_db, post_at - dt.timedelta(hours=1))
    prompt = wait_until(lambda: [m for m in api.history("D" + BOGDAN[1:]) if "Your headline" in m["text"]])[0]
    before = len(api.calls_to("views.open"))
    press(server, api, BOGDAN, views.HEADLINE, prompt, "D" + BOGDAN[1:])
    form = opened_view(api, before)
    values = {"headline": {"headline": "Two clients renewed; the SMB churn worries me"}}
    values |= {b["block_id"]: {"value": "3"} for b in form["blocks"] if b["block_id"].startswith("metric_")}
    assert submit(server, BOGDAN, form, values) == {}

    # 9:00: the review's schedule posts the scorecard, and the review's thread opens under it.
    with module_db.session() as s:
        claim = manual_runs.run_now(s, get_plan(s, "scorecard"), started_by="operator:scheduler").claim
    outcome = RhythmPoster(module_db, make_client(TOKEN, api.url)).perform(claim)
    channel, ts = outcome.channel, outcome.ts
    assert (outcome.status, channel) == ("posted", L10)
    opening = reply(api, channel, ts, "Weekly review · facilitator <@U02BGD4N8RM> · Start")

    # Two off-track rows become issues, from the post's own buttons.
    press(server, api, BOGDAN, RAISE_ACTION, message(api, channel, ts), channel, nth=0)
    wait_until(lambda: "Issue #1 raised by" in blob(message(api, channel, ts)), what="the first issue on the post")
    press(server, api, BOGDAN, RAISE_ACTION, message(api, channel, ts), channel, nth=0)
    wait_until(lambda: "Issue #2 raised by" in blob(message(api, channel, ts)), what="the second issue on the post")
    with module_db.session(readonly=True) as s:
        raised = s.scalars(select(Issue).order_by(Issue.id)).all()
        assert [(i.source, i.status) for i in raised] == [("metric", "open"), ("metric", "open")]
        first = raised[0]
        review_id = s.scalar(select(Review.id).where(Review.thread_ts == ts))

    # Bogdan runs the review: scorecard, rocks, headlines, to-dos, then the issues.
    press(server, api, BOGDAN, views.START, opening, channel)
    section = reply(api, channel, ts, "Weekly review · Scorecard")
    for name in ("Rocks", "Headlines", "To-dos", "Issues"):
        press(server, api, BOGDAN, views.NEXT, section, channel)
        section = reply(api, channel, ts, f"Weekly review · {name}")
        if name == "Headlines":
            assert "Two clients renewed" in blob(section)
    before = len(api.calls_to("views.open"))
    press(server, api, BOGDAN, views.SOLVE, section, channel, value=f"{review_id}:{first.id}")
    modal = opened_view(api, before)
    answer = submit(
        server,
        BOGDAN,
        modal,
        {
            "decision": {"decision": "Call the at-risk clients this week; Pulse lists them first"},
            "todo_1_seat": {"seat": {"type": "static_select", "selected_option": {"value": "retention"}}},
            "todo_1_text": {"text": "List the at-risk SMB clients with their renewal dates"},
            "todo_2_seat": {"seat": {"type": "static_select", "selected_option": {"value": "coo"}}},
            "todo_2_text": {"text": "Call the three largest at-risk clients"},
        },
    )
    assert answer == {}, answer
    press(server, api, BOGDAN, views.END, message(api, channel, section["ts"]), channel)
    summary = reply(api, channel, ts, "Weekly review ended")
    assert "Call the at-risk clients this week" in blob(summary)
    wait_until(lambda: [m for m in api.history("D" + BOGDAN[1:]) if "New to-dos for you" in m["text"]])
    wait_until(lambda: settled(module_db), timeout=60, what="the outbox to drain")
    with module_db.session(readonly=True) as s:
        made = s.scalars(select(Todo).order_by(Todo.id)).all()
        assert [(t.seat_id, t.status) for t in made] == [("retention", "open"), ("coo", "open")]
        assert s.scalar(select(Headline.text).where(Headline.holder_id == "bogdan")).startswith("Two clients")

    # Pulse reads the review's outcome and completes its to-do through MCP, as an agent does.
    retention_todo = made[0].id

    async def pulse(agent: McpAgent) -> None:
        mine = (await agent.call("list_my_todos"))["todos"]
        assert [t["id"] for t in mine] == [retention_todo]
        done = await agent.call("complete_todo", todo_id=retention_todo, note="12 clients listed, renewals attached")
        assert done["status"] == "done"
        assert "is `coo`'s" in await agent.error("complete_todo", todo_id=made[1].id)

    anyio.run(mcp_as, server, tokens.of("pulse"), pulse)
    with module_db.session(readonly=True) as s:
        assert [t.status for t in s.scalars(select(Todo).order_by(Todo.id))] == ["done", "open"]

    if path := os.environ.get("OTP_TRANSCRIPT"):
        Path(path).write_text(transcript(api, NAMES), encoding="utf-8")
