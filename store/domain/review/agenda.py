"""What each section of a running review shows, read from the store: the to-dos due this
week with their check, the issues by rank, the seats' rocks, and who is asked for a headline
before the meeting (with the manual values their seats still owe)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.reading import seat_order
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.review.meetings import review_setup
from otp_bot.store.domain.review.quarters import quarter_of, week_of
from otp_bot.store.domain.review.setup import attendees as setup_attendees
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.models import Holder, Issue, Metric, MetricValue, Review, Rock, Seat, Todo, TodoCheck


@dataclass(frozen=True)
class TodoLine:
    todo: Todo
    check: TodoCheck | None  # this week's done / not done, once someone said


def week_end(review: Review) -> dt.date:
    return review.week + dt.timedelta(days=6)


def todos_due(session: Session, review: Review) -> list[TodoLine]:
    """Open to-dos due by the end of the review's week, and those already checked this week
    (a to-do checked done is closed, and still on the list, showing who checked it)."""
    checks = {c.todo_id: c for c in session.scalars(select(TodoCheck).where(TodoCheck.week == week_of(review.week)))}
    todos = session.scalars(
        select(Todo)
        .where(or_(Todo.id.in_(list(checks)), (Todo.status == "open") & (Todo.due <= week_end(review))))
        .order_by(Todo.due, Todo.id)
    )
    return [TodoLine(t, checks.get(t.id)) for t in todos]


def issues_ranked(session: Session, review: Review) -> list[Issue]:
    """The open list by rank, and what this review closed (it stays in the list, closed)."""
    return list(
        session.scalars(
            select(Issue)
            .where(or_(Issue.status.in_(("open", "discussed")), Issue.review_id == review.id))
            .order_by(Issue.rank, Issue.id)
        )
    )


def rocks_by_seat(session: Session, review: Review) -> list[tuple[Seat, list[Rock]]]:
    rocks = session.scalars(
        select(Rock)
        .where(Rock.quarter == review_quarter(session, review), Rock.status == "open")
        .order_by(Rock.due, Rock.id)
    )
    by_seat: dict[str, list[Rock]] = {}
    for r in rocks:
        by_seat.setdefault(r.seat_id, []).append(r)
    order = seat_order(session)
    seats = {s.id: s for s in session.scalars(select(Seat).where(Seat.id.in_(list(by_seat))))}
    ranked = sorted(by_seat, key=lambda sid: order.index(sid) if sid in order else len(order))
    return [(seats[sid], by_seat[sid]) for sid in ranked]


# ---------------------------------------------------------------- before the meeting


def prompt_week(session: Session, now: dt.datetime | None = None) -> tuple[dt.date, dt.datetime] | None:
    """When the headline prompts are due (within `headlines_ahead` minutes before the review's
    next scorecard post): that review's week and the post's time."""
    from otp_bot.store.domain.rhythm.schedule_plans import plans

    setup = review_setup(session)
    if setup is None:
        return None
    plan = next((p for p in plans(session) if p.name == setup.schedule), None)
    if plan is None:
        return None
    now = as_utc(now) if now else utcnow()
    upcoming = plan.next_runs(now, 1)
    if not upcoming:
        return None
    post = upcoming[0]
    if post - dt.timedelta(minutes=setup.headlines_ahead) > now:
        return None
    return review_week_of(session, post), post


def attendees(session: Session) -> list[Holder]:
    """The people the review asks for headlines: its human attendees on Slack, chart order."""
    setup = review_setup(session)
    if setup is None:
        return []
    ids = setup_attendees(session, setup)  # none named in the chart: every holder of an active seat
    found = {h.id: h for h in session.scalars(select(Holder).where(Holder.id.in_(ids)))}
    return [found[i] for i in ids if i in found and found[i].kind == "human" and found[i].slack_user]


def review_quarter(session: Session, review: Review) -> str:
    """The quarter a review checks rocks for: that of the day its post went out (a Friday post on
    2 October reviews Q4's rocks, though its week began in September)."""
    from zoneinfo import ZoneInfo

    from otp_bot.store.domain.chart.reading import get_org

    return quarter_of(as_utc(review.opened_at).astimezone(ZoneInfo(get_org(session).timezone)).date())


def review_week_of(session: Session, post_at: dt.datetime) -> dt.date:
    """The week a post at `post_at` reviews, in the org's timezone (as the review opened by it is)."""
    from zoneinfo import ZoneInfo

    from otp_bot.store.domain.chart.reading import get_org

    return week_of(as_utc(post_at).astimezone(ZoneInfo(get_org(session).timezone)).date())


def values_day(week: dt.date) -> dt.date:
    """The day whose period a review asks values for: the last full one before its week (the
    Sunday before its Monday). The week the review opens in has only just begun."""
    return week - dt.timedelta(days=1)


def missing_values(session: Session, holder_id: str, day: dt.date) -> list[Metric]:
    """The manual metrics of the holder's seats with no value yet for the period `day` is in."""
    metrics = list(
        session.scalars(
            select(Metric)
            .join(Seat, Seat.id == Metric.seat_id)
            .where(
                Seat.holder_id == holder_id,
                Seat.status == "active",
                Metric.formula.is_(None),
                Metric.gate_figure.is_(None),
            )
            .order_by(Seat.id, Metric.position, Metric.id)
        )
    )
    missing = []
    for m in metrics:
        start = periods.period_start(day, m.cadence)
        has = session.scalar(
            select(MetricValue.id).where(MetricValue.metric_id == m.id, MetricValue.period_start == start).limit(1)
        )
        if has is None:
            missing.append(m)
    return missing
