"""When a value was last recorded for each seat: one row per seat, moved forward with every value.

The daily briefing says what each agent did last. Its last value, found among every value of
the recent periods, was a scan of most of the values table per briefing; this row answers it
per seat, and also sees a late value for an old period. A value counts for the seat its
metric was on when it was written; only the migration that made the table, and `rebuild`,
credit a seat with the values its metrics had before they moved to it.

The row is written in the values' own transaction, so it never says more or less than what
was committed, and the time only moves forward: a push that commits after a later one does
not move it back. On PostgreSQL the row stays locked until the commit, so the order of locks
matters: write it before the audit entry, whose chain lock (audit.py) is held until the
commit too. Everything that holds these rows then waits for that lock, never the other way
round: two pushes, a single value, and a chart import deleting a seat (which deletes its row
here) cannot wait on each other in a circle. The seats go in sorted order, so two pushes
take their rows in the same order.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import cast

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.orm import Session

from otp_bot.store.models import Metric, MetricValue, SeatActivity

_UPSERT = (
    " ON CONFLICT (seat_id) DO UPDATE SET last_value_at = excluded.last_value_at"
    " WHERE seat_activity.last_value_at < excluded.last_value_at"
)
# One statement whatever the number of seats, the list bound as one parameter: on SQLite a
# JSON array (`WHERE true` tells its parser the ON CONFLICT is not a join's).
_PG_NOTE = "INSERT INTO seat_activity (seat_id, last_value_at) SELECT seat, %s FROM unnest(%s::varchar[]) AS seat"
_SQLITE_NOTE = "INSERT INTO seat_activity (seat_id, last_value_at) SELECT value, ? FROM json_each(?) WHERE true"


def note_values(session: Session, seat_ids: Iterable[str], at: dt.datetime) -> None:
    """Values were recorded for these seats' metrics at `at`, in this transaction (before its
    audit entry: see above)."""
    seats = sorted(set(seat_ids))
    if not seats:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_PG_NOTE + _UPSERT, (at, seats))
    else:  # the time in the form SQLAlchemy keeps it in (text on SQLite)
        when = SeatActivity.__table__.c.last_value_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        conn.exec_driver_sql(_SQLITE_NOTE + _UPSERT, (when(at) if when else at, json.dumps(seats)))


def last_values(session: Session, seat_ids: Select[str]) -> Iterable[tuple[str, dt.datetime | None]]:
    """(seat, when a value was last recorded for it) of these seats that ever had one."""
    rows = session.execute(
        select(SeatActivity.seat_id, SeatActivity.last_value_at).where(SeatActivity.seat_id.in_(seat_ids))
    )
    return cast(Iterable[tuple[str, dt.datetime | None]], rows)  # rows are tuples


def rebuild(session: Session) -> None:
    """Every seat's row again, from the values stored: for values written around `note_values`
    (a bulk load)."""
    session.execute(delete(SeatActivity))
    latest = (
        select(Metric.seat_id, func.max(MetricValue.recorded_at))
        .join(MetricValue, MetricValue.metric_id == Metric.id)
        .group_by(Metric.seat_id)
    )
    session.execute(insert(SeatActivity).from_select(["seat_id", "last_value_at"], latest))
