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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, NamedTuple, TypeAlias, cast

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_metric, get_org
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.review import completion
from otp_bot.store.domain.scorecard import formula, periods
from otp_bot.store.domain.scorecard.gate_figures import gate_values
from otp_bot.store.domain.scorecard.goals import Goal, format_value
from otp_bot.store.domain.scorecard.measures import Measure, from_base, measure_of, to_base

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
from otp_bot.store.models import Metric, MetricValue

if TYPE_CHECKING:
    from otp_bot.store.domain.scorecard.metric_facts import MetricFacts

# A metric read in this session, or its plain columns: reading and judging values needs
# only what both have.
MetricLike: TypeAlias = "Metric | MetricFacts"

DEFAULT_WEEKS = 13
ORG_WIDE = 1_000  # metrics read at once from which one range read beats look-ups by metric
Status = Literal["green", "yellow", "red", "none"]  # over the last STATUS_WINDOW periods
STATUS_WINDOW = 3
_AGGREGATE: dict[str, Callable[[list[float]], float]] = {
    "last": lambda xs: xs[-1],
    "sum": sum,
    "avg": lambda xs: math.fsum(xs) / len(xs),  # statistics.fmean, without its overhead
    "min": min,
    "max": max,
}


def goal_of(metric: MetricLike) -> Goal:
    return Goal(metric.goal_op, metric.goal_value, metric.goal_high)


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


def _with_formula_inputs(session: Session, metrics: Sequence[MetricLike]) -> dict[str, MetricLike]:
    wanted = {m.id: m for m in metrics}
    todo = [m for m in metrics if m.formula]
    while todo:
        for ref in formula.references(todo.pop().formula or ""):
            if ref not in wanted and (m := session.get(Metric, ref)) is not None:
                wanted[ref] = m
                if m.formula:
                    todo.append(m)
    return wanted


def period_values(
    session: Session, metrics: Iterable[MetricLike], window: Sequence[dt.date], *, org_wide: bool | None = None
) -> dict[str, list[float | None]]:
    """Each metric's aggregated value in each period of `window` (None where it has none),
    formula metrics computed; metrics without any value are left out. `org_wide`: `metrics`
    are every metric of the org (of their cadence), so the window's periods are read whole;
    by default, when they are many (ORG_WIDE)."""
    by_id = _with_formula_inputs(session, list(metrics))
    ids = [mid for mid, m in by_id.items() if not m.formula and not m.gate_figure and not completion.is_rate(m)]
    # Plain rows through the session's connection (same transaction): the ORM's row handling
    # cost more than the read itself for an org-wide scorecard.
    conn = session.connection()
    # The period as the driver gives it (SQLite: text, PostgreSQL: a date), looked up as
    # either: no date is made per row.
    columns = select(
        MetricValue.metric_id,
        type_coerce(MetricValue.period_start, String),
        MetricValue.value,
        MetricValue.is_correction,
    )
    slot_of: dict[object, int] = {}
    for i, start in enumerate(window):
        slot_of[start] = slot_of[start.isoformat()] = i
    since = window[0]
    wanted = set(ids)
    if org_wide is None:
        org_wide = len(ids) >= ORG_WIDE
    if org_wide:
        # Most of the org: the window's periods looked up in ix_metric_values_period, in its
        # order (within a period, id order: what aggregation needs), read from the index alone;
        # rows of other metrics are skipped below. The exact period starts, not the range from
        # the first: a range from four months back for the monthly metrics read every weekly
        # value of those months too (weekly periods start on Mondays, months seldom do).
        # Read in parts: twenty thousand rows held at once woke the cyclic collector for nothing.
        batches = conn.execute(
            columns.where(MetricValue.period_start.in_(window)).order_by(MetricValue.period_start, MetricValue.id)
        ).partitions(2_000)
    else:
        batches = (
            conn.execute(
                columns.where(
                    MetricValue.metric_id.in_(ids[chunk : chunk + 500]), MetricValue.period_start >= since
                ).order_by(MetricValue.id)
            ).all()
            for chunk in range(0, len(ids), 500)
        )
    # One list per metric, a slot per period: a period's first value goes in its slot, and
    # only the rare period with several values gets a list of them (to aggregate below).
    size = len(window)
    found: dict[str, list[float | None]] = {}
    several: dict[tuple[str, int], list[float]] = {}
    for rows in batches:
        for metric_id, text_or_day, value, is_correction in rows:
            slot = slot_of.get(text_or_day)
            if slot is None or metric_id not in wanted:
                continue
            slots = found.get(metric_id)
            if slots is None:
                slots = found[metric_id] = [None] * size
                slots[slot] = value
            elif slots[slot] is None or is_correction:  # a correction restarts its period
                slots[slot] = value
                if several:
                    several.pop((metric_id, slot), None)
            elif (bucket := several.get((metric_id, slot))) is not None:
                bucket.append(value)
            else:
                several[(metric_id, slot)] = [cast(float, slots[slot]), value]  # the slot holds a value
    for (metric_id, i), bucket in several.items():
        found[metric_id][i] = _AGGREGATE[by_id[metric_id].aggregation](bucket)
    # A single value is its own last, min and max; a sum or mean of one is computed as for
    # many, so that a value reads the same either way (`sum([-0.0])` is 0.0).
    for metric_id, slots in found.items():
        aggregation = by_id[metric_id].aggregation
        if aggregation in ("sum", "avg"):
            combine = _AGGREGATE[aggregation]
            for i, single in enumerate(slots):
                if single is not None and (metric_id, i) not in several:
                    slots[i] = combine([single])
    if gated := [m for m in by_id.values() if m.gate_figure]:
        tz = get_org(session).timezone
        found.update(gate_values(session, gated, window, gated[0].cadence, tz, periods.today(tz)))
    if rated := [m for m in by_id.values() if completion.is_rate(m)]:
        # The to-do completion rows (review/completion.py): one grouped read for all seats.
        found.update(completion.completion_values(session, rated, window, periods.today(get_org(session).timezone)))
    # A formula has a value where every input has one: it is tried in the few periods read,
    # not against every value of the org (that was quadratic in the number of formulas).
    for m in _formula_order(by_id):
        refs = formula.references(m.formula or "")
        inputs = [found[ref] for ref in refs if ref in found]
        if not refs or len(inputs) < len(refs):
            continue
        measures, unit = [measure_of(by_id[ref]) for ref in refs], measure_of(m)
        for i in range(size):
            present = [known for slots in inputs if (known := slots[i]) is not None]
            if len(present) == len(inputs):
                # In the units people read: `{dso-days} * 24` of a metric shown in days is in days,
                # not in the minutes a duration is stored in. The result is in the formula metric's unit.
                shown = {
                    ref: from_base(known, measure) for ref, known, measure in zip(refs, present, measures, strict=True)
                }
                result = formula.evaluate(m.formula or "", shown)
                if result is not None:
                    computed = found.setdefault(m.id, [None] * size)
                    # Only a duration's unit changes the number stored; any other float stays as it is.
                    computed[i] = float(to_base(Decimal(repr(result)), unit)) if unit.kind == "duration" else result
    return found


def _formula_order(by_id: dict[str, MetricLike]) -> list[MetricLike]:
    done: list[MetricLike] = []
    seen: set[str] = set()

    def visit(m: MetricLike) -> None:
        if m.id in seen:
            return
        seen.add(m.id)
        for ref in formula.references(m.formula or ""):
            if ref in by_id:
                visit(by_id[ref])
        if m.formula:
            done.append(m)

    for m in by_id.values():
        if m.formula:  # a metric without one adds nothing but as a formula's input
            visit(m)
    return done


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
        cadence: period_values(session, [m for m in metrics if m.cadence == cadence], window, org_wide=org_wide)
        for cadence, window in by_cadence.items()
    }
    # Cells made straight from tuples: a NamedTuple's own constructor is a Python call, and
    # an org-wide scorecard makes a hundred thousand cells.
    make = tuple.__new__
    blank = {c: [make(Cell, (start, None, None)) for start in window] for c, window in by_cadence.items()}
    rows = []
    for m in metrics:
        goal = goal_of(m)
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
    known = [c.value for c in cells if c.value is not None]
    # A current period with nothing yet is "not reported yet", not a miss.
    recent = cells[:-1] if cells and cells[-1].value is None else cells
    if metric.gate_figure or completion.is_rate(metric):
        # Nobody reports a gate metric or a to-do completion row: a period without drafts to
        # judge, or without to-dos checked, is no miss.
        recent = [c for c in recent if c.value is not None]
    marks = [c.on_track for c in recent[-STATUS_WINDOW:]]  # None where there is no value
    status: Status
    if not known or marks.count(None) == len(marks):
        status = "none"
    else:
        misses = len(marks) - marks.count(True)
        status = "green" if misses == 0 else "yellow" if misses == 1 else "red"
    trend = None
    if len(known) >= 2:
        a, b = known[-2], known[-1]
        trend = "flat" if abs(b - a) <= 1e-9 * max(1.0, abs(a)) else ("up" if b > a else "down")
    average = math.fsum(known) / len(known) if known else None  # fmean, without its overhead
    latest = None  # a loop, not next() over a generator: this runs once per metric of the org
    for cell in reversed(cells):
        if cell.value is not None:
            latest = cell
            break
    return MetricRow(
        metric,
        goal,
        cells,
        status,
        trend,
        average,
        latest,
        len(marks),
        marks.count(False),
        marks.count(None),
    )


def current_rows(
    session: Session, metrics: Sequence[MetricLike], today: dt.date | None = None, *, org_wide: bool | None = None
) -> list[MetricRow]:
    """Just enough history for status: what App Home and who-owns show."""
    return metric_rows(session, metrics, weeks=STATUS_WINDOW + 1, today=today, org_wide=org_wide)
