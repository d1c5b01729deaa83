"""The outbox: work for the outside world, written in the transaction that caused it.

A worker claims due items with a lease, performs them, and records the outcome. A worker
that dies mid-call leaves the lease to run out; the next claim sees `attempts > 0` and
the performer checks whether the first attempt landed before trying again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from otp_bot.store.domain.clock import utcnow
from otp_bot.store.models import OutboxItem

BACKOFF_SECONDS = (2, 10, 30, 120, 600)  # after attempt 1, 2, ...; the last one repeats
LEASE = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Claimed:
    """A claimed item, detached from any session: the worker holds no transaction while it calls out."""

    id: int
    kind: str
    key: str
    draft_id: int | None
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    created_at: dt.datetime

    @property
    def is_retry(self) -> bool:
        return self.attempt > 1


def enqueue(session: Session, kind: str, key: str, payload: dict[str, Any] | None = None, *,
            draft_id: int | None = None, now: dt.datetime | None = None, max_attempts: int = 6) -> None:
    """Queue work once per key: the same key queued again is a no-op."""
    now = now or utcnow()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(OutboxItem).values(
        kind=kind, key=key[:200], draft_id=draft_id, payload=payload or {}, status="pending", attempts=0,
        max_attempts=max_attempts, next_attempt_at=now, created_at=now, result={},
    ).on_conflict_do_nothing(index_elements=["key"]))


def claim(session: Session, *, limit: int = 20, lease: dt.timedelta = LEASE,
          now: dt.datetime | None = None) -> list[Claimed]:
    """Take up to `limit` due items for `lease`; other workers skip them meanwhile."""
    now = now or utcnow()
    query = (select(OutboxItem)
             .where(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now,
                    or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until <= now))
             .order_by(OutboxItem.next_attempt_at, OutboxItem.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    items = session.scalars(query).all()
    out = []
    for item in items:
        item.attempts += 1
        item.locked_until = now + lease
        out.append(Claimed(item.id, item.kind, item.key, item.draft_id, dict(item.payload), item.attempts,
                           item.max_attempts, item.created_at))
    session.flush()
    return out


def succeed(session: Session, item_id: int, result: dict[str, Any] | None = None,
            now: dt.datetime | None = None) -> None:
    item = session.get(OutboxItem, item_id)
    item.status, item.done_at, item.locked_until, item.last_error = "done", now or utcnow(), None, None
    item.result = result or {}


def fail(session: Session, item_id: int, error: str, *, permanent: bool = False,
         backoff: tuple[float, ...] | list[float] = BACKOFF_SECONDS, now: dt.datetime | None = None) -> bool:
    """Record a failed attempt; returns True when it was the last (the item is now `failed`)."""
    now = now or utcnow()
    item = session.get(OutboxItem, item_id)
    item.last_error, item.locked_until = error[:2000], None
    if permanent or item.attempts >= item.max_attempts:
        item.status, item.done_at = "failed", now
        return True
    wait = backoff[min(item.attempts, len(backoff)) - 1]
    item.next_attempt_at = now + dt.timedelta(seconds=wait)
    return False


def pending_count(session: Session) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "pending")) or 0
