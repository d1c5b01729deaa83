"""Issues, to-dos and rocks in the domain: who may do what, what is refused, what is recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid
from otp_bot.store.domain.review import issues, rocks, todos
from otp_bot.store.domain.review.due_dates import parse_due
from otp_bot.store.domain.review.issues import TodoSpec
from otp_bot.store.domain.review.quarters import quarter_bounds, quarter_of, week_of
from otp_bot.store.models import AuditEntry, Seat, TodoCheck

MONDAY = dt.date(2026, 12, 7)


def retire(session, seat_id: str) -> None:
    seat = session.get(Seat, seat_id)
    seat.holder_id, seat.status = None, "retired"
    session.flush()


def test_due_dates_read_as_people_type_them():
    assert parse_due("friday", MONDAY) == dt.date(2026, 12, 11)
    assert parse_due("Mon", MONDAY) == dt.date(2026, 12, 14)  # the next Monday, never today
    assert parse_due("in 2 weeks", MONDAY) == dt.date(2026, 12, 21)
    assert parse_due("tomorrow", MONDAY) == dt.date(2026, 12, 8)
    assert parse_due("2026-12-20", MONDAY) == dt.date(2026, 12, 20)
    with pytest.raises(Invalid, match="not a day"):
        parse_due("soonish", MONDAY)


def test_quarters_are_named_and_bounded():
    assert quarter_bounds("2026-Q4") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert quarter_of(dt.date(2026, 2, 28)) == "2026-Q1"
    assert week_of(dt.date(2026, 12, 13)) == MONDAY
    with pytest.raises(Invalid, match="not a quarter"):
        quarter_bounds("2026-Q5")


def test_issues_queue_in_priority_order_and_a_move_renumbers(example_db):
    with example_db.session() as s:
        bogdan = actor_for_holder(s, "bogdan")
        a = issues.raise_issue(s, bogdan, "Churn up in SMB", seat_id="retention")
        b = issues.raise_issue(s, bogdan, "Ad spend over budget", seat_id="analytics")
        c = issues.raise_issue(s, bogdan, "Onboarding backlog")  # Bogdan's own seat: coo
        assert (c.seat_id, [i.id for i in issues.list_issues(s)]) == ("coo", [a.id, b.id, c.id])
        with pytest.raises(Forbidden, match="whole team's"):
            issues.move(s, actor_for_holder(s, "janine"), c.id, 1)
        issues.move(s, actor_for_holder(s, "david"), c.id, 1)  # at the top of the chart
        assert [(i.id, i.rank) for i in issues.list_issues(s)] == [(c.id, 1), (a.id, 2), (b.id, 3)]


def test_solving_an_issue_records_the_decision_and_its_todos_at_once(example_db):
    with example_db.session() as s:
        bogdan = actor_for_holder(s, "bogdan")
        issue = issues.raise_issue(s, bogdan, "Churn up in SMB", seat_id="retention")
        issues.solve(
            s,
            bogdan,
            issue.id,
            "Call the three largest SMB clients",
            todos=[TodoSpec("retention", "Draft check-ins for the top 3"), TodoSpec("coo", "Call Acme", "friday")],
        )
        assert issue.status == "solved" and [t.seat_id for t in issue.todos] == ["retention", "coo"]
        assert issue.todos[0].due == todos.org_today(s) + dt.timedelta(days=7)
        actions = [a for (a,) in s.execute(select(AuditEntry.action).order_by(AuditEntry.id))][-3:]
        assert actions == ["todo.added", "todo.added", "issue.solved"]
        with pytest.raises(Conflict, match="already solved"):
            issues.drop(s, bogdan, issue.id, "changed our minds")


def test_a_solution_naming_a_retired_seat_changes_nothing(example_db):
    with example_db.session() as s:
        bogdan = actor_for_holder(s, "bogdan")
        issue = issues.raise_issue(s, bogdan, "Backlog", seat_id="coo")
        retire(s, "projects")
    spec = [TodoSpec("coo", "Plan"), TodoSpec("projects", "Do")]
    with example_db.session() as s, pytest.raises(Invalid, match="retired"):
        issues.solve(s, actor_for_holder(s, "bogdan"), issue.id, "Split it", todos=spec)
    with example_db.session(readonly=True) as s:
        assert issues.get_issue(s, issue.id).status == "open" and not todos.list_todos(s)


def test_only_those_answering_for_the_seat_solve_its_issue(example_db):
    with example_db.session() as s:
        issue = issues.raise_issue(s, actor_for_holder(s, "bogdan"), "Churn", seat_id="retention")
        with pytest.raises(Forbidden, match="answer for `retention`"):
            issues.solve(s, actor_for_holder(s, "janine"), issue.id, "Ignore it")
        with pytest.raises(Forbidden, match="on the chart"):
            issues.raise_issue(s, Actor.anonymous("U0STRANGER"), "Spam", seat_id="retention")
        issues.solve(s, actor_for_holder(s, "david"), issue.id, "Weekly churn call")  # above, in the line


def test_todos_check_weekly_and_count_towards_completion(example_db):
    with example_db.session() as s:
        bogdan, pulse = actor_for_holder(s, "bogdan"), actor_for_holder(s, "pulse")
        mine = todos.add_todo(s, pulse, "retention", "Send the churn list", due="tomorrow")
        other = todos.add_todo(s, bogdan, "retention", "Review the playbook")
        with pytest.raises(Forbidden, match="own seats"):
            todos.add_todo(s, pulse, "coo", "Hire someone")
        todos.check(s, pulse, mine.id, True, week=MONDAY)
        todos.check(s, bogdan, other.id, False, week=MONDAY)
        with pytest.raises(Conflict, match="already"):
            todos.check(s, bogdan, other.id, True, week=MONDAY)
        assert mine.status == "done" and other.status == "open"
        assert todos.completion(s, "retention", [MONDAY, MONDAY - dt.timedelta(7)]) == {MONDAY: (1, 2)}
        later = todos.org_today(s) + dt.timedelta(days=9)
        assert [t.id for t in todos.overdue(s, later)] == [other.id]


def test_a_todo_is_refused_for_a_retired_or_empty_seat_or_a_past_day(example_db):
    with example_db.session() as s:
        bogdan = actor_for_holder(s, "bogdan")
        with pytest.raises(Invalid, match="nobody holds `onboarding`"):
            todos.add_todo(s, bogdan, "onboarding", "Write the checklist")
        with pytest.raises(Invalid, match="in the past"):
            todos.add_todo(s, bogdan, "coo", "Yesterday's job", due="2020-01-01")
        retire(s, "projects")
        with pytest.raises(Invalid, match="retired"):
            todos.add_todo(s, bogdan, "projects", "Ship it")


def test_rocks_stay_inside_their_quarter_and_five_per_seat(example_db):
    with example_db.session() as s:
        bogdan = actor_for_holder(s, "bogdan")
        quarter = quarter_of(todos.org_today(s))
        _, last = quarter_bounds(quarter)
        with pytest.raises(Invalid, match="due inside it"):
            rocks.add_rock(s, bogdan, "retention", "Cut churn", due=last + dt.timedelta(days=1), quarter=quarter)
        for n in range(5):
            rocks.add_rock(s, bogdan, "retention", f"Rock {n}", due=last)
        with pytest.raises(Conflict, match="already has 5 rocks"):
            rocks.add_rock(s, bogdan, "retention", "One too many", due=last)
        assert len(rocks.list_rocks(s, seat_id="retention", quarter=quarter)) == 5


def test_an_agents_track_is_a_proposal_until_its_human_confirms(example_db):
    with example_db.session() as s:
        bogdan, pulse = actor_for_holder(s, "bogdan"), actor_for_holder(s, "pulse")
        _, last = quarter_bounds(quarter_of(todos.org_today(s)))
        rock = rocks.add_rock(s, bogdan, "retention", "Churn under 2%", due=last, milestones=["Playbook"])
        rocks.set_track(s, pulse, rock.id, "off")
        assert (rock.track, rock.proposed_track) == ("on", "off")
        with pytest.raises(Forbidden):
            rocks.confirm_track(s, pulse, rock.id)
        rocks.confirm_track(s, bogdan, rock.id)
        assert (rock.track, rock.proposed_track, rock.track_set_by) == ("off", None, "holder:bogdan")
        rocks.milestone_done(s, pulse, rock.id, 1)
        assert rock.milestones[0]["done"] is True
        with pytest.raises(Forbidden):
            rocks.set_track(s, actor_for_holder(s, "dash"), rock.id, "on")


def test_a_retired_seats_open_items_move_up_the_line(example_db):
    from otp_bot.store.domain.gate.follow_chart import follow_chart

    with example_db.session() as s:
        bogdan = actor_for_holder(s, "bogdan")
        issue = issues.raise_issue(s, bogdan, "Projects slip", seat_id="projects")
        todo = todos.add_todo(s, bogdan, "projects", "Re-plan Q1")
        done = todos.add_todo(s, bogdan, "projects", "Close Q4")
        todos.complete(s, bogdan, done.id)
        retire(s, "projects")
        follow_chart(s, "operator:test")
        assert (issue.seat_id, todo.seat_id, done.seat_id) == ("coo", "coo", "projects")
        moved = s.scalars(select(AuditEntry).where(AuditEntry.action == "review.items_moved")).one()
        assert moved.detail["items"] == [f"issue:{issue.id}", f"todo:{todo.id}"]


def test_a_weeks_unchecked_todos_count_as_not_done_when_its_review_closes(example_db):
    with example_db.session() as s:
        bogdan = actor_for_holder(s, "bogdan")
        today = todos.org_today(s)
        week = week_of(today)
        slid = todos.add_todo(s, bogdan, "coo", "Let it slide", due=week + dt.timedelta(days=6), today=week)
        done = todos.add_todo(s, bogdan, "coo", "Finish it", due=week + dt.timedelta(days=6), today=week)
        later = todos.add_todo(s, bogdan, "coo", "Next week's", due=week + dt.timedelta(days=9), today=week)
        todos.complete(s, bogdan, done.id)
        closed_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        made_in_review = todos.add_todo(
            s, bogdan, "coo", "From the review", due=week + dt.timedelta(days=6), today=week
        )
        made_in_review.created_at = closed_at + dt.timedelta(seconds=1)
        assert todos.close_week(s, "holder:bogdan", week, before=closed_at) == 1
        assert todos.completion(s, "coo", [week]) == {week: (1, 2)}
        assert {c.todo_id for c in s.scalars(select(TodoCheck).where(TodoCheck.week == week))} == {slid.id, done.id}
        assert later.status == "open"
