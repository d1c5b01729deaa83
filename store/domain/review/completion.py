"""The to-do completion rate as a row of each seat's scorecard, computed, never entered.

Every seat whose to-dos were checked at a review (`TodoCheck`) gets a weekly row "To-do
completion": in each week, the share of its to-dos checked that week that were done
(done ÷ checked). A week without a check has no value, not 0%, and is no miss: nothing was
due. The goal is ≥ 90%, the rate a team keeps when its to-dos are real commitments.

By default the row is not in the chart file and has no metric in the store: its id,
`todo-completion:<seat>`, cannot be a chart metric's (a chart id has no colon). A seat that
wants another goal (or name) declares the row as one of its metrics with
`review: todo-completion` (a percent, weekly), as a gate figure is declared; that metric
then is the seat's row, with or without checks yet. Either way a value pushed to it is
refused, and the scorecard math reads it like any metric (metrics.py), so it is judged on
and off track, coloured and shown wherever the seat's metrics are.

One grouped read serves every seat at once: the scorecard is read for thousands of seats.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from sqlalchemy import String, case, func, select, type_coerce
from sqlalchemy.orm import Session

from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.scorecard.metric_facts import MetricFacts
from otp_bot.store.models import Seat, TodoCheck

FIGURE = "todo-completion"  # the chart file's `review:` figure
PREFIX = f"{FIGURE}:"
NAME = "To-do completion"
GOAL = 90.0  # percent points, the percent kind's stored form
FEW_SEATS = 500  # seats read by name; more are read with the whole org's weeks
LAST = 1_000_000  # after the seat's own metrics, whatever their positions


class _OfSeat(Protocol):
    @property
    def seat_id(self) -> str: ...
    @property
    def review_figure(self) -> str | None: ...


M = TypeVar("M", bound=_OfSeat)


def is_completion(metric_id: str) -> bool:
    """The id of a seat's default completion row (no metric in the store behind it)."""
    return metric_id.startswith(PREFIX)


class _Measured(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def seat_id(self) -> str: ...
    @property
    def review_figure(self) -> str | None: ...


def is_rate(metric: _Measured) -> bool:
    """A completion row: a seat's default one, or a chart metric declaring `review: todo-completion`."""
    return metric.review_figure == FIGURE or is_completion(metric.id)


def completion_metric(seat_id: str) -> MetricFacts:
    """The seat's completion row, as the scorecard math reads a metric."""
    return MetricFacts(
        f"{PREFIX}{seat_id}",
        seat_id,
        NAME,
        "percent",
        None,
        None,
        ">=",
        GOAL,
        None,
        "weekly",
        "last",
        None,
        None,
        FIGURE,
        LAST,
    )


def refuse_values(metric_id: str, seat_id: str | None = None) -> Invalid:
    """The answer to a value pushed to a completion row."""
    seat = seat_id or metric_id.removeprefix(PREFIX) or "a seat"
    return Invalid(
        f"`{metric_id[:80]}` is computed from the to-dos checked at each review (done ÷ checked for `{seat[:64]}`); "
        "it takes no values by hand",
        hint="mark to-dos done or not done in the review, or `todo done <id>`",
    )


def checked_seats(session: Session, seat_ids: Iterable[str] | None = None) -> set[str]:
    """The seats, not retired, with at least one to-do check (of `seat_ids`, or of the whole chart)."""
    query = (
        select(TodoCheck.seat_id).join(Seat, Seat.id == TodoCheck.seat_id).where(Seat.status != "retired").distinct()
    )
    found = set(session.scalars(query))
    return found if seat_ids is None else found & set(seat_ids)


def with_completion(
    session: Session, metrics: Sequence[M], seat_ids: Iterable[str] | None = None
) -> list[M | MetricFacts]:
    """`metrics` followed by the completion rows of the seats (of `seat_ids`, or all) that have
    checks, except those whose metrics already declare theirs."""
    declared = {m.seat_id for m in metrics if m.review_figure == FIGURE}
    extra = [completion_metric(s) for s in sorted(checked_seats(session, seat_ids) - declared)]
    return [*metrics, *extra]


def completion_values(
    session: Session, metrics: Sequence[_Measured], window: Sequence[dt.date], today: dt.date
) -> dict[str, list[float | None]]:
    """Each completion row's percent in each week of `window` (None where no to-do was checked)."""
    wanted: dict[str, list[str]] = {}
    for m in metrics:
        if is_rate(m):
            wanted.setdefault(m.seat_id, []).append(m.id)
    weeks = [w for w in window if w <= today]
    if not wanted or not weeks:
        return {}
    slot_of: dict[object, int] = {}
    for i, week in enumerate(window):
        slot_of[week] = slot_of[week.isoformat()] = i  # the driver's date, or SQLite's text
    found: dict[str, list[float | None]] = {}
    # Grouped in the order of ix_todo_checks_week_seat: read from the index alone, no sort.
    query = (
        select(
            type_coerce(TodoCheck.week, String),
            TodoCheck.seat_id,
            func.count(),
            func.sum(case((TodoCheck.done, 1), else_=0)),
        )
        .where(TodoCheck.week.in_(weeks))
        .group_by(TodoCheck.week, TodoCheck.seat_id)
    )
    if len(wanted) <= FEW_SEATS:  # a page of seats: only theirs
        query = query.where(TodoCheck.seat_id.in_(sorted(wanted)))
    for week, seat_id, checked, done in session.execute(query):
        slot = slot_of.get(week)
        if slot is None or not checked:
            continue
        for mid in wanted.get(seat_id, ()):
            found.setdefault(mid, [None] * len(window))[slot] = 100.0 * int(done or 0) / int(checked)
    return found
