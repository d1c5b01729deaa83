"""The statements that write and look up a batch of values: a handful per batch, whatever its size.

Sent to the driver as they are, one shape per backend: on PostgreSQL, arrays unnested
(a short statement psycopg prepares once; thousands of placeholders would be re-parsed
in Python on every call), on SQLite, multi-row VALUES (sqlite3 binds them in C).
The unique key (metric, period, key) decides what is new, not a look-up beforehand: a
concurrent push of the same key (another transaction, on PostgreSQL) waits for it, and
its row counts as seen before.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from sqlalchemy import Date, Float, String, TextualSelect, bindparam, column, text
from sqlalchemy.engine import Connection

from otp_bot.store.models import MetricValue

Triple = tuple[str, dt.date, str]  # (metric, period start, idempotency key)

COLUMNS = (
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


def insert_rows(conn: Connection, rows: list[tuple]) -> set[Triple]:
    """Insert rows (tuples in COLUMNS order) whose key was not stored before; return the
    keyed triples that were inserted."""
    keyed = any(r[7] is not None for r in rows)
    inserted: set[Triple] = set()
    if conn.dialect.name == "postgresql":
        casts = ", ".join(f"%s::{t}[]" for t in _PG_TYPES)
        sql = f"INSERT INTO metric_values ({', '.join(COLUMNS)}) SELECT * FROM unnest({casts})"
        result = conn.exec_driver_sql(
            sql + (_SKIP_SEEN if keyed else ""), tuple(list(c) for c in zip(*rows, strict=True))
        )
        return {(m, p, k) for m, p, k in result.all() if k is not None} if keyed else inserted
    # SQLite keeps dates, booleans and timestamps in its own forms: each column's bind
    # processing is done once per distinct value (a batch has a few periods and one
    # timestamp), and the rows are bound column by column, not value by value.
    columns = list(zip(*rows, strict=True))
    back: dict[Any, Any] = {}  # a period as the driver returns it → as we know it
    for i, name in enumerate(COLUMNS):
        process = MetricValue.__table__.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if process is not None:
            bound = {v: None if v is None else process(v) for v in set(columns[i])}
            columns[i] = tuple(map(bound.__getitem__, columns[i]))
            if name == "period_start":
                back = {text: start for start, text in bound.items()}
    params = [value for row in zip(*columns, strict=True) for value in row]
    width = len(COLUMNS)
    for at in range(0, len(rows), _SQLITE_ROWS):
        n = min(_SQLITE_ROWS, len(rows) - at)
        result = conn.exec_driver_sql(_sqlite_insert(n, keyed), tuple(params[at * width : (at + n) * width]))
        if keyed:
            inserted.update((m, back[p], k) for m, p, k in result.all() if k is not None)
    return inserted


@functools.lru_cache(maxsize=16)
def _sqlite_insert(rows: int, keyed: bool) -> str:
    one = "(" + ", ".join("?" * len(COLUMNS)) + ")"
    return f"INSERT INTO metric_values ({', '.join(COLUMNS)}) VALUES {', '.join([one] * rows)}" + (
        _SKIP_SEEN if keyed else ""
    )


def recorded_under(conn: Connection, triples: list[Triple]) -> dict[Triple, float]:
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
