"""The weekly review meeting: opened under the week's scorecard post, started by its
facilitator, walked through its sections in order, ended with a summary of what it decided;
or, when nobody ran it, recorded as not held.

Who runs it: the facilitator the chart file names (kept on the review when it opens), or an
operator. Every transition is audited (`review.opened/started/section/ended/not_held`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import accountable_human, get_org
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid, NotFound
from otp_bot.store.domain.review import thread_queue, todos
from otp_bot.store.domain.review.quarters import week_of
from otp_bot.store.models import REVIEW_SECTIONS, Issue, Review, ReviewSetup, Rock, Seat, Todo, TodoCheck

SECTIONS = REVIEW_SECTIONS  # scorecard → rocks → headlines → todos → issues
OPENER = "system"  # the audit name of what happens on its own (the scheduler), as elsewhere


def review_setup(session: Session) -> ReviewSetup | None:
    return session.get(ReviewSetup, 1)


def get_review(session: Session, review_id: int | str, *, lock: bool = False) -> Review:
    """The review; `lock`: for a change, so two clicks at once (two processes) change it one after the other."""
    try:
        query = select(Review).where(Review.id == int(review_id))
    except (TypeError, ValueError):
        query = None
    if query is not None and lock:
        # The review's row only (its facilitator is joined in, and stays unlocked).
        query = query.with_for_update(of=Review).execution_options(populate_existing=True)
    found = session.scalar(query) if query is not None else None
    if found is None:
        raise NotFound(f"there is no review {str(review_id)[:20]}", hint="the weekly scorecard post opens one")
    return found


def review_for_week(session: Session, week: dt.date) -> Review | None:
    return session.scalar(select(Review).where(Review.week == week_of(week)))


def local_today(session: Session, now: dt.datetime | None = None) -> dt.date:
    return (as_utc(now) if now else utcnow()).astimezone(ZoneInfo(get_org(session).timezone)).date()


def open_review(
    session: Session,
    *,
    week: dt.date,
    channel: str,
    thread_ts: str,
    run_id: int | None = None,
    facilitator_id: str | None = None,
    now: dt.datetime | None = None,
) -> Review:
    """The week's review, opened once under its scorecard post; opened again, the same review."""
    week = week_of(week)
    existing = review_for_week(session, week)
    if existing is not None:
        return existing
    setup = review_setup(session)
    review = Review(
        week=week,
        status="open",
        channel=channel,
        thread_ts=thread_ts,
        run_id=run_id,
        facilitator_id=facilitator_id or (setup.facilitator_id if setup else None),
        opened_at=now or utcnow(),
        summary={},
    )
    try:
        with session.begin_nested():  # two posters at once: the second finds the first's review
            session.add(review)
            session.flush()
    except IntegrityError:
        found = review_for_week(session, week)
        if found is None:
            raise
        return found
    audit.record(
        session,
        OPENER,
        "review.opened",
        f"review:{review.id}",
        week=week.isoformat(),
        channel=channel,
        thread_ts=thread_ts,
        facilitator=review.facilitator_id,
    )
    thread_queue.queue_opening(session, review)
    return review


def may_run(session: Session, actor: Actor, review: Review) -> bool:
    if actor.operator:
        return True
    facilitator = review.facilitator_id
    if facilitator is None and (setup := review_setup(session)) is not None:
        facilitator = setup.facilitator_id
    return actor.holder_id is not None and actor.holder_id == facilitator


def _who_runs(review: Review) -> str:
    name = review.facilitator.name if review.facilitator else None
    return f"only the facilitator ({name}) or an operator" if name else "only the facilitator or an operator"


def _refuse_unless_running(review: Review) -> None:
    if review.status == "ended":
        raise Conflict(
            f"the review of the week of {review.week.isoformat()} has ended; nothing was changed",
            hint="what it decided is in the summary in its thread",
        )
    if review.status == "not-held":
        raise Conflict(f"the review of the week of {review.week.isoformat()} was recorded as not held")
    if review.status != "running":
        raise Conflict("the review has not started yet", hint="the facilitator starts it with *Start*")


def running_review(session: Session, actor: Actor, review_id: int | str, *, lock: bool = False) -> Review:
    """The review, if it is running and `actor` may run it: what every button in its thread asks."""
    review = get_review(session, review_id, lock=lock)
    _refuse_unless_running(review)
    if not may_run(session, actor, review):
        raise Forbidden(f"{_who_runs(review)} can run the review", hint="you can follow along in the thread")
    return review


def start(session: Session, actor: Actor, review_id: int | str, *, now: dt.datetime | None = None) -> Review:
    review = get_review(session, review_id, lock=True)
    if review.status in ("running", "ended"):
        raise Conflict(
            f"the review is already {review.status}; it is started once",
            hint="*Next section* moves it on" if review.status == "running" else None,
        )
    if review.status == "not-held":
        raise Conflict(f"the review of the week of {review.week.isoformat()} was recorded as not held")
    if not may_run(session, actor, review):
        raise Forbidden(f"{_who_runs(review)} can start the review")
    review.status, review.section = "running", SECTIONS[0]
    review.started_by, review.started_at = actor.audit_name, now or utcnow()
    session.flush()
    audit.record(session, actor.audit_name, "review.started", f"review:{review.id}", week=review.week.isoformat())
    thread_queue.queue_section(session, review, review.section)
    return review


def advance(
    session: Session, actor: Actor, review_id: int | str, section: str | None = None, *, after: str | None = None
) -> Review:
    """On to the next section (or to a later one by name): the order is kept, never gone back on.
    `after`: the section the click was made in; a second click there does not skip one."""
    review = running_review(session, actor, review_id, lock=True)
    if after is not None and review.section != after:
        raise Conflict(f"the review has already moved on to {review.section}", hint="its reply is in the thread")
    here = SECTIONS.index(review.section) if review.section in SECTIONS else -1
    if section is None:
        if here + 1 >= len(SECTIONS):
            raise Invalid("the issues are the last section", hint="*End* the review to post its summary")
        section = SECTIONS[here + 1]
    if section not in SECTIONS:
        raise Invalid(f"`{section[:30]}` is not a section of the review", hint=f"the sections: {', '.join(SECTIONS)}")
    if SECTIONS.index(section) <= here:
        raise Invalid(f"the review is past {section}", hint="the sections go in order, once each")
    review.section = section
    session.flush()
    audit.record(session, actor.audit_name, "review.section", f"review:{review.id}", section=section)
    thread_queue.queue_section(session, review, section)
    return review


def end(session: Session, actor: Actor, review_id: int | str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """End a running review; its summary (kept on the review) is returned."""
    review = running_review(session, actor, review_id, lock=True)
    review.status = "ended"
    review.ended_by, review.ended_at = actor.audit_name, now or utcnow()
    todos.close_week(
        session, actor.audit_name, review.week, before=as_utc(review.started_at or review.ended_at), review_id=review.id
    )
    review.summary = summarise(session, review)
    session.flush()
    s = review.summary
    audit.record(
        session,
        actor.audit_name,
        "review.ended",
        f"review:{review.id}",
        issues=[i["id"] for i in s["issues"]],
        todos=[t["id"] for t in s["todos"]],
        checks=len(s["checks"]),
    )
    thread_queue.queue_end(session, review, s)
    return s


def _owner(seat: Seat | None) -> tuple[str | None, str | None]:
    """The seat's holder and the human who answers for it (the holder, or an agent's supervisor)."""
    holder = seat.holder if seat else None
    human = accountable_human(holder)
    return (holder.id if holder else None), (human.id if human else None)


def summarise(session: Session, review: Review) -> dict[str, Any]:
    """What the review decided: issues solved or dropped in it, the to-dos their solutions
    made, the week's to-do checks, and the rocks off track."""
    issues = list(
        session.scalars(
            select(Issue)
            .where(Issue.review_id == review.id, Issue.status.in_(("solved", "dropped")))
            .order_by(Issue.closed_at, Issue.id)
        )
    )
    todos = [t for i in issues for t in i.todos]
    seats = {s.id: s for s in session.scalars(select(Seat))}
    out_todos = []
    for t in todos:
        holder, human = _owner(seats.get(t.seat_id))
        out_todos.append(
            {
                "id": t.id,
                "text": t.text,
                "seat": t.seat_id,
                "holder": holder,
                "owner": human,
                "due": t.due.isoformat(),
                "issue": t.issue_id,
            }
        )
    # The week's checks: those made in the review and those made as a to-do was done during the week.
    checks = session.scalars(
        select(TodoCheck)
        .where(or_(TodoCheck.review_id == review.id, TodoCheck.week == review.week))
        .order_by(TodoCheck.id)
    )
    out_checks = []
    for c in checks:
        todo = session.get(Todo, c.todo_id)
        out_checks.append({"todo": c.todo_id, "text": todo.text if todo else "", "seat": c.seat_id, "done": c.done})
    from otp_bot.store.domain.review.agenda import review_quarter  # agenda reads this module

    rocks = session.scalars(
        select(Rock)
        .where(Rock.quarter == review_quarter(session, review), Rock.status == "open", Rock.track == "off")
        .order_by(Rock.seat_id, Rock.id)
    )
    return {
        "week": review.week.isoformat(),
        "issues": [
            {"id": i.id, "title": i.title, "seat": i.seat_id, "status": i.status, "decision": i.decision or ""}
            for i in issues
        ],
        "todos": out_todos,
        "checks": out_checks,
        "rocks_off_track": [{"id": r.id, "seat": r.seat_id, "title": r.title, "due": r.due.isoformat()} for r in rocks],
    }


def mark_not_held(session: Session, now: dt.datetime | None = None) -> list[Review]:
    """A review nobody started by the day after its week's post is recorded as not held; so is
    a week whose post went out (or was due) under the review's schedule with no review at all."""
    setup = review_setup(session)
    if setup is None:
        return []
    now = as_utc(now) if now else utcnow()
    today = local_today(session, now)
    zone = ZoneInfo(get_org(session).timezone)
    marked = []
    for review in session.scalars(select(Review).where(Review.status == "open")):
        if as_utc(review.opened_at).astimezone(zone).date() < today:
            review.status = "not-held"
            marked.append(review)
    due = _last_post(session, setup.schedule, now)
    if due is not None and due.astimezone(zone).date() < today:
        week = week_of(due.astimezone(zone).date())
        if review_for_week(session, week) is None:
            review = Review(
                week=week, status="not-held", facilitator_id=setup.facilitator_id, opened_at=now, summary={}
            )
            try:
                with session.begin_nested():
                    session.add(review)
                    session.flush()
                marked.append(review)
            except IntegrityError:
                pass  # another process recorded the week meanwhile
    session.flush()
    for review in marked:
        audit.record(session, OPENER, "review.not_held", f"review:{review.id}", week=review.week.isoformat())
        todos.close_week(session, OPENER, review.week, before=now, review_id=review.id)  # nobody said they were done
    return marked


def _last_post(session: Session, schedule: str, now: dt.datetime) -> dt.datetime | None:
    """When the review's scorecard schedule last fell due, or None (no such schedule)."""
    from otp_bot.store.domain.rhythm.schedule_plans import plans

    plan = next((p for p in plans(session) if p.name == schedule), None)
    return plan.latest_due(now) if plan is not None else None
