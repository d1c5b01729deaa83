"""The review meeting in the domain: opened once a week, started once by its facilitator,
moved through in order, ended with its summary; a review nobody ran is recorded as not held."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid
from otp_bot.store.domain.review import agenda, issues, meetings, todos
from otp_bot.store.domain.review.headlines import headlines_for, set_headline
from otp_bot.store.domain.review.issues import TodoSpec
from otp_bot.store.models import AuditEntry, OutboxItem, Review
from tests.support.review import set_review

MONDAY = dt.date(2026, 12, 7)
POSTED = dt.datetime(2026, 12, 7, 14, 0, tzinfo=dt.UTC)  # Monday 9:00 in New York


def actions(s) -> list[str]:
    return [a for a in s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)) if a.startswith("review.")]


def test_a_review_opens_once_a_week_and_its_facilitator_runs_it_in_order(example_db):
    set_review(example_db)
    with example_db.session() as s:
        review = meetings.open_review(s, week=dt.date(2026, 12, 9), channel="C0L10", thread_ts="1.2", now=POSTED)
        again = meetings.open_review(s, week=MONDAY, channel="C0L10", thread_ts="9.9", now=POSTED)
        assert (again.id, again.week, again.thread_ts, again.facilitator_id) == (review.id, MONDAY, "1.2", "david")
        david, bogdan = actor_for_holder(s, "david"), actor_for_holder(s, "bogdan")
        with pytest.raises(Forbidden, match="only the facilitator"):
            meetings.start(s, bogdan, review.id)
        with pytest.raises(Conflict, match="not started"):
            meetings.advance(s, david, review.id)
        meetings.start(s, david, review.id)
        with pytest.raises(Conflict, match="already running"):
            meetings.start(s, david, review.id)
        assert meetings.advance(s, david, review.id, after="scorecard").section == "rocks"
        with pytest.raises(Conflict, match="moved on to rocks"):
            meetings.advance(s, david, review.id, after="scorecard")  # a second click on the same reply
        assert meetings.advance(s, Actor.cli_operator(), review.id).section == "headlines"
        with pytest.raises(Invalid, match="past rocks"):
            meetings.advance(s, david, review.id, "rocks")
        meetings.advance(s, david, review.id, "issues")
        with pytest.raises(Invalid, match="last section"):
            meetings.advance(s, david, review.id)
        assert actions(s) == ["review.opened", "review.started", "review.section", "review.section", "review.section"]
        keys = set(s.scalars(select(OutboxItem.key).where(OutboxItem.kind == "review")))
        assert keys == {
            f"review:{review.id}:{k}"
            for k in ("opening", "section:scorecard", "section:rocks", "section:headlines", "section:issues")
        }


def test_the_end_summarises_decisions_todos_checks_and_refuses_anything_after(example_db):
    set_review(example_db)
    with example_db.session() as s:
        david = actor_for_holder(s, "david")
        todo = todos.add_todo(
            s,
            david,
            "coo",
            "Write the onboarding checklist",
            due=MONDAY + dt.timedelta(days=3),
            today=MONDAY - dt.timedelta(days=5),
        )
        issue = issues.raise_issue(s, david, "Churn up in SMB", seat_id="retention")
        review = meetings.open_review(s, week=MONDAY, channel="C0L10", thread_ts="1.2", now=POSTED)
        meetings.start(s, david, review.id)
        assert [line.todo.id for line in agenda.todos_due(s, review)] == [todo.id]
        todos.check(s, david, todo.id, False, review_id=review.id, week=review.week)
        issues.solve(
            s,
            david,
            issue.id,
            "Call the three largest SMB clients",
            todos=[
                TodoSpec("retention", "List the SMB accounts at risk"),
                TodoSpec("coo", "Call them", due="2026-12-11"),
            ],
            review_id=review.id,
        )
        summary = meetings.end(s, david, review.id)
        assert [(i["title"], i["status"]) for i in summary["issues"]] == [("Churn up in SMB", "solved")]
        # The agent seat's to-do is Pulse's, and Bogdan answers for it: he is the one told.
        assert [(t["seat"], t["holder"], t["owner"]) for t in summary["todos"]] == [
            ("retention", "pulse", "bogdan"),
            ("coo", "bogdan", "bogdan"),
        ]
        assert summary["todos"][1]["due"] == "2026-12-11"
        assert [(c["todo"], c["done"]) for c in summary["checks"]] == [(todo.id, False)]
        for attempt in (lambda: meetings.advance(s, david, review.id), lambda: meetings.end(s, david, review.id)):
            with pytest.raises(Conflict, match="has ended; nothing was changed"):
                attempt()
        with pytest.raises(Conflict, match="already ended"):
            meetings.start(s, david, review.id)
        keys = set(s.scalars(select(OutboxItem.key).where(OutboxItem.key.like(f"review:{review.id}:%"))))
        assert {f"review:{review.id}:summary", f"review:{review.id}:dm:bogdan"} <= keys
        assert s.get(Review, review.id).summary == summary


def test_a_review_nobody_ran_is_recorded_as_not_held(example_db):
    set_review(example_db)
    with example_db.session() as s:
        unrun = meetings.open_review(s, week=MONDAY, channel="C0L10", thread_ts="1.2", now=POSTED)
        assert meetings.mark_not_held(s, POSTED + dt.timedelta(hours=3)) == []  # still its day
        marked = meetings.mark_not_held(s, POSTED + dt.timedelta(days=1))
        assert [r.id for r in marked] == [unrun.id] and unrun.status == "not-held"
        with pytest.raises(Conflict, match="not held"):
            meetings.start(s, actor_for_holder(s, "david"), unrun.id)
        # The next Monday's post went out (or was due) and no review opened: recorded too, once.
        later = meetings.mark_not_held(s, POSTED + dt.timedelta(days=8))
        assert [(r.week, r.status) for r in later] == [(MONDAY + dt.timedelta(days=7), "not-held")]
        assert meetings.mark_not_held(s, POSTED + dt.timedelta(days=8, hours=1)) == []
        assert actions(s).count("review.not_held") == 2


def test_a_headline_is_one_per_holder_and_week(example_db):
    with example_db.session() as s:
        bogdan = actor_for_holder(s, "bogdan")
        set_headline(s, bogdan, "Two new clients signed", via="dm", week=MONDAY)
        set_headline(s, bogdan, "  Three new   clients signed ", via="command", week=MONDAY + dt.timedelta(days=2))
        assert [(h.holder_id, h.text, h.via) for h in headlines_for(s, MONDAY)] == [
            ("bogdan", "Three new clients signed", "command")
        ]
        with pytest.raises(Invalid, match="needs some words"):
            set_headline(s, bogdan, "   ", via="dm", week=MONDAY)
        with pytest.raises(Forbidden):
            set_headline(s, Actor.anonymous(), "hello", via="dm", week=MONDAY)
