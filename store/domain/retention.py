"""Retention: which records are old enough to go, and never anything the system still needs.

Two kinds of record grow without end and are worth nothing once old:
- inbound events (the replay guard): an event id or a request signature is needed only
  while Slack could send it again (`inbound.expired`); no setting, the guard decides;
- finished outbox items: work done for Slack or a callback, kept `keep_days` for
  `otp outbox list` and investigations.

An outbox item stays, however old, while it may still matter:
- it is pending, or failed (unresolved until someone retries it);
- its draft is still waiting (held or pending) or its delivery is not settled: the item's
  key is what keeps a released draft from being posted a second time (`enqueue` is once
  per key), and a retry reads the delivery's item;
- it mirrored the first message of a bus thread: replies find the thread by it
  (`bus.mirror_thread_ts`).

The audit log is never touched: it is the record, and its hash chain must verify.
"""

from __future__ import annotations

import datetime as dt
import typing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, Select, String, cast, delete, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from otp_bot.store.domain import inbound
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.models import DRAFT_WAITING, Base, Draft, InboundEvent, Message, OutboxItem

BATCH = 1000  # rows deleted per transaction: a purge never holds SQLite's write lock for long
UNSETTLED_DELIVERY = ("pending", "failed")


@dataclass(frozen=True)
class Purged:
    inbound_events: int = 0
    outbox_items: int = 0

    def __add__(self, other: Purged) -> Purged:
        return Purged(self.inbound_events + other.inbound_events, self.outbox_items + other.outbox_items)

    @property
    def total(self) -> int:
        return self.inbound_events + self.outbox_items


def _old_outbox(keep_days: int, now: dt.datetime) -> ColumnElement[bool]:
    settled_drafts = select(Draft.id).where(
        Draft.status.not_in(DRAFT_WAITING), Draft.delivery.not_in(UNSETTLED_DELIVERY)
    )
    # bus.mirror_key of each thread's first message, built in SQL (`||` on both databases).
    thread_roots = select(literal("message:", String) + cast(Message.id, String) + literal(":mirror", String)).where(
        Message.thread_id.is_(None)
    )
    return (
        (OutboxItem.status == "done")
        & (OutboxItem.done_at < now - dt.timedelta(days=keep_days))
        & or_(OutboxItem.draft_id.is_(None), OutboxItem.draft_id.in_(settled_drafts))
        & OutboxItem.key.not_in(thread_roots)
    )


def purgeable(session: Session, keep_days: int, now: dt.datetime | None = None) -> Purged:
    """How many records a purge would delete now (`keep_days` 0: finished outbox items are kept)."""
    now = now or utcnow()
    events = session.scalar(select(func.count()).select_from(InboundEvent).where(inbound.expired(now))) or 0
    items = 0
    if keep_days > 0:
        items = session.scalar(select(func.count()).select_from(OutboxItem).where(_old_outbox(keep_days, now))) or 0
    return Purged(events, items)


def purge(session: Session, keep_days: int, now: dt.datetime | None = None, *, limit: int = BATCH) -> Purged:
    """Delete up to `limit` old records of each kind; call again (a new transaction) while
    the answer says `limit` of a kind went."""
    now = now or utcnow()
    old_events = select(InboundEvent.event_id).where(inbound.expired(now)).limit(limit)
    events = _delete(session, InboundEvent, InboundEvent.event_id, old_events)
    items = 0
    if keep_days > 0:
        old_items = select(OutboxItem.id).where(_old_outbox(keep_days, now)).limit(limit)
        items = _delete(session, OutboxItem, OutboxItem.id, old_items)
    return Purged(events, items)


def _delete(session: Session, model: type[Base], key: InstrumentedAttribute[Any], chosen: Select[Any]) -> int:
    result = session.execute(delete(model).where(key.in_(chosen)).execution_options(synchronize_session=False))
    return typing.cast(CursorResult[Any], result).rowcount
