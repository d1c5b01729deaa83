"""The outbox: work for the outside world, written in the transaction that caused it.

A worker claims due items with a lease and performs them with no transaction held while
it calls out. Ownership is fenced: every claim bumps the item's `fence`, and right before
each call the worker re-confirms it (`confirm`: same fence, still pending) in a short
transaction that also renews the lease. A worker whose lease ran out and whose item was
taken over finds out there and does not call; its `succeed`/`fail` do not count either.
What Slack answered (`landed`) is recorded unconditionally the moment it answers, so
whoever holds the item next knows the post is out without searching for it.

A retry whose earlier attempt started calling out (`started_at` is set) looks for what
landed before calling again; see bot/runtime/delivery.py.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Update, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Conflict, NotFound
from otp_bot.store.models import OutboxItem

BACKOFF_SECONDS = (2, 10, 30, 120, 600)  # after attempt 1, 2, ...; the last one repeats
LEASE = dt.timedelta(seconds=60)
MAX_ATTEMPTS = 6


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
    fence: int = 0
    started_at: dt.datetime | None = None  # when an earlier attempt first called out
    landed: tuple[str, str] | None = None  # (channel, ts) an earlier attempt's post landed at

    @property
    def is_retry(self) -> bool:
        """An earlier attempt may have reached the outside world: look before calling again.
        (An item claimed before but never started is looked for too: cheap, and safe.)"""
        return self.started_at is not None or self.attempt > 1


def _unchanged(item_id: int, fence: int) -> tuple[ColumnElement[bool], ...]:
    return (OutboxItem.id == item_id, OutboxItem.fence == fence, OutboxItem.status == "pending")


def _write(session: Session, stmt: Update) -> int:
    # An UPDATE answers a CursorResult (it has the row count); Session.execute is typed as
    # answering any statement's Result.
    result = cast(CursorResult[Any], session.execute(stmt.execution_options(synchronize_session=False)))
    return result.rowcount


def enqueue(
    session: Session,
    kind: str,
    key: str,
    payload: dict[str, Any] | None = None,
    *,
    draft_id: int | None = None,
    now: dt.datetime | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    claim_for: dt.timedelta | None = None,
) -> Claimed | None:
    """Queue work once per key: the same key queued again is a no-op.

    `claim_for`: the caller will perform the item itself as soon as this transaction
    commits, so it is queued already claimed for that lease (fence 1, attempt 1), as
    `claim` would have taken it: no second transaction to claim it, and no other worker
    takes it unless the lease runs out. Returns the claim (None when the key was queued
    before); without `claim_for`, None."""
    now = now or utcnow()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    claimed = {} if claim_for is None else {"fence": 1, "attempts": 1, "locked_until": now + claim_for}
    insert = (
        dialect.insert(OutboxItem)
        .values(
            kind=kind,
            key=key[:200],
            draft_id=draft_id,
            payload=payload or {},
            status="pending",
            attempts=0,
            max_attempts=max_attempts,
            next_attempt_at=now,
            created_at=now,
            result={},
            fence=0,
        )
        .values(**claimed)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    if claim_for is None:
        session.execute(insert)
        return None
    item_id = session.scalar(insert.returning(OutboxItem.id))
    if item_id is None:
        return None
    return Claimed(item_id, kind, key[:200], draft_id, dict(payload or {}), 1, max_attempts, now, 1)


def claim(
    session: Session, *, limit: int = 20, lease: dt.timedelta = LEASE, now: dt.datetime | None = None
) -> list[Claimed]:
    """Take up to `limit` due items for `lease`; other workers skip them meanwhile.

    Each item is taken by compare-and-set on its fence, so two workers that both saw it
    free cannot both own it; the winner's fence is the one `confirm` checks."""
    now = now or utcnow()
    query = (
        select(OutboxItem.id, OutboxItem.fence)
        .where(
            OutboxItem.status == "pending",
            OutboxItem.next_attempt_at <= now,
            or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until <= now),
        )
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    out = []
    for item_id, fence in session.execute(query).all():
        won = _write(
            session,
            update(OutboxItem)
            .where(*_unchanged(item_id, fence))
            .values(fence=fence + 1, attempts=OutboxItem.attempts + 1, locked_until=now + lease),
        )
        if not won:
            continue
        item = session.get_one(OutboxItem, item_id, populate_existing=True)  # just updated: it is there
        landed = (item.landed_channel, item.landed_ts) if item.landed_ts and item.landed_channel is not None else None
        out.append(
            Claimed(
                item.id,
                item.kind,
                item.key,
                item.draft_id,
                dict(item.payload),
                item.attempts,
                item.max_attempts,
                item.created_at,
                item.fence,
                item.started_at,
                landed,
            )
        )
    return out


def confirm(
    session: Session, item_id: int, fence: int, *, lease: dt.timedelta = LEASE, now: dt.datetime | None = None
) -> bool:
    """Right before a call out: still ours? Renews the lease and notes when the first
    attempt started calling. False when another worker took the item over (or it is no
    longer pending): the caller must not call out."""
    now = now or utcnow()
    return bool(
        _write(
            session,
            update(OutboxItem)
            .where(*_unchanged(item_id, fence))
            .values(locked_until=now + lease, started_at=func.coalesce(OutboxItem.started_at, now)),
        )
    )


def release(session: Session, item_id: int, fence: int) -> bool:
    """A worker that is stopping gives back a claim it has not started: the item is free at
    once, not when the lease runs out. Only a claim never confirmed (nothing called out
    under it) may be given back: one in hand finishes, or its lease runs out. The attempt
    stays counted, as a claim whose process died would be; the next claim moves the fence on."""
    return bool(
        _write(
            session,
            update(OutboxItem).where(*_unchanged(item_id, fence)).values(locked_until=None),
        )
    )


def record_landing(session: Session, item_id: int, channel: str, ts: str) -> None:
    """Slack answered with where the post landed: kept whoever owns the item now (the
    post is out, whatever happens to this worker next). The first landing stays."""
    _write(
        session,
        update(OutboxItem)
        .where(OutboxItem.id == item_id, OutboxItem.landed_ts.is_(None))
        .values(landed_channel=channel, landed_ts=ts),
    )


def succeed(
    session: Session, item_id: int, fence: int, result: dict[str, Any] | None = None, now: dt.datetime | None = None
) -> bool:
    """The attempt worked; False (nothing recorded) when the item was taken over meanwhile."""
    return bool(
        _write(
            session,
            update(OutboxItem)
            .where(*_unchanged(item_id, fence))
            .values(status="done", done_at=now or utcnow(), locked_until=None, last_error=None, result=result or {}),
        )
    )


def fail(
    session: Session,
    item_id: int,
    fence: int,
    error: str,
    *,
    permanent: bool = False,
    backoff: tuple[float, ...] | list[float] = BACKOFF_SECONDS,
    slowed_for: float | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Record a failed attempt; True when it was the last (the item is now `failed`).
    Nothing is recorded (False) when the item was taken over meanwhile.

    `slowed_for`: the other side asked us to wait that many seconds (Slack's 429 and its
    Retry-After). That is not a failed attempt: it is refunded, so a burst that meets the rate
    limit again and again is slowed, never given up on. The wait is spread (up to half again)
    so the items refused together do not all come back in the same instant."""
    now = now or utcnow()
    item = session.get(OutboxItem, item_id, populate_existing=True)
    if item is None or item.fence != fence or item.status != "pending":
        return False
    last = permanent or (slowed_for is None and item.attempts >= item.max_attempts)
    values: dict[str, Any] = {"last_error": error[:2000], "locked_until": None}
    if last:
        values.update(status="failed", done_at=now)
    elif slowed_for is not None:
        wait = max(slowed_for, 1.0) * random.uniform(1.0, 1.5)  # spreads retries; not a secret
        values.update(next_attempt_at=now + dt.timedelta(seconds=wait), attempts=max(item.attempts - 1, 0))
    else:
        wait = backoff[min(item.attempts, len(backoff)) - 1]
        values["next_attempt_at"] = now + dt.timedelta(seconds=wait)
    won = _write(session, update(OutboxItem).where(*_unchanged(item_id, fence)).values(**values))
    return bool(won) and last


def requeue(session: Session, item_id: int, now: dt.datetime | None = None) -> OutboxItem:
    """A failed item goes back to the queue with a fresh attempt budget. What the earlier
    attempts left (when they started, where a post landed) is kept: the next attempt
    still looks for an earlier post before calling out. The fence moves on, so a worker
    still holding an old claim cannot report on the new round."""
    now = now or utcnow()
    item = session.get(OutboxItem, item_id, populate_existing=True)
    if item is None:
        raise NotFound(f"there is no outbox item {item_id}")
    if item.status != "failed":
        raise Conflict(f"outbox item {item_id} is {item.status}, not failed; nothing to retry")
    _write(
        session,
        update(OutboxItem)
        .where(OutboxItem.id == item_id, OutboxItem.status == "failed")
        .values(
            status="pending",
            attempts=0,
            fence=OutboxItem.fence + 1,
            next_attempt_at=now,
            locked_until=None,
            done_at=None,
            last_error=None,
        ),
    )
    return session.get_one(OutboxItem, item_id, populate_existing=True)


def items(session: Session, *, failed: bool = False, limit: int = 50) -> list[OutboxItem]:
    """The newest items (only failed ones with `failed`), newest first."""
    query = select(OutboxItem).order_by(OutboxItem.id.desc()).limit(limit)
    if failed:
        query = query.where(OutboxItem.status == "failed")
    return list(session.scalars(query))


def item_for_draft(session: Session, draft_id: int) -> OutboxItem | None:
    return session.scalar(select(OutboxItem).where(OutboxItem.draft_id == draft_id, OutboxItem.kind == "deliver"))


def due_count(session: Session, now: dt.datetime | None = None) -> int:
    """Items the worker should be performing now (claimed or not): not those waiting to retry later."""
    due = (OutboxItem.status == "pending", OutboxItem.next_attempt_at <= (now or utcnow()))
    return session.scalar(select(func.count()).select_from(OutboxItem).where(*due)) or 0


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "pending")) or 0
