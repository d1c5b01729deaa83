"""Recording values in batches: what an agent pushing thousands of numbers at once needs.

Every value gets `record_value`'s rules (the same functions: value_rules.py) and its own
answer; what changes is the cost. A batch of any size is a handful of statements: one
INSERT per 1,000 values, one look-up of the values pushed before under the same keys, one
audit entry for the whole batch (each row carries who entered it and when). The metrics'
facts (unit, goal, seat, holder) are read once per chart version, not per batch.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    Date,
    Float,
    String,
    TextualSelect,
    bindparam,
    column,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.cache import per_chart
from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.errors import DomainError, Invalid, NotFound
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.goals import Goal
from otp_bot.store.domain.scorecard.measures import Measure, from_base
from otp_bot.store.domain.scorecard.value_rules import (
    check_note_and_key,
    check_takes_values,
    may_push,
    parse_number,
    period_start_of,
)
from otp_bot.store.models import CADENCES, Holder, Metric, MetricValue, Seat

MAX_BATCH = 5_000

Triple = tuple[str, dt.date, str]  # (metric, period start, idempotency key)


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
    goal: Goal
    seat_status: str
    holder_id: str | None
    holder_name: str | None


def _facts(session: Session) -> dict[str, _Facts]:
    """Every metric's facts, read once per chart version: a push names hundreds of metrics,
    and looking them up again for every batch cost more than recording the values."""
    return per_chart(session, "metric facts", _read_facts)


def _read_facts(session: Session) -> dict[str, _Facts]:
    # Through the connection, not the ORM: plain rows, and no ORM loading machinery per row.
    rows = (
        session.connection()
        .execute(
            select(
                Metric.id,
                Metric.seat_id,
                Metric.kind,
                Metric.unit,
                Metric.currency,
                Metric.cadence,
                Metric.formula,
                Metric.goal_op,
                Metric.goal_value,
                Metric.goal_high,
                Seat.status,
                Seat.holder_id,
                Holder.name,
            )
            .join(Seat, Seat.id == Metric.seat_id)
            .outerjoin(Holder, Holder.id == Seat.holder_id)
        )
        .all()
    )
    goals: dict[tuple, Goal] = {}  # metrics share a handful of goals
    found = {}
    measures: dict[tuple, Measure] = {}
    for mid, seat_id, kind, unit, currency, cadence, formula, op, value, high, status, holder_id, name in rows:
        measure = measures.setdefault((kind, unit, currency), Measure(kind, unit, currency))
        if (goal := goals.get((op, value, high))) is None:
            goal = goals[(op, value, high)] = Goal(op, value, high)
        found[mid] = _Facts(mid, seat_id, measure, cadence, formula, goal, status, holder_id, name)
    return found


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
    facts = _facts(session)
    for one in {f.seat_id: f for f in (facts.get(i) for i in ids) if f is not None}.values():  # once per seat
        may_push(actor, one.id, one.seat_id, one.holder_id, one.holder_name)

    org = get_org(session)
    tz, decimal_mark, org_currency = org.timezone, org.decimal_mark, org.currency
    today = periods.today(tz)
    current = {c: periods.period_start(today, c) for c in CADENCES}
    starts: dict[tuple[object, str], dt.date | DomainError] = {}  # the same period text is parsed once
    results: list[ItemResult] = []
    rows: list[tuple] = []  # in _COLUMNS order
    first_of: dict[Triple, ItemResult] = {}  # keyed values of this batch: the first one counts
    repeats: list[tuple[ItemResult, Triple]] = []
    entered_by, now = actor.audit_name, dt.datetime.now(dt.UTC)
    for index, (item, mid) in enumerate(zip(items, ids, strict=True)):
        m = facts.get(mid)
        result = ItemResult(index, mid, "error")
        results.append(result)
        try:
            if m is None:
                raise NotFound(f"there is no metric `{mid[:64]}`")
            result.cadence, result.measure = m.cadence, m.measure
            check_takes_values(m.id, m.seat_id, m.seat_status, m.formula)
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
        rows.append((mid, start, number, bool(item.correction), source, entered_by, note, item.key, now))

    # In index order, so consecutive inserts land on the same index pages (a third faster on
    # SQLite). The sort is stable: values of one metric and period keep the batch's order,
    # which a correction after a plain value needs.
    rows.sort(key=lambda r: (r[0], r[1]))
    inserted = _insert(session.connection(), rows) if rows else set()
    seen_before = [t for t in first_of if t not in inserted]
    if seen_before:
        earlier = _recorded(session.connection(), seen_before)
        for triple in seen_before:
            first = first_of[triple]
            value = earlier.get(triple, first.value)
            assert value is not None  # the batch's own value was parsed before it was keyed
            first.outcome, first.value = "duplicate", value
            first.on_track = facts[first.metric_id].goal.met_by(value)
    for result, triple in repeats:
        first = first_of[triple]
        result.outcome, result.value, result.on_track = "duplicate", first.value, first.on_track

    new = [r for r in rows if r[7] is None or (r[0], r[1], r[7]) in inserted]
    if new:
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


# ---------------------------------------------------------------- the bulk statements
#
# Sent to the driver as they are, one shape per backend: on PostgreSQL, arrays unnested
# (a short statement psycopg prepares once; thousands of placeholders would be re-parsed
# in Python on every call), on SQLite, multi-row VALUES (sqlite3 binds them in C).
# The unique key (metric, period, key) decides what is new, not a look-up beforehand: a
# concurrent push of the same key (another transaction, on PostgreSQL) waits for it, and
# its row counts as seen before.

_COLUMNS = (
    "metric_id",
    "period_start",
    "value",
    "is_correction",
    "source",
    "entered_by",
    "note",
    "idem_key",
    "recorded_at",
)
_PG_TYPES = ("varchar", "date", "float8", "bool", "varchar", "varchar", "text", "varchar", "timestamptz")
_SQLITE_ROWS = 1_000  # rows per INSERT: x 9 parameters, inside SQLite's 32,766
_SKIP_SEEN = " ON CONFLICT (metric_id, period_start, idem_key) DO NOTHING RETURNING metric_id, period_start, idem_key"


def _insert(conn: Connection, rows: list[tuple]) -> set[Triple]:
    """Insert rows (tuples in _COLUMNS order) whose key was not stored before; return the
    keyed triples that were inserted."""
    keyed = any(r[7] is not None for r in rows)
    inserted: set[Triple] = set()
    if conn.dialect.name == "postgresql":
        casts = ", ".join(f"%s::{t}[]" for t in _PG_TYPES)
        sql = f"INSERT INTO metric_values ({', '.join(_COLUMNS)}) SELECT * FROM unnest({casts})"
        result = conn.exec_driver_sql(
            sql + (_SKIP_SEEN if keyed else ""), tuple(list(c) for c in zip(*rows, strict=True))
        )
        return {(m, p, k) for m, p, k in result.all() if k is not None} if keyed else inserted
    # SQLite keeps dates, booleans and timestamps in its own forms: each column's bind
    # processing is done once per distinct value (a batch has a few periods and one
    # timestamp), and the rows are bound column by column, not value by value.
    columns = list(zip(*rows, strict=True))
    back: dict[Any, Any] = {}  # a period as the driver returns it → as we know it
    for i, name in enumerate(_COLUMNS):
        process = MetricValue.__table__.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if process is not None:
            bound = {v: None if v is None else process(v) for v in set(columns[i])}
            columns[i] = tuple(map(bound.__getitem__, columns[i]))
            if name == "period_start":
                back = {text: start for start, text in bound.items()}
    params = [value for row in zip(*columns, strict=True) for value in row]
    width = len(_COLUMNS)
    for at in range(0, len(rows), _SQLITE_ROWS):
        n = min(_SQLITE_ROWS, len(rows) - at)
        result = conn.exec_driver_sql(_sqlite_insert(n, keyed), tuple(params[at * width : (at + n) * width]))
        if keyed:
            inserted.update((m, back[p], k) for m, p, k in result.all() if k is not None)
    return inserted


@functools.lru_cache(maxsize=16)
def _sqlite_insert(rows: int, keyed: bool) -> str:
    one = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
    return f"INSERT INTO metric_values ({', '.join(_COLUMNS)}) VALUES {', '.join([one] * rows)}" + (
        _SKIP_SEEN if keyed else ""
    )


def _recorded(conn: Connection, triples: list[Triple]) -> dict[Triple, float]:
    """The values already stored under these (metric, period, key) triples: a join against
    the wanted list, one index seek each (a row-value IN (...) makes SQLite scan the index)."""
    found: dict[Triple, float] = {}
    if conn.dialect.name == "postgresql":
        result = conn.exec_driver_sql(
            "SELECT v.metric_id, v.period_start, v.idem_key, v.value FROM metric_values v "
            "JOIN unnest(%s::varchar[], %s::date[], %s::varchar[]) AS w (m, p, k) "
            "ON v.metric_id = w.m AND v.period_start = w.p AND v.idem_key = w.k",
            tuple(list(c) for c in zip(*triples, strict=True)),
        )
        for mid, start, key, value in result:
            found.setdefault((mid, start, key), value)
        return found
    for at in range(0, len(triples), 256):
        chunk = triples[at : at + 256]
        size = 1 << (len(chunk) - 1).bit_length()  # padded to a power of two: few distinct statements
        chunk += [chunk[-1]] * (size - len(chunk))
        params: dict[str, str | dt.date] = {}
        for i, (mid, start, key) in enumerate(chunk):
            params[f"m{i}"], params[f"p{i}"], params[f"k{i}"] = mid, start, key
        for mid, start, key, value in conn.execute(_sqlite_lookup(size), params):
            found.setdefault((mid, start, key), value)
    return found


@functools.lru_cache(maxsize=16)
def _sqlite_lookup(n: int) -> TextualSelect:
    rows = ", ".join(f"(:m{i}, :p{i}, :k{i})" for i in range(n))
    return (
        text(
            f"WITH wanted (m, p, k) AS (VALUES {rows}) "
            "SELECT v.metric_id, v.period_start, v.idem_key, v.value FROM metric_values v "
            "JOIN wanted ON v.metric_id = wanted.m AND v.period_start = wanted.p AND v.idem_key = wanted.k"
        )
        .bindparams(*(bindparam(f"p{i}", type_=Date) for i in range(n)))
        .columns(
            column("metric_id", String),
            column("period_start", Date),
            column("idem_key", String),
            column("value", Float),
        )
    )
