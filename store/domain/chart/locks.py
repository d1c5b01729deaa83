"""Who waits for whom while the chart changes: every lock is on the org's row.

A change to the chart (an import, a hearing, a hire) locks the row for update before it reads
the chart it changes. What is checked against the chart locks it for share before it reads
what it checks: a value for a metric, a new draft, every change to a waiting draft (a
decision, a request for changes, a flag holding or releasing it, the timers' sweep) and a
headline. So a change of the chart waits for those already checked, and one that comes
during a change waits for it and then sees the chart it left: none is judged against a chart
that is being replaced.

The order of locks for those writes: this row, then a flag subject's lock
(gate/drafts.py `lock_subject`), then the drafts, then the audit chain's lock (audit.py),
which lasts until the commit. A transaction that took the audit chain and then waited for a
draft could wait for one that waits for it. A change of the chart takes the audit chain
before it brings the waiting drafts in line, but it holds this row alone, so none of those
writes runs beside it. Outside this order, and not covered by it: autonomy grants (their
revocations and reviews) and the updates of approved drafts' deliveries.
On PostgreSQL only: SQLite lets one writer in at a time already.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.reading import find_org, no_chart
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
    org = hold_chart_if_any(session)
    if org is None:
        raise no_chart()
    return org


def hold_chart_if_any(session: Session) -> Org | None:
    """As `hold_chart`; None before the first import (for work that runs on a timer)."""
    if session.get_bind().dialect.name != "postgresql":
        return find_org(session)
    org = session.get(Org, 1, with_for_update={"read": True}, populate_existing=True)
    if org is not None:
        session.info["org"] = org
    return org
