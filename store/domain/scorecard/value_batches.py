"""Recording values in batches: what an agent pushing thousands of numbers at once needs.

Every value gets `record_value`'s rules (the same functions: value_rules.py) and its own
answer; what changes is the cost. A batch of any size is a handful of statements: one
INSERT per 1,000 values, one look-up of the values pushed before under the same keys, one
upsert of its seats' last value time (seat_activity.py), one audit entry for the whole
batch (each row carries who entered it and when); the values' statements are in
value_rows.py. The metrics' facts (unit, goal, seat, holder) and the org's settings are read
once per chart version, not per batch, and the values are checked against them before the
transaction's first statement (on SQLite, the one that takes the write lock): checked again,
under the lock, only when the chart changed in between.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.cache import last_kept, per_chart
from otp_bot.store.domain.chart.locks import hold_chart
from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.errors import DomainError, Forbidden, Invalid, NotFound
from otp_bot.store.domain.review import completion
from otp_bot.store.domain.scorecard import periods, seat_activity
from otp_bot.store.domain.scorecard.goals import Goal
from otp_bot.store.domain.scorecard.measures import Measure, from_base
from otp_bot.store.domain.scorecard.value_rows import Triple, insert_rows, recorded_under
from otp_bot.store.domain.scorecard.value_rules import (
    check_note_and_key,
    check_takes_values,
    may_push,
    parse_number,
    period_start_of,
)
from otp_bot.store.models import CADENCES, Holder, Metric, Seat

MAX_BATCH = 5_000


class NewValue(Protocol):
    """One value of a batch, as `record_values` reads it (the API's request items fit)."""

    # Read-only, so a frozen dataclass or a pydantic model fits as well as a plain object.
    @property
    def metric(self) -> str: ...
    @property
    def value(self) -> str | float | Decimal: ...
    @property
    def period(self) -> str | dt.date | None: ...
    @property
    def note(self) -> str | None: ...
    @property
    def key(self) -> str | None: ...
    @property
    def correction(self) -> bool: ...


@dataclass(frozen=True)
class Value:
    metric: str
    value: str | float | Decimal
    period: str | dt.date | None = None
    note: str | None = None
    key: str | None = None
    correction: bool = False


@dataclass
class ItemResult:
    index: int
    metric_id: str
    outcome: str  # recorded, duplicate (the key was seen: nothing new written) or error
    value: float | None = None  # for a duplicate: the value recorded the first time
    period_start: dt.date | None = None
    cadence: str | None = None
    on_track: bool | None = None
    error: DomainError | None = None
    measure: Measure | None = None

    @property
    def value_in_unit(self) -> float | None:
        """The value in the metric's display unit, as it was typed (a duration is stored in minutes)."""
        return self.value if self.value is None or self.measure is None else from_base(self.value, self.measure)


@dataclass
class BatchResult:
    results: list[ItemResult]

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)


class _Facts(NamedTuple):
    """What the rules need to know about a metric, read as plain columns."""

    id: str
    seat_id: str
    measure: Measure
    cadence: str
    formula: str | None
    gate_figure: str | None
    review_figure: str | None
    goal: Goal
    seat_status: str
    holder_id: str | None
    holder_name: str | None


class _Chart(NamedTuple):
    """What a batch is checked against, kept per chart version: the org's settings and
    every metric's facts."""

    timezone: str
    decimal_mark: str | None
    currency: str | None
    facts: dict[str, _Facts]


_KEPT_AS = "metric facts"


def _chart(session: Session) -> _Chart:
    """Read once per chart version: a push names hundreds of metrics, and looking them up
    again for every batch cost more than recording the values."""
    return per_chart(session, _KEPT_AS, _read_chart)


def _read_chart(session: Session) -> _Chart:
    org = get_org(session)  # already in the session: per_chart asked for it
    # Through the connection, not the ORM: plain rows, and no ORM loading machinery per row.
    rows = session.connection().execute(
        select(
            Metric.id,
            Metric.seat_id,
            Metric.kind,
            Metric.unit,
            Metric.currency,
            Metric.cadence,
            Metric.formula,
            Metric.gate_figure,
            Metric.review_figure,
            Metric.goal_op,
            Metric.goal_value,
            Metric.goal_high,
            Seat.status,
            Seat.holder_id,
            Holder.name,
        )
        .join(Seat, Seat.id == Metric.seat_id)
        .outerjoin(Holder, Holder.id == Seat.holder_id)
    )  # streamed: no list of every row beside the facts built from them
    goals: dict[tuple, Goal] = {}  # metrics share a handful of goals
    found = {}
    measures: dict[tuple, Measure] = {}
    for (
        mid,
        seat_id,
        kind,
        unit,
        currency,
        cadence,
        formula,
        gate,
        review,
        op,
        value,
        high,
        status,
        holder_id,
        name,
    ) in rows:
        measure = measures.setdefault((kind, unit, currency), Measure(kind, unit, currency))
        if (goal := goals.get((op, value, high))) is None:
            goal = goals[(op, value, high)] = Goal(op, value, high)
        # Interned: the same ids, statuses and names as the chart's directory and index keep,
        # one string for all of them.
        facts = _Facts(
            *map(_shared, (mid, seat_id, measure, cadence, formula, gate, review, goal, status, holder_id, name))
        )
        found[facts.id] = facts
    return _Chart(org.timezone, org.decimal_mark, org.currency, found)


@dataclass
class _Plan:
    """A batch checked against one chart version, before anything is written."""

    chart: _Chart
    results: list[ItemResult]
    rows: list[tuple]  # in value_rows.COLUMNS order, without the last (recorded_at: set when written)
    first_of: dict[Triple, ItemResult]  # keyed values of this batch: the first one counts
    repeats: list[tuple[ItemResult, Triple]]


def _shared(value: Any) -> Any:
    return sys.intern(value) if isinstance(value, str) else value


def record_values(session: Session, actor: Actor, items: Sequence[NewValue], *, source: str = "api") -> BatchResult:
    """Record a batch of values with `record_value`'s rules, answering each one, in order.

    Rights are all or nothing: if any value is for a metric the actor may not record,
    Forbidden is raised and nothing is written (a token reaching into another seat is a
    bug or an attack, not data to skip). Every other problem (an unknown metric, a value
    that is not a number, a future period, a retired seat, a computed metric, a note or
    key too long) fails only its own item.

    Idempotency is per metric, period and key, as in `record_value`: a value whose key was
    recorded before (or earlier in the same batch) is answered `duplicate`, with the value
    recorded the first time, and not written again.
    """
    if len(items) > MAX_BATCH:
        raise Invalid(
            f"a batch holds at most {MAX_BATCH:,} values; this one has {len(items):,}",
            hint="split it into several requests",
        )
    ids = [str(item.metric).strip().lower() for item in items]
    # The values are checked before the session's first statement, against the chart version
    # last read: on SQLite that statement takes the write lock, which another push then
    # waits for, so checking a thousand values while holding it made pushes queue.
    plan, guessed = None, last_kept(session, _KEPT_AS)
    if guessed is not None:
        try:
            plan = _plan(actor, items, ids, cast(_Chart, guessed[1]), source)
        except Forbidden:
            plan = None  # judged again below, against the chart as it is now
    org = hold_chart(session)  # a chart import waits for the values, or they for it
    if (
        plan is None
        or guessed is None
        or guessed[0] != org.etag
        or plan.chart[:3] != (org.timezone, org.decimal_mark, org.currency)
    ):
        # No chart read yet, or it changed since: checked again, against the current one.
        plan = _plan(actor, items, ids, _chart(session), source)
    facts, results, first_of = plan.chart.facts, plan.results, plan.first_of
    entered_by, now = actor.audit_name, dt.datetime.now(dt.UTC)
    rows = [(*row, now) for row in plan.rows]
    inserted = insert_rows(session.connection(), rows) if rows else set()
    seen_before = [t for t in first_of if t not in inserted]
    if seen_before:
        earlier = recorded_under(session.connection(), seen_before)
        for triple in seen_before:
            first = first_of[triple]
            value = earlier.get(triple, first.value)
            assert value is not None  # the batch's own value was parsed before it was keyed
            first.outcome, first.value = "duplicate", value
            first.on_track = facts[first.metric_id].goal.met_by(value)
    for result, triple in plan.repeats:
        first = first_of[triple]
        result.outcome, result.value, result.on_track = "duplicate", first.value, first.on_track

    new = [r for r in rows if r[7] is None or (r[0], r[1], r[7]) in inserted]
    if new:
        # Before the audit entry: the order of locks seat_activity.py asks for.
        seat_activity.note_values(session, (facts[r[0]].seat_id for r in new), now)
        metrics = sorted({r[0] for r in new})
        audit.record(
            session,
            entered_by,
            "metric.values.recorded",
            f"metric:{metrics[0]}" if len(metrics) == 1 else "metrics:batch",
            source=source,
            values=len(new),
            corrections=sum(1 for r in new if r[3]),
            metrics=metrics,
            periods=sorted({r[1].isoformat() for r in new}),
        )
    return BatchResult(results)


def _plan(actor: Actor, items: Sequence[NewValue], ids: list[str], chart: _Chart, source: str) -> _Plan:
    """Every value checked against `chart`, with no statement: what to write and what to answer."""
    facts = chart.facts
    for one in {f.seat_id: f for f in (facts.get(i) for i in ids) if f is not None}.values():  # once per seat
        may_push(actor, one.id, one.seat_id, one.holder_id, one.holder_name)

    tz, decimal_mark, org_currency = chart.timezone, chart.decimal_mark, chart.currency
    today = periods.today(tz)
    current = {c: periods.period_start(today, c) for c in CADENCES}
    starts: dict[tuple[object, str], dt.date | DomainError] = {}  # the same period text is parsed once
    results: list[ItemResult] = []
    rows: list[tuple] = []
    first_of: dict[Triple, ItemResult] = {}
    repeats: list[tuple[ItemResult, Triple]] = []
    entered_by = actor.audit_name
    for index, (item, mid) in enumerate(zip(items, ids, strict=True)):
        m = facts.get(mid)
        result = ItemResult(index, mid, "error")
        results.append(result)
        try:
            if m is None:
                if completion.is_completion(mid):
                    raise completion.refuse_values(mid)
                raise NotFound(f"there is no metric `{mid[:64]}`")
            result.cadence, result.measure = m.cadence, m.measure
            check_takes_values(m.id, m.seat_id, m.seat_status, m.formula, m.gate_figure)
            if m.review_figure:
                raise completion.refuse_values(m.id, m.seat_id)
            number = parse_number(m.id, m.measure, item.value, decimal_mark, org_currency)
            note = check_note_and_key(item.note, item.key)
            start = starts.get((item.period, m.cadence))
            if start is None:
                try:
                    start = period_start_of(item.period, m.cadence, tz, current[m.cadence])
                except DomainError as exc:
                    start = exc
                starts[(item.period, m.cadence)] = start
            if isinstance(start, DomainError):
                raise start
        except DomainError as exc:
            result.error = exc
            continue
        result.period_start, result.value = start, number
        if item.key is not None:
            triple = (mid, start, item.key)
            if triple in first_of:
                repeats.append((result, triple))
                continue
            first_of[triple] = result
        result.outcome, result.on_track = "recorded", m.goal.met_by(number)
        rows.append((mid, start, number, bool(item.correction), source, entered_by, note, item.key))
    # In index order, so consecutive inserts land on the same index pages (a third faster on
    # SQLite). The sort is stable: values of one metric and period keep the batch's order,
    # which a correction after a plain value needs.
    rows.sort(key=lambda r: (r[0], r[1]))
    return _Plan(chart, results, rows, first_of, repeats)
