"""Who waits for whom while the chart changes: every lock is on the org's row.

A change to the chart (an import, a hearing, a hire) locks the row for update before it reads
the chart it changes; a value for a metric, a draft for a seat and a headline lock it for
share before they read what they check. So a change waits for those writes already checked,
and one that comes during a change waits for it and then sees the chart it left: none of them
is judged against a chart that is being replaced.

The order of locks: this row before anything else a transaction locks, the audit chain's
lock (audit.py) above all, which a chart change takes too. A transaction that wrote an audit
entry and then asked for this row could wait for an import that waits for its entry's lock.
On PostgreSQL only: SQLite lets one writer in at a time already.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.reading import get_org, no_chart
from otp_bot.store.models import Org


def lock_chart(session: Session) -> Org:
    """The org, its row locked for a change of the chart until the transaction ends: one
    change at a time (two hearings must not each move a topic to the seat the other retires)."""
    org = lock_chart_if_any(session)
    if org is None:
        raise no_chart()
    return org


def lock_chart_if_any(session: Session) -> Org | None:
    """As `lock_chart`; None before the first import, which has no row to lock yet."""
    # populate_existing: the session may hold the org from before the lock (finding the
    # caller reads it), and the revision bumped from must be the one just locked.
    org = session.scalar(select(Org).where(Org.id == 1).with_for_update().execution_options(populate_existing=True))
    if org is not None:
        session.info["org"] = org
    return org


def hold_chart(session: Session) -> Org:
    """The org, its row share-locked until the transaction ends: for a write checked against
    the chart. Without it a value checked against a seat that an import was retiring was
    recorded for a retired seat once the import committed."""
    if session.get_bind().dialect.name != "postgresql":
        return get_org(session)
    org = session.get(Org, 1, with_for_update={"read": True}, populate_existing=True)
    if org is None:
        raise no_chart()
    session.info["org"] = org
    return org
