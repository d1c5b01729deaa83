"""To-dos: a commitment owned by a seat, due in 7 days unless said otherwise.

Each week's review records whether each to-do due by then was done (`TodoCheck`, one per
to-do and week); those checks are the seat's to-do completion rate. A to-do stays open until
it is done or dropped, so one not done this week comes up again next week."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_org, get_seat
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid, NotFound
from otp_bot.store.domain.review.due_dates import parse_due, split_due
from otp_bot.store.domain.review.quarters import week_of
from otp_bot.store.domain.review.rights import holds, is_agent, live_seat, may_manage, require_on_chart
from otp_bot.store.domain.scorecard.periods import today as today_in
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import Issue, Seat, Todo, TodoCheck

DEFAULT_DAYS = 7
MAX_DAYS_AHEAD = 366
MAX_TEXT = 500


def org_today(session: Session) -> dt.date:
    return today_in(get_org(session).timezone)


def get_todo(session: Session, todo_id: int) -> Todo:
    todo = session.get(Todo, todo_id)
    if todo is None:
        raise NotFound(f"there is no to-do #{todo_id}", hint="`todos` lists the open ones")
    return todo


def list_todos(session: Session, *, seat_id: str | None = None, open_only: bool = True) -> list[Todo]:
    """Soonest due first."""
    query = select(Todo).order_by(Todo.due, Todo.id)
    if seat_id is not None:
        query = query.where(Todo.seat_id == seat_id)
    if open_only:
        query = query.where(Todo.status == "open")
    return list(session.scalars(query))


def add_todo(
    session: Session,
    actor: Actor,
    seat_id: str,
    text: str,
    *,
    due: str | dt.date | None = None,
    issue_id: int | None = None,
    today: dt.date | None = None,
) -> Todo:
    require_on_chart(actor, "add to-dos")
    seat = live_seat(session, seat_id, "a to-do")
    if is_agent(session, actor) and not holds(actor, seat):
        raise Forbidden("an agent adds to-dos for its own seats only", hint="raise an issue for the other seat instead")
    text = clean_text(text, "the to-do", multiline=False, limit=MAX_TEXT)
    today = today or org_today(session)
    if not due:
        text, due = split_due(text, today)  # `call Acme by friday`: the day is the due date
    if not text:
        raise Invalid("say what is to be done", hint="e.g. `todo <seat> Call Acme about renewal --due friday`")
    day = due if isinstance(due, dt.date) else (parse_due(due, today) if due else today + dt.timedelta(DEFAULT_DAYS))
    if day < today:
        raise Invalid(f"{day.isoformat()} is in the past; a to-do is due today or later")
    if (day - today).days > MAX_DAYS_AHEAD:
        raise Invalid(f"{day.isoformat()} is more than a year ahead; that is a rock, not a to-do")
    if issue_id is not None and session.get(Issue, issue_id) is None:
        raise NotFound(f"there is no issue #{issue_id}")
    todo = Todo(
        text=text,
        seat_id=seat.id,
        issue_id=issue_id,
        due=day,
        status="open",
        created_by=actor.audit_name,
        created_at=utcnow(),
    )
    session.add(todo)
    session.flush()
    audit.record(
        session, actor.audit_name, "todo.added", f"todo:{todo.id}", seat=seat.id, due=day, issue=issue_id, text=text
    )
    return todo


def may_report(session: Session, actor: Actor, seat: Seat) -> bool:
    """The seat's holder reports on its own to-dos; those who answer for the seat may too."""
    return holds(actor, seat) or may_manage(session, actor, seat)


def _require_report(session: Session, actor: Actor, todo: Todo) -> None:
    seat = get_seat(session, todo.seat_id)
    if not may_report(session, actor, seat):
        raise Forbidden(
            f"to-do #{todo.id} is `{seat.id}`'s: its holder, the people who answer for the seat "
            "and the review's facilitator report on it"
        )


def _open(session: Session, todo_id: int, what: str) -> Todo:
    todo = get_todo(session, todo_id)
    if todo.status != "open":
        raise Conflict(f"to-do #{todo.id} is already {todo.status}; it cannot be {what}")
    return todo


def complete(session: Session, actor: Actor, todo_id: int, *, note: str | None = None) -> Todo:
    todo = _open(session, todo_id, "completed again")
    _require_report(session, actor, todo)
    todo.status, todo.closed_by, todo.closed_at = "done", actor.audit_name, utcnow()
    todo.note = clean_text(note, "the note", multiline=True, limit=2000) or None
    # Done between reviews counts for this week, as if reported at its review: the completion
    # rate would otherwise miss exactly the to-dos people finish early.
    week = week_of(org_today(session))
    if session.scalar(select(TodoCheck.id).where(TodoCheck.todo_id == todo.id, TodoCheck.week == week)) is None:
        session.add(
            TodoCheck(
                todo_id=todo.id,
                seat_id=todo.seat_id,
                week=week,
                done=True,
                checked_by=actor.audit_name,
                checked_at=todo.closed_at,
            )
        )
    audit.record(session, actor.audit_name, "todo.done", f"todo:{todo.id}", seat=todo.seat_id, note=todo.note)
    return todo


def drop_todo(session: Session, actor: Actor, todo_id: int, reason: str) -> Todo:
    todo = _open(session, todo_id, "dropped")
    seat = get_seat(session, todo.seat_id)
    if not may_manage(session, actor, seat):
        raise Forbidden(f"only the people who answer for `{seat.id}` or the facilitator drop its to-dos")
    reason = clean_text(reason, "the reason", multiline=True, limit=2000)
    if not reason:
        raise Invalid("say why the to-do is dropped", hint=f"e.g. `todo drop {todo.id} no longer needed`")
    todo.status, todo.closed_by, todo.closed_at, todo.note = "dropped", actor.audit_name, utcnow(), reason
    audit.record(session, actor.audit_name, "todo.dropped", f"todo:{todo.id}", seat=todo.seat_id, reason=reason)
    return todo


def check(
    session: Session,
    actor: Actor,
    todo_id: int,
    done: bool,
    *,
    review_id: int | None = None,
    week: dt.date | None = None,
) -> TodoCheck:
    """This week's done / not done for an open to-do; done also completes it. Once per to-do and week."""
    todo = get_todo(session, todo_id)
    week = week_of(week or org_today(session))
    if session.scalar(select(TodoCheck.id).where(TodoCheck.todo_id == todo.id, TodoCheck.week == week)):
        raise Conflict(f"to-do #{todo.id} was already checked for the week of {week.isoformat()}")
    if todo.status != "open":
        raise Conflict(f"to-do #{todo.id} is already {todo.status}")
    _require_report(session, actor, todo)
    row = TodoCheck(
        todo_id=todo.id,
        review_id=review_id,
        seat_id=todo.seat_id,
        week=week,
        done=done,
        checked_by=actor.audit_name,
        checked_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(f"to-do #{todo.id} was just checked by someone else for this week") from None
    if done:
        todo.status, todo.closed_by, todo.closed_at = "done", actor.audit_name, utcnow()
    audit.record(session, actor.audit_name, "todo.checked", f"todo:{todo.id}", week=week, done=done, review=review_id)
    return row


def close_week(
    session: Session, actor: str, week: dt.date, *, before: dt.datetime, review_id: int | None = None
) -> int:
    """At the end of a week's review (or when it was not held): every open to-do due by the
    week's end, made `before` the review began, that nobody checked is recorded not done for
    that week. Left out, the completion rate would count only the to-dos finished and never
    the ones let slide; the to-dos the review itself made are for the next one."""
    week = week_of(week)
    checked = select(TodoCheck.todo_id).where(TodoCheck.week == week)
    late = session.scalars(
        select(Todo)
        .where(
            Todo.status == "open",
            Todo.due <= week + dt.timedelta(days=6),
            Todo.created_at < before,
            Todo.id.not_in(checked),
        )
        .order_by(Todo.id)
    ).all()
    now = utcnow()
    for todo in late:
        session.add(
            TodoCheck(
                todo_id=todo.id,
                review_id=review_id,
                seat_id=todo.seat_id,
                week=week,
                done=False,
                checked_by=actor,
                checked_at=now,
            )
        )
    if late:
        session.flush()
        audit.record(
            session, actor, "todo.not_done", f"week:{week.isoformat()}", todos=[t.id for t in late], review=review_id
        )
    return len(late)


def overdue(session: Session, today: dt.date) -> list[Todo]:
    """Open to-dos whose due day has passed, the longest overdue first."""
    return list(
        session.scalars(select(Todo).where(Todo.status == "open", Todo.due < today).order_by(Todo.due, Todo.id))
    )


def completion(session: Session, seat_id: str, weeks: list[dt.date]) -> dict[dt.date, tuple[int, int]]:
    """Per week (a Monday): (to-dos checked done, to-dos checked) for the seat; weeks with no check are left out."""
    if not weeks:
        return {}
    rows = session.execute(
        select(TodoCheck.week, func.count(), func.sum(case((TodoCheck.done, 1), else_=0)))
        .where(TodoCheck.seat_id == seat_id, TodoCheck.week.in_(weeks))
        .group_by(TodoCheck.week)
    )
    return {week: (int(done or 0), int(total)) for week, total, done in rows}
