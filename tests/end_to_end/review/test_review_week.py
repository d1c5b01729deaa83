"""A week of the example org's operating review, end to end, as the people and agents of Acme
Agency live it. Last week: the headline prompts before the meeting, the review's scorecard
post, two Raise issue clicks on its off-track rows, Bogdan (the chart's facilitator) running
the review in the post's thread and solving one issue into two to-dos (one for Pulse, an
agent). During the week Pulse completes its to-do through MCP; Bogdan's own runs past its
due day and the daily briefing says so. This week: the review's to-do check (Bogdan's not
done), and the scorecard shows each seat's to-do completion.

Every step goes through `otp serve` with signed Slack requests, the Slack stand-in behind it,
and the official MCP client for the agent; the scheduler's moments are the test's (last
week's post is claimed at last week's time). The store keeps no clock of its own, so the
week passing is one step: the two new to-dos are moved a week back, their creation and due
day both, as time would have moved them. With OTP_TRANSCRIPT=<file> the test writes what
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
from tests.support.review import BOGDAN, buttons, message, press, reply
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
        this_post = plan.latest_due(dt.datetime.now(dt.UTC))  # the review's latest Monday post
        post_at = plan.latest_due(this_post - dt.timedelta(days=1))  # and the one before: last week's

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
        claim = manual_runs.run_now(s, get_plan(s, "scorecard"), started_by="operator:scheduler", now=post_at).claim
    outcome = RhythmPoster(module_db, make_client(TOKEN, api.url)).perform(claim)
    channel, ts = outcome.channel, outcome.ts
    assert (outcome.status, channel) == ("posted", L10)
    opening = reply(api, channel, ts, "Weekly review · facilitator <@U02BGD4N8RM> · Start")

    # Two off-track rows become issues, from the post's own buttons (rows still off track this morning).
    post = message(api, channel, ts)
    for n, metric in enumerate(("retention-saves", "inbox-first-response"), start=1):
        (button,) = [b for b in buttons(post, RAISE_ACTION) if b[2].endswith(f":{metric}")]
        press(server, api, BOGDAN, RAISE_ACTION, post, channel, value=button[2])
        wait_until(lambda n=n: f"Issue #{n} raised by" in blob(message(api, channel, ts)), what=f"issue #{n}")
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

    # The week passes: the to-dos made last Monday were due on Sunday.
    with module_db.session() as s:
        for todo in s.scalars(select(Todo)):
            todo.created_at -= dt.timedelta(days=7)
            todo.due -= dt.timedelta(days=8)
    # This morning's briefing names Bogdan's to-do, overdue.
    with module_db.session() as s:
        claim = manual_runs.run_now(s, get_plan(s, "briefing"), started_by="operator:scheduler").claim
    briefing = RhythmPoster(module_db, make_client(TOKEN, api.url)).perform(claim)
    assert briefing.status == "posted", briefing
    text = message(api, briefing.channel, briefing.ts)["text"] + blob(message(api, briefing.channel, briefing.ts))
    assert "To-dos overdue (1)" in text and "Call the three largest at-risk clients" in text

    # This week's post opens this week's review; in its to-do check Bogdan's is not done.
    with module_db.session() as s:
        claim = manual_runs.run_now(s, get_plan(s, "scorecard"), started_by="operator:scheduler").claim
    outcome = RhythmPoster(module_db, make_client(TOKEN, api.url)).perform(claim)
    channel, ts = outcome.channel, outcome.ts
    opening = reply(api, channel, ts, "Weekly review · facilitator <@U02BGD4N8RM> · Start")
    with module_db.session(readonly=True) as s:
        review_id = s.scalar(select(Review.id).where(Review.thread_ts == ts))
    press(server, api, BOGDAN, views.START, opening, channel)
    section = reply(api, channel, ts, "Weekly review · Scorecard")
    for name in ("Rocks", "Headlines", "To-dos"):
        press(server, api, BOGDAN, views.NEXT, section, channel)
        section = reply(api, channel, ts, f"Weekly review · {name}")
    assert "List the at-risk SMB clients" in blob(section) and "Done · checked by <@U07PLS8RT4N>" in blob(section)
    press(server, api, BOGDAN, views.TODO_NOT_DONE, section, channel, value=f"{review_id}:{made[1].id}")
    wait_until(lambda: ":x: Not done" in blob(message(api, channel, section["ts"])), what="the row checked")
    press(server, api, BOGDAN, views.END, message(api, channel, section["ts"]), channel)
    reply(api, channel, ts, "Weekly review ended")

    # The scorecard shows each seat's to-do completion for the week: Pulse's done, Bogdan's not.
    for seat, shown in (("retention", "100%"), ("coo", "0%")):
        _, answer = server.command(f"scorecard {seat}", user=BOGDAN)
        row = next(line for line in answer["text"].splitlines() if "To-do completion" in line)
        assert shown in row, row
    wait_until(lambda: settled(module_db), timeout=60, what="the outbox to drain")

    if path := os.environ.get("OTP_TRANSCRIPT"):
        Path(path).write_text(transcript(api, NAMES), encoding="utf-8")
