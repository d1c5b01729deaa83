"""The weekly review in Slack, end to end: the review's scorecard post opens a thread; David,
the facilitator, starts it, moves through the sections, checks the to-dos, solves an issue
into two to-dos (one for an agent seat) from the modal, drops another, and ends it; the
summary lands in the thread and each new to-do's owner gets a DM. Bogdan is refused, a
second start is refused, a click after the end changes nothing. Before the meeting, the
headline DM's modal records a headline and a manual value; a review nobody ran is recorded
as not held. Signed clicks and modals against `otp serve`, the Slack stand-in behind it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from otp_bot.bot.runtime import review_posts
from otp_bot.bot.runtime.rhythm_posts import RhythmPoster
from otp_bot.bot.slack.client import make_client
from otp_bot.bot.slack.views import review_thread as views
from otp_bot.store.domain.actors import actor_for_holder
from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.review import issues, meetings, todos
from otp_bot.store.domain.rhythm import manual_runs
from otp_bot.store.domain.rhythm.schedule_plans import get_plan
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.models import AuditEntry, Headline, Issue, MetricValue, OutboxItem, Review, Todo, TodoCheck
from tests.support.approvals import FAST, settled, wait_until
from tests.support.review import BOGDAN, DAVID, ephemerals, message, press, reply, set_review, thread
from tests.support.serve import TOKEN
from tests.support.slack.signing import view_submission_body

L10 = "C0L10"
JANINE = "U03JNN2W5TA"


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    # The scheduler is this test's to drive: its check runs here, at the moments the test picks.
    return {**FAST, "OTP_SCHEDULER_ENABLED": "false"}


@pytest.fixture(autouse=True)
def clean_api(api, module_db) -> Iterator[None]:
    api.reset(keep_messages=True)
    yield
    wait_until(lambda: settled(module_db), timeout=60, what="the outbox to drain")
    api.assert_no_rejections()


def blob(blocks) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def review_row(db, review_id: int) -> Review:
    with db.session(readonly=True) as s:
        return s.get_one(Review, review_id)


def post_scorecard(db, api) -> tuple[str, str]:
    """The review's schedule posts its scorecard, as the scheduler does."""
    with db.session() as s:
        claim = manual_runs.run_now(s, get_plan(s, "scorecard"), started_by="operator:test").claim
    assert claim is not None
    outcome = RhythmPoster(db, make_client(TOKEN, api.url)).perform(claim)
    assert outcome.status == "posted", outcome
    return outcome.channel, outcome.ts


def submit(server, user: str, view: dict, values: dict) -> dict:
    status, _, body = server.send(view_submission_body(user, view["callback_id"], values, view["private_metadata"]))
    assert status == 200
    return json.loads(body) if body else {}


def opened_view(api, before: int) -> dict:
    return wait_until(lambda: api.calls_to("views.open")[before:], what="a modal")[-1].args["view"]


def test_the_facilitator_runs_the_review_in_the_scorecard_posts_thread(server, module_db, api):
    set_review(module_db)
    with module_db.session() as s:
        david = actor_for_holder(s, "david")
        plan = get_plan(s, "scorecard")
        # The week the post is for: its latest Monday 9:00; the to-dos are due within it.
        monday = periods.period_start(plan.latest_due(dt.datetime.now(dt.UTC)).astimezone(plan.zone).date(), "weekly")
        ours = todos.add_todo(
            s, david, "coo", "Write the onboarding checklist", due=monday + dt.timedelta(days=2), today=monday
        )
        theirs = todos.add_todo(
            s, david, "accounting", "Chase the two oldest invoices", due=monday + dt.timedelta(days=3), today=monday
        )
        churn = issues.raise_issue(s, david, "Churn <up> in *SMB*", seat_id="retention")
        noise = issues.raise_issue(s, david, "Too many dashboards", seat_id="analytics")
        ours_id, theirs_id, churn_id, noise_id = ours.id, theirs.id, churn.id, noise.id

    channel, ts = post_scorecard(module_db, api)
    opening = reply(api, channel, ts, "Weekly review · facilitator <@U02DSTL7K1Q> · Start")
    with module_db.session(readonly=True) as s:
        review = s.scalar(select(Review).where(Review.thread_ts == ts))
        review_id = review.id
        assert (review.status, review.channel, review.facilitator_id) == ("open", L10, "david")

    # Bogdan is not the facilitator: told so, alone, and nothing starts.
    press(server, api, BOGDAN, views.START, opening, channel)
    wait_until(lambda: any("only the facilitator (David)" in t for t in ephemerals(api)), what="Bogdan's refusal")
    assert review_row(module_db, review_id).status == "open"

    press(server, api, DAVID, views.START, opening, channel)
    scorecard = reply(api, channel, ts, "Weekly review · Scorecard")
    assert review_row(module_db, review_id).status == "running"
    wait_until(lambda: "running, started by <@U02DSTL7K1Q>" in blob(message(api, channel, opening["ts"])["blocks"]))
    press(server, api, DAVID, views.START, opening, channel)
    wait_until(lambda: any("already running" in t for t in ephemerals(api)), what="the second start refused")

    press(server, api, DAVID, views.NEXT, scorecard, channel)
    rocks = reply(api, channel, ts, "Weekly review · Rocks")
    # The scorecard's reply lost its buttons: the review moved on.
    wait_until(lambda: message(api, channel, scorecard["ts"]).get("blocks", [])[-1].get("type") != "actions")
    press(server, api, DAVID, views.NEXT, rocks, channel)
    headlines = reply(api, channel, ts, "Weekly review · Headlines")
    press(server, api, DAVID, views.NEXT, headlines, channel)
    todo_reply = reply(api, channel, ts, "Weekly review · To-dos")
    assert "Write the onboarding checklist" in blob(todo_reply["blocks"])

    # Only the facilitator checks to-dos in the review: Bogdan's click is refused and records nothing.
    seen = len(ephemerals(api))
    press(server, api, BOGDAN, views.TODO_DONE, todo_reply, channel, value=f"{review_id}:{ours_id}")
    wait_until(lambda: len(ephemerals(api)) > seen, what="Bogdan's refusal")
    assert "only the facilitator (David) or an operator can run the review" in ephemerals(api)[-1]
    with module_db.session(readonly=True) as s:
        assert s.scalar(select(TodoCheck.id).where(TodoCheck.todo_id == ours_id)) is None

    # Done and not done, each row updated in place to show who checked it.
    press(server, api, DAVID, views.TODO_DONE, todo_reply, channel, value=f"{review_id}:{ours_id}")
    press(server, api, DAVID, views.TODO_NOT_DONE, todo_reply, channel, value=f"{review_id}:{theirs_id}")
    wait_until(
        lambda: blob(message(api, channel, todo_reply["ts"])["blocks"]).count("checked by <@U02DSTL7K1Q>") == 2,
        what="both to-do rows checked in place",
    )
    with module_db.session(readonly=True) as s:
        checks = {c.todo_id: c.done for c in s.scalars(select(TodoCheck).where(TodoCheck.review_id == review_id))}
        assert checks == {ours_id: True, theirs_id: False}
        assert (s.get_one(Todo, ours_id).status, s.get_one(Todo, theirs_id).status) == ("done", "open")

    press(server, api, DAVID, views.NEXT, message(api, channel, todo_reply["ts"]), channel)
    issue_reply = reply(api, channel, ts, "Weekly review · Issues")
    text = blob(issue_reply["blocks"])
    assert "Churn &lt;up&gt; in \u2217SMB\u2217" in text  # escaped, its formatting inert

    # Solve: the decision and two to-dos, one for the agent seat retention (Pulse, Bogdan answers for it).
    before = len(api.calls_to("views.open"))
    press(server, api, DAVID, views.SOLVE, issue_reply, channel, value=f"{review_id}:{churn_id}")
    modal = opened_view(api, before)
    assert modal["callback_id"] == views.SOLVE_VIEW
    half = submit(server, DAVID, modal, {"decision": {"decision": "Call them"}, "todo_1_text": {"text": "No seat"}})
    assert half["response_action"] == "errors" and "todo_1_seat" in half["errors"]
    with module_db.session(readonly=True) as s:
        due = (meetings.local_today(s) + dt.timedelta(days=5)).isoformat()
    answer = submit(
        server,
        DAVID,
        modal,
        {
            "decision": {"decision": "Call the three largest SMB clients this week"},
            "todo_1_seat": {"seat": {"type": "static_select", "selected_option": {"value": "retention"}}},
            "todo_1_text": {"text": "List the SMB accounts at risk"},
            "todo_2_seat": {"seat": {"type": "static_select", "selected_option": {"value": "accounting"}}},
            "todo_2_text": {"text": "Offer the at-risk accounts a billing pause"},
            "todo_2_due": {"due": {"type": "datepicker", "selected_date": due}},
        },
    )
    assert answer == {}, answer
    with module_db.session(readonly=True) as s:
        solved = s.get_one(Issue, churn_id)
        assert (solved.status, solved.review_id) == ("solved", review_id)
        assert [(t.seat_id, t.due.isoformat() if t.seat_id == "accounting" else "") for t in solved.todos] == [
            ("retention", ""),
            ("accounting", due),
        ]
    wait_until(lambda: "Solved: Call the three largest" in blob(message(api, channel, issue_reply["ts"])["blocks"]))

    before = len(api.calls_to("views.open"))
    press(server, api, DAVID, views.DROP, issue_reply, channel, value=f"{review_id}:{noise_id}")
    modal = opened_view(api, before)
    assert submit(server, DAVID, modal, {"reason": {"reason": "Merged into the weekly report"}}) == {}
    with module_db.session(readonly=True) as s:
        assert s.get_one(Issue, noise_id).status == "dropped"

    shown = message(api, channel, issue_reply["ts"])  # as a slow client still shows it after the end
    press(server, api, DAVID, views.END, shown, channel)
    summary = reply(api, channel, ts, "Weekly review ended")
    body = blob(summary["blocks"])
    assert "Call the three largest SMB clients this week" in body and "Merged into the weekly report" in body
    assert f"List the SMB accounts at risk · <@{BOGDAN}>" not in body  # the seat's holder is named: Pulse
    assert "<@U07PLS8RT4N>" in body and f"<@{JANINE}> · due {due}" in body
    assert "1 done, 1 not done" in body
    # Each owner of a new to-do hears once: Bogdan for Pulse's seat, Janine for her own.
    for user, words in (
        (BOGDAN, "List the SMB accounts at risk"),
        (JANINE, "Offer the at-risk accounts a billing pause"),
    ):
        dm = wait_until(lambda u=user: [m for m in api.history("D" + u[1:]) if "New to-dos for you" in m["text"]])
        assert len(dm) == 1 and words in dm[0]["text"]
    assert review_row(module_db, review_id).status == "ended"

    # After the end: every button answers clearly and changes nothing.
    with module_db.session(readonly=True) as s:
        audited = s.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    seen = len(ephemerals(api))
    press(server, api, DAVID, views.END, shown, channel)
    press(server, api, DAVID, views.START, opening, channel)
    press(server, api, DAVID, views.TODO_NOT_DONE, todo_reply, channel, value=f"{review_id}:{theirs_id}")
    wait_until(lambda: len(ephemerals(api)) >= seen + 3, what="three answers")
    answers = ephemerals(api)[seen:]
    assert sum("has ended; nothing was changed" in a for a in answers) == 2 and any(
        "already ended" in a for a in answers
    )
    with module_db.session(readonly=True) as s:
        assert s.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) == audited
        assert s.scalar(select(TodoCheck.done).where(TodoCheck.todo_id == theirs_id)) is False
    assert len([m for m in thread(api, channel, ts) if "Weekly review ended" in m.get("text", "")]) == 1


def test_the_headline_dm_records_a_headline_and_a_missing_manual_value(server, module_db, api):
    set_review(module_db, ahead=8 * 24 * 60)  # the next post is always within eight days: prompts are due now
    with module_db.session() as s:
        # The form asks for the last full week before the week of the review's next post (on a
        # Monday before the post, that is the week before last, not the one just begun).
        post = get_plan(s, "scorecard").next_runs(dt.datetime.now(dt.UTC))[0]
        post_day = post.astimezone(ZoneInfo(get_org(s).timezone)).date()
        monday = periods.period_start(post_day, "weekly") - dt.timedelta(weeks=1)
        s.execute(
            delete(MetricValue).where(MetricValue.metric_id == "ops-issues-open", MetricValue.period_start == monday)
        )
    assert review_posts.check(module_db) == 2  # David and Bogdan; Pulse is an agent, and answers through MCP
    assert review_posts.check(module_db) == 2  # queued again under the same keys: sent once
    dms = wait_until(lambda: [m for m in api.history("D" + BOGDAN[1:]) if "Your headline" in m["text"]])
    wait_until(lambda: [m for m in api.history("D" + DAVID[1:]) if "Your headline" in m["text"]])
    assert len(dms) == 1

    before = len(api.calls_to("views.open"))
    press(server, api, BOGDAN, views.HEADLINE, dms[0], "D" + BOGDAN[1:])
    modal = opened_view(api, before)
    assert modal["callback_id"] == views.HEADLINE_VIEW
    labels = [b["label"]["text"] for b in modal["blocks"] if b["type"] == "input"]
    assert [b["block_id"] for b in modal["blocks"]] == ["headline", "metric_ops-issues-open"], labels

    # A value that is not a number refuses the whole form, beside its field: nothing recorded.
    refused = submit(
        server,
        BOGDAN,
        modal,
        {"headline": {"headline": "Two clients renewed"}, "metric_ops-issues-open": {"value": "a few"}},
    )
    assert refused["response_action"] == "errors" and list(refused["errors"]) == ["metric_ops-issues-open"]
    with module_db.session(readonly=True) as s:
        assert s.scalar(select(Headline.id).where(Headline.holder_id == "bogdan")) is None

    ok = submit(
        server,
        BOGDAN,
        modal,
        {"headline": {"headline": "Two clients renewed"}, "metric_ops-issues-open": {"value": "3,5"}},
    )
    assert ok == {}, ok
    with module_db.session(readonly=True) as s:
        headline = s.scalar(select(Headline).where(Headline.holder_id == "bogdan"))
        assert (headline.text, headline.via) == ("Two clients renewed", "dm")
        value = s.scalar(
            select(MetricValue).where(MetricValue.metric_id == "ops-issues-open", MetricValue.period_start == monday)
        )
        assert (value.value, value.source, value.entered_by) == (3.5, "manual", "holder:bogdan")


def test_a_review_nobody_ran_is_recorded_as_not_held(server, module_db, api):
    set_review(module_db)
    with module_db.session(readonly=True) as s:
        # The day after the review's next Monday post, for which no review ever opened.
        later = get_plan(s, "scorecard").next_runs(dt.datetime.now(dt.UTC) + dt.timedelta(days=1))[0]
        later += dt.timedelta(days=1)
        before = {r.id: r.status for r in s.scalars(select(Review))}
        audited = s.scalar(select(func.max(AuditEntry.id)))
    review_posts.check(module_db, later)
    with module_db.session(readonly=True) as s:
        after = {r.id: (r.status, r.week) for r in s.scalars(select(Review))}
        new = [v for k, v in after.items() if k not in before]
        assert [status for status, _ in new] == ["not-held"]
        assert all(after[k][0] == status for k, status in before.items())  # an ended review stays ended
        # One entry for this week (an earlier check may have recorded a week before it).
        noted = s.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "review.not_held", AuditEntry.id > audited)
        ).all()
        assert len(noted) == 1
        assert s.scalar(select(OutboxItem.id).where(OutboxItem.kind == "review", OutboxItem.status == "failed")) is None
