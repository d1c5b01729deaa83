"""How things stand, as an operator watches it: drafts by status and delivery, the outbox's depth
and the age of its oldest item, schedule runs by status.

Four grouped counts: one pass over the drafts, the open outbox items through their status
index (done items, the bulk of the table, are not read), and the schedule runs (a few a day).
The caller keeps the answer for a while (bot/ops/store_metrics.py), so a monitoring scrape
every few seconds does not become a query every few seconds. Every known status is present, at
0 when no row has it, so a series does not vanish when its last row leaves it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.models import (
    DELIVERY_STATES,
    DRAFT_STATUSES,
    OUTBOX_KINDS,
    RUN_POSTS,
    RUN_STATUSES,
    Draft,
    OutboxItem,
    ScheduleRun,
)

OUTBOX_OPEN = ("pending", "failed")  # done items are history; failed ones wait for a person's retry


@dataclass(frozen=True)
class Gauges:
    drafts: dict[str, int]  # status -> drafts
    deliveries: dict[str, int]  # delivery state (none: not approved, or nothing to send) -> drafts
    outbox: dict[tuple[str, str], int]  # (status, kind) -> items, for the open statuses
    oldest_pending_seconds: float  # age of the oldest pending outbox item; 0 when none waits
    schedule_runs: dict[tuple[str, str], int]  # (post, status) -> runs


def read_gauges(session: Session, now: dt.datetime | None = None) -> Gauges:
    now = now or utcnow()
    drafts: dict[str, int] = dict.fromkeys(DRAFT_STATUSES, 0)
    deliveries: dict[str, int] = dict.fromkeys(DELIVERY_STATES, 0)
    for status, delivery, n in session.execute(
        select(Draft.status, Draft.delivery, func.count()).group_by(Draft.status, Draft.delivery)
    ):
        drafts[status] = drafts.get(status, 0) + n
        deliveries[delivery] = deliveries.get(delivery, 0) + n
    outbox = {(status, kind): 0 for status in OUTBOX_OPEN for kind in OUTBOX_KINDS}
    for item_status, kind, n in session.execute(
        select(OutboxItem.status, OutboxItem.kind, func.count())
        .where(OutboxItem.status.in_(OUTBOX_OPEN))
        .group_by(OutboxItem.status, OutboxItem.kind)
    ):
        outbox[(item_status, kind)] = n
    oldest = session.scalar(select(func.min(OutboxItem.created_at)).where(OutboxItem.status == "pending"))
    runs = {(post, status): 0 for post in RUN_POSTS for status in RUN_STATUSES}
    for post, run_status, n in session.execute(
        select(ScheduleRun.post, ScheduleRun.status, func.count()).group_by(ScheduleRun.post, ScheduleRun.status)
    ):
        runs[(post, run_status)] = n
    return Gauges(
        drafts=drafts,
        deliveries=deliveries,
        outbox=outbox,
        oldest_pending_seconds=max(0.0, (now - as_utc(oldest)).total_seconds()) if oldest is not None else 0.0,
        schedule_runs=runs,
    )
