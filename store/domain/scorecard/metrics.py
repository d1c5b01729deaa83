"""The scorecard: recording values and judging them against goals.

Two judgements, each defined once, here, and shown the same way everywhere:
- **on / off track**: a value meets its goal or not. A metric is off track when its latest
  value is (`MetricRow.off_track`).
- **status**, the colour, over the last STATUS_WINDOW periods: green when every one was on
  track, yellow with one miss, red with two or more. A period without a value is a miss,
  except the current one, which may simply not be reported yet. So a metric whose latest
  value is on track can be red: it missed the two periods before.

Values are never overwritten. Within a period, values are combined by the metric's
aggregation (last, sum, avg, min, max); a correction row restarts its period, so the
history shows both what was said and what was corrected.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.locks import hold_chart
from otp_bot.store.domain.chart.reading import get_metric, get_org
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.review import completion
from otp_bot.store.domain.scorecard import periods, seat_activity
from otp_bot.store.domain.scorecard.goals import Goal, format_value
from otp_bot.store.domain.scorecard.measures import Measure, measure_of
from otp_bot.store.domain.scorecard.period_values import MetricLike, PeriodReader, period_values

# Recording many values at once has its own module (the same rules, a handful of statements
# a batch); it is importable from here too.
from otp_bot.store.domain.scorecard.value_batches import MAX_BATCH, BatchResult, ItemResult, Value, record_values  # noqa: F401
from otp_bot.store.domain.scorecard.value_rules import (
    check_note_and_key,
    check_takes_values,
    may_push,
    parse_number,
    period_start_of,
)
from otp_bot.store.models import Cadence, Metric, MetricValue

DEFAULT_WEEKS = 13
Status = Literal["green", "yellow", "red", "none"]  # over the last STATUS_WINDOW periods
STATUS_WINDOW = 3


def goal_of(metric: MetricLike) -> Goal:
    return Goal(metric.goal_op, metric.goal_value, metric.goal_high)


GoalKey = tuple[str, float, float | None]


def shared_goal(goals: dict[GoalKey, Goal], metric: MetricLike) -> Goal:
    """`goal_of(metric)`, one object per distinct goal in `goals`: ten thousand metrics share a
    few dozen. A goal at zero is made apart: 0.0 and -0.0 are one key but read `0` and `-0`."""
    if not metric.goal_value:
        return goal_of(metric)
    key = (metric.goal_op, metric.goal_value, metric.goal_high)
    return goals.get(key) or goals.setdefault(key, goal_of(metric))


# ---------------------------------------------------------------- recording


@dataclass
class Recorded:
    value: MetricValue
    created: bool  # False when the idempotency key had been seen: nothing new was written
    on_track: bool | None


def can_record(session: Session, actor: Actor, metric: Metric) -> None:
    seat = metric.seat
    may_push(actor, metric.id, seat.id, seat.holder_id, seat.holder.name if seat.holder else None)


def record_value(
    session: Session,
    actor: Actor,
    metric_id: str,
    value: str | float | Decimal,
    *,
    period: str | dt.date | None = None,
    source: str = "manual",
    note: str | None = None,
    key: str | None = None,
    correction: bool = False,
) -> Recorded:
    if completion.is_completion(metric_id.strip().lower()):
        raise completion.refuse_values(metric_id.strip().lower())
    hold_chart(session)  # before the metric is read: a chart import waits for the value, or it for the import
    metric = get_metric(session, metric_id)
    can_record(session, actor, metric)
    check_takes_values(metric.id, metric.seat_id, metric.seat.status, metric.formula, metric.gate_figure)
    if metric.review_figure:
        raise completion.refuse_values(metric.id, metric.seat_id)
    org = get_org(session)
    number = parse_number(metric.id, measure_of(metric), value, org.decimal_mark, org.currency)
    note = check_note_and_key(note, key)
    tz = org.timezone
    start = period_start_of(period, metric.cadence, tz, periods.period_start(periods.today(tz), metric.cadence))

    if key is not None:
        existing = session.scalar(
            select(MetricValue).where(
                MetricValue.metric_id == metric.id, MetricValue.period_start == start, MetricValue.idem_key == key
            )
        )
        if existing is not None:
            return Recorded(existing, False, goal_of(metric).met_by(existing.value))
    row = MetricValue(
        metric_id=metric.id,
        period_start=start,
        value=number,
        is_correction=correction,
        source=source,
        entered_by=actor.audit_name,
        note=note,
        idem_key=key,
        recorded_at=dt.datetime.now(dt.UTC),
    )
    session.add(row)
    session.flush()
    seat_activity.note_values(session, [metric.seat_id], row.recorded_at)  # before the audit entry
    audit.record(
        session,
        actor.audit_name,
        "metric.value" + (".corrected" if correction else ".recorded"),
        f"metric:{metric.id}",
        period=start.isoformat(),
        value=number,
        source=source,
        note=note,
    )
    return Recorded(row, True, goal_of(metric).met_by(number))


# ---------------------------------------------------------------- reading


class Cell(NamedTuple):  # an org-wide scorecard makes 130,000 of these: a tuple is the cheapest
    period: dt.date
    value: float | None
    on_track: bool | None


@dataclass(slots=True)  # one per metric: the briefing makes ten thousand
class MetricRow:
    metric: MetricLike
    goal: Goal
    cells: list[Cell]
    status: Status
    trend: str | None  # up, down, flat
    average: float | None
    latest: Cell | None  # the last cell with a value
    window: int = 0  # periods the status looked at (fewer than STATUS_WINDOW for a new metric)
    missed: int = 0  # of those, periods with a value off track
    unreported: int = 0  # of those, periods without a value (each a miss too)

    @property
    def off_track(self) -> bool:
        latest = self.latest
        return latest is not None and latest.on_track is False

    @property
    def measure(self) -> Measure:
        return measure_of(self.metric)

    def show(self, value: float | None) -> str:
        return format_value(value, measure_of(self.metric))

    def describe_goal(self) -> str:
        return self.goal.describe(measure_of(self.metric))

    @property
    def improving(self) -> bool | None:
        better = self.goal.higher_is_better
        if better is None or self.trend in (None, "flat"):
            return None
        return (self.trend == "up") == better


def windowed_values(
    session: Session,
    metrics: Sequence[MetricLike],
    weeks: int,
    today: dt.date | None,
    org_wide: bool | None,
    read: PeriodReader = period_values,
) -> tuple[dict[Cadence, list[dt.date]], dict[Cadence, dict[str, list[float | None]]]]:
    """The periods of each cadence that the last `weeks` touch (at least enough for a status),
    and each metric's values in them, by cadence, as `read` finds them."""
    if not 1 <= weeks <= 52:
        raise Invalid("--weeks takes a number from 1 to 52")
    today = today or periods.today(get_org(session).timezone)
    # One window per cadence, shared by its metrics (computed per metric it cost more than the reads).
    by_cadence = {
        c: periods.window(today, c, weeks if c == "weekly" else max(STATUS_WINDOW + 1, -(-weeks // periods.WEEKS[c])))
        for c in {m.cadence for m in metrics}
    }
    # Each cadence read from its own window's start: four months of a monthly metric's history
    # must not pull four months of every weekly one. (A formula combines metrics of one cadence.)
    values = {
        cadence: read(session, [m for m in metrics if m.cadence == cadence], window, org_wide=org_wide)
        for cadence, window in by_cadence.items()
    }
    return by_cadence, values


def metric_rows(
    session: Session,
    metrics: Sequence[MetricLike],
    *,
    weeks: int = DEFAULT_WEEKS,
    today: dt.date | None = None,
    org_wide: bool | None = None,
) -> list[MetricRow]:
    """Each metric's cells over the last `weeks` (monthly, quarterly, annual metrics: the
    periods those weeks touch, and at least enough for their status) and what they add up
    to. `org_wide`: as `period_values` takes it."""
    by_cadence, values = windowed_values(session, metrics, weeks, today, org_wide)
    # Cells made straight from tuples: a NamedTuple's own constructor is a Python call, and
    # an org-wide scorecard makes a hundred thousand cells.
    make = tuple.__new__
    blank = {c: [make(Cell, (start, None, None)) for start in window] for c, window in by_cadence.items()}
    goals: dict[GoalKey, Goal] = {}
    rows = []
    for m in metrics:
        goal = shared_goal(goals, m)
        slots = values[m.cadence].get(m.id)
        if slots is None:
            cells = blank[m.cadence].copy()
        else:
            met_by = goal.met_by
            cells = [
                make(Cell, (start, value, None if value is None else met_by(value)))
                for start, value in zip(by_cadence[m.cadence], slots, strict=True)
            ]
        rows.append(_summarise(m, goal, cells))
    return rows


def _summarise(metric: MetricLike, goal: Goal, cells: list[Cell]) -> MetricRow:
    # Cells read by position (period, value, on track): this runs once per metric of the org.
    known = [value for _, value, _ in cells if value is not None]
    # A current period with nothing yet is "not reported yet", not a miss.
    recent = cells[:-1] if cells and cells[-1][1] is None else cells
    if metric.gate_figure or completion.is_rate(metric):
        # Nobody reports a gate metric or a to-do completion row: a period without drafts to
        # judge, or without to-dos checked, is no miss.
        recent = [c for c in recent if c[1] is not None]
    marks = [on_track for _, _, on_track in recent[-STATUS_WINDOW:]]  # None where there is no value
    unreported = marks.count(None)
    status: Status
    if not known or unreported == len(marks):
        status = "none"
    else:
        misses = len(marks) - marks.count(True)
        status = "green" if misses == 0 else "yellow" if misses == 1 else "red"
    trend = None
    if len(known) >= 2:
        a, b = known[-2], known[-1]
        trend = "flat" if abs(b - a) <= 1e-9 * max(1.0, abs(a)) else ("up" if b > a else "down")
    average = math.fsum(known) / len(known) if known else None  # fmean, without its overhead
    latest = None  # a loop, not next() over a generator
    for cell in reversed(cells):
        if cell[1] is not None:
            latest = cell
            break
    return MetricRow(metric, goal, cells, status, trend, average, latest, len(marks), marks.count(False), unreported)


def current_rows(
    session: Session, metrics: Sequence[MetricLike], today: dt.date | None = None, *, org_wide: bool | None = None
) -> list[MetricRow]:
    """Just enough history for status: what App Home and who-owns show."""
    return metric_rows(session, metrics, weeks=STATUS_WINDOW + 1, today=today, org_wide=org_wide)
