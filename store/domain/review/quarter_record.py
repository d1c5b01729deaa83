"""A quarter's decisions as the record holds them: which weekly reviews were held, the issues
solved or dropped, the to-dos made and how they ended, and each seat's rocks.

A read of the tables only, for `otp review export --quarter`: nothing here changes the
record. Times are the org's: a to-do made late on 31 December in New York belongs to Q4
there, whatever the hour in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.reading import get_org, seat_order
from otp_bot.store.domain.review.quarters import normal_quarter, quarter_bounds, week_of
from otp_bot.store.domain.scorecard.periods import today as today_in
from otp_bot.store.models import Holder, Issue, Review, Rock, Seat, Todo, TodoCheck


@dataclass(frozen=True)
class WeekReview:
    week: dt.date  # its Monday
    status: str  # ended, not-held, open, running, or `none` (no review was opened that week)
    facilitator: str | None  # who ran it, by name
    decisions: int  # issues it solved or dropped


@dataclass(frozen=True)
class ClosedIssue:
    id: int
    title: str
    seat: str  # the owning seat's title, with its id
    source: str  # manual, metric (with its period), draft, message, review
    status: str  # solved or dropped
    decision: str  # what was decided, or why it was dropped
    by: str  # who closed it, by name
    at: dt.datetime  # when, in the org's timezone


@dataclass(frozen=True)
class QuarterTodo:
    id: int
    text: str
    seat: str
    due: dt.date
    outcome: str  # done, dropped, not done (checked not done, or past its due day), open
    issue_id: int | None


@dataclass(frozen=True)
class Milestone:
    title: str
    due: dt.date | None
    done: bool


@dataclass(frozen=True)
class QuarterRock:
    id: int
    title: str
    due: dt.date
    status: str  # open, done, dropped
    track: str  # on or off, as last set
    track_note: str  # who set it when, and a proposal waiting for its human
    milestones: list[Milestone]


@dataclass(frozen=True)
class SeatRocks:
    seat: str
    rocks: list[QuarterRock]


@dataclass(frozen=True)
class QuarterRecord:
    quarter: str  # 2026-Q4
    first: dt.date
    last: dt.date
    org: str
    timezone: str
    as_of: dt.date  # the day it was read: a quarter still running is shown up to here
    weeks: list[WeekReview]
    issues: list[ClosedIssue]
    todos: list[QuarterTodo]
    rocks: list[SeatRocks]

    @property
    def held(self) -> int:
        return sum(1 for w in self.weeks if w.status == "ended")


def quarter_record(session: Session, quarter: str, *, today: dt.date | None = None) -> QuarterRecord:
    """The quarter named like `2026-Q4` (Invalid otherwise); weeks after `today` are not listed."""
    label = normal_quarter(quarter)
    first, last = quarter_bounds(label)
    org = get_org(session)
    zone = ZoneInfo(org.timezone)
    today = today or today_in(org.timezone)
    since = dt.datetime.combine(first, dt.time(), zone)
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone)
    names = _Names(session)
    return QuarterRecord(
        quarter=label,
        first=first,
        last=last,
        org=org.name,
        timezone=org.timezone,
        as_of=today,
        weeks=_weeks(session, first, min(last, today), names),
        issues=_issues(session, since, until, zone, names),
        todos=_todos(session, since, until, min(last, today), names),
        rocks=_rocks(session, label, zone, names),
    )


class _Names:
    """Seats and people as a reader knows them: `Client Retention (retention)`, `Bogdan`."""

    def __init__(self, session: Session) -> None:
        self.seats = dict(session.execute(select(Seat.id, Seat.title)).tuples().all())
        self.holders = dict(session.execute(select(Holder.id, Holder.name)).tuples().all())

    def seat(self, seat_id: str) -> str:
        title = self.seats.get(seat_id)
        return f"{title} ({seat_id})" if title else seat_id

    def who(self, audit_name: str | None) -> str:
        """An audit name (`holder:bogdan`, `operator:cli`) as a name."""
        if not audit_name:
            return "unknown"
        kind, _, rest = audit_name.partition(":")
        if kind == "holder":
            return self.holders.get(rest, rest)
        return f"an operator ({rest})" if kind == "operator" else audit_name


def _local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    # SQLite gives back naive UTC; PostgreSQL an aware time.
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(zone)


def _weeks(session: Session, first: dt.date, last: dt.date, names: _Names) -> list[WeekReview]:
    """Each week whose Monday falls in the quarter, up to the current one."""
    monday = week_of(first)
    if monday < first:
        monday += dt.timedelta(days=7)
    mondays = []
    while monday <= last:
        mondays.append(monday)
        monday += dt.timedelta(days=7)
    if not mondays:
        return []
    reviews = {r.week: r for r in session.scalars(select(Review).where(Review.week.in_(mondays)))}
    decided = Counter(
        session.scalars(
            select(Issue.review_id).where(
                Issue.review_id.in_([r.id for r in reviews.values()]), Issue.status.in_(("solved", "dropped"))
            )
        )
    )
    out = []
    for week in mondays:
        review = reviews.get(week)
        if review is None:
            out.append(WeekReview(week, "none", None, 0))
            continue
        out.append(
            WeekReview(
                week,
                review.status,
                names.holders.get(review.facilitator_id or "", review.facilitator_id),
                decided.get(review.id, 0),
            )
        )
    return out


def _issues(
    session: Session, since: dt.datetime, until: dt.datetime, zone: ZoneInfo, names: _Names
) -> list[ClosedIssue]:
    rows = session.scalars(
        select(Issue)
        .where(Issue.status.in_(("solved", "dropped")), Issue.closed_at >= since, Issue.closed_at < until)
        .order_by(Issue.closed_at, Issue.id)
    )
    out = []
    for issue in rows:
        source = issue.source
        if issue.source == "metric" and issue.metric_id:
            source = f"metric {issue.metric_id}" + (f", period of {issue.period.isoformat()}" if issue.period else "")
        elif issue.source == "draft" and issue.draft_id:
            source = f"draft #{issue.draft_id}"
        assert issue.closed_at is not None  # selected on it
        out.append(
            ClosedIssue(
                id=issue.id,
                title=issue.title,
                seat=names.seat(issue.seat_id),
                source=source,
                status=issue.status,
                decision=issue.decision or "",
                by=names.who(issue.closed_by),
                at=_local(issue.closed_at, zone),
            )
        )
    return out


def _todos(session: Session, since: dt.datetime, until: dt.datetime, last: dt.date, names: _Names) -> list[QuarterTodo]:
    todos = list(
        session.scalars(
            select(Todo).where(Todo.created_at >= since, Todo.created_at < until).order_by(Todo.created_at, Todo.id)
        )
    )
    # The latest weekly check of each open one: a review that said "not done" is the record's word.
    missed = set(
        session.scalars(
            select(TodoCheck.todo_id).where(
                TodoCheck.todo_id.in_([t.id for t in todos if t.status == "open"]), TodoCheck.done.is_(False)
            )
        )
    )
    out = []
    for todo in todos:
        if todo.status != "open":
            outcome = todo.status
        elif todo.id in missed or todo.due < last:
            outcome = "not done"
        else:
            outcome = "open"
        out.append(QuarterTodo(todo.id, todo.text, names.seat(todo.seat_id), todo.due, outcome, todo.issue_id))
    return out


def _rocks(session: Session, quarter: str, zone: ZoneInfo, names: _Names) -> list[SeatRocks]:
    rows = list(session.scalars(select(Rock).where(Rock.quarter == quarter).order_by(Rock.due, Rock.id)))
    order = {seat_id: n for n, seat_id in enumerate(seat_order(session))}
    by_seat: dict[str, list[QuarterRock]] = {}
    for rock in sorted(rows, key=lambda r: (order.get(r.seat_id, len(order)), r.due, r.id)):
        by_seat.setdefault(rock.seat_id, []).append(
            QuarterRock(
                id=rock.id,
                title=rock.title,
                due=rock.due,
                status=rock.status,
                track=rock.track,
                track_note=_track_note(rock, zone, names),
                milestones=[
                    Milestone(
                        str(m.get("title", "")),
                        dt.date.fromisoformat(m["due"]) if m.get("due") else None,
                        bool(m.get("done")),
                    )
                    for m in rock.milestones or []
                ],
            )
        )
    return [SeatRocks(names.seat(seat_id), rocks) for seat_id, rocks in by_seat.items()]


def _track_note(rock: Rock, zone: ZoneInfo, names: _Names) -> str:
    parts = []
    if rock.track_set_at is not None:
        parts.append(f"set by {names.who(rock.track_set_by)} on {_local(rock.track_set_at, zone).date().isoformat()}")
    else:
        parts.append("as set when added")
    if rock.proposed_track:
        parts.append(f"{names.who(rock.proposed_by)} proposes {rock.proposed_track} track, awaiting confirmation")
    return "; ".join(parts)
