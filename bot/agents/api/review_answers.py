"""The weekly review as agents reach it: what the API's routes and the MCP tools both answer, so the
two cannot differ. Every rule (who may raise, complete, propose a track) is the domain's
(store/domain/review); this only picks the defaults a token implies and maps the answers."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from otp_bot.bot.agents.api import review_schemas as rs
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents import request_keys
from otp_bot.store.domain.chart.reading import get_seat
from otp_bot.store.domain.review import issues as issue_rules
from otp_bot.store.domain.review import rocks as rock_rules
from otp_bot.store.domain.review import todos as todo_rules
from otp_bot.store.domain.review.headlines import headlines_for, set_headline, upcoming_week
from otp_bot.store.domain.review.quarters import normal_quarter, quarter_of
from otp_bot.store.domain.review.rights import default_seat

IssueStatus = Literal["open", "all"]
TodoStatus = Literal["open", "done", "dropped", "all"]
MAX_ISSUES = 500


def raise_issue(
    session: Session,
    actor: Actor,
    title: str,
    *,
    seat: str | None = None,
    detail: str | None = None,
    draft: int | None = None,
    message: str | None = None,
    key: str | None = None,
) -> rs.IssueRaised:
    content = {"title": title, "seat": seat, "detail": detail, "draft": draft, "message": message}
    if (made := request_keys.seen(session, actor, "issue", key, content)) is not None:
        return rs.IssueRaised(created=False, issue=rs.issue(issue_rules.get_issue(session, made)))
    raised = issue_rules.raise_issue(
        session,
        actor,
        title,
        seat_id=seat,
        detail=detail,
        source="draft" if draft is not None else "message" if message else "manual",
        draft_id=draft,
        message_ref=message,
    )
    request_keys.remember(session, actor, "issue", key, content, raised.id)
    return rs.IssueRaised(created=True, issue=rs.issue(raised))


def issues(session: Session, *, seat: str | None = None, status: IssueStatus = "open", limit: int = 100) -> rs.Issues:
    seat_id = get_seat(session, seat).id if seat else None
    found = issue_rules.list_issues(session, seat_id=seat_id, open_only=status == "open")
    return rs.Issues(issues=[rs.issue(i) for i in found[:limit]], truncated=len(found) > limit)


def _seat_ids(session: Session, actor: Actor, seat: str | None) -> set[str] | None:
    """The seats a list is for: the one named, else those the token holds (every seat for an operator: None)."""
    if seat:
        return {get_seat(session, seat).id}
    if actor.operator and actor.holder_id is None:
        return None
    return actor.held_seat_ids(session)


def todos(session: Session, actor: Actor, *, seat: str | None = None, status: TodoStatus = "open") -> rs.Todos:
    """The to-dos of a seat, or of the seats the token holds, soonest due first."""
    today = todo_rules.org_today(session)
    seat_ids = _seat_ids(session, actor, seat)
    found = [
        t
        for t in todo_rules.list_todos(session, open_only=status == "open")
        if (seat_ids is None or t.seat_id in seat_ids) and status in ("open", "all", t.status)
    ]
    return rs.Todos(todos=[rs.todo(t, today) for t in found])


def add_todo(
    session: Session,
    actor: Actor,
    text: str,
    *,
    seat: str | None = None,
    due: str | None = None,
    issue: int | None = None,
    key: str | None = None,
) -> rs.TodoAdded:
    content = {"text": text, "seat": seat, "due": due, "issue": issue}
    today = todo_rules.org_today(session)
    if (made := request_keys.seen(session, actor, "todo", key, content)) is not None:
        return rs.TodoAdded(created=False, todo=rs.todo(todo_rules.get_todo(session, made), today))
    seat_id = seat or default_seat(session, actor, "the to-do").id
    added = todo_rules.add_todo(session, actor, seat_id, text, due=due, issue_id=issue)
    request_keys.remember(session, actor, "todo", key, content, added.id)
    return rs.TodoAdded(created=True, todo=rs.todo(added, today))


def complete_todo(session: Session, actor: Actor, todo_id: int, note: str | None = None) -> rs.Todo:
    done = todo_rules.complete(session, actor, todo_id, note=note)
    return rs.todo(done, todo_rules.org_today(session))


def this_quarter(session: Session) -> str:
    return quarter_of(todo_rules.org_today(session))


def rocks(session: Session, *, seat: str | None = None, quarter: str | None = None) -> rs.Rocks:
    """A quarter's rocks (default: this one, in the org's timezone; `all`: every quarter)."""
    label = None if (quarter or "").strip().lower() == "all" else normal_quarter(quarter or this_quarter(session))
    seat_id = get_seat(session, seat).id if seat else None
    return rs.Rocks(
        quarter=label, rocks=[rs.rock(r) for r in rock_rules.list_rocks(session, seat_id=seat_id, quarter=label)]
    )


def set_track(session: Session, actor: Actor, rock_id: int, track: str) -> rs.TrackSet:
    rock = rock_rules.set_track(session, actor, rock_id, track)
    return rs.track_set(rock, get_seat(session, rock.seat_id), actor.audit_name)


def milestone_done(session: Session, actor: Actor, rock_id: int, n: int) -> rs.Rock:
    return rs.rock(rock_rules.milestone_done(session, actor, rock_id, n))


def headline(session: Session, actor: Actor, text: str, *, via: str) -> rs.Headline:
    """The holder's one-liner for this week's review (a second replaces the first)."""
    return rs.headline(set_headline(session, actor, text, via=via))


def review(session: Session, actor: Actor) -> rs.Review:
    """This week at a glance for the token: the open issues by rank, its open to-dos, its seats' rocks,
    its headline."""
    today = todo_rules.org_today(session)
    week = upcoming_week(session)  # the review a headline given now is for
    quarter = quarter_of(today)
    seat_ids = _seat_ids(session, actor, None)
    held = [r for r in rock_rules.list_rocks(session, quarter=quarter) if seat_ids is None or r.seat_id in seat_ids]
    return rs.Review(
        week=week,
        quarter=quarter,
        issues=[rs.issue(i) for i in issue_rules.list_issues(session)[:MAX_ISSUES]],
        todos=todos(session, actor).todos,
        rocks=[rs.rock(r) for r in held],
        headline=next((rs.headline(h) for h in headlines_for(session, week) if h.holder_id == actor.holder_id), None),
    )
