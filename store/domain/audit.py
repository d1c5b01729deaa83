"""The append-only, hash-chained audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from otp_bot.store.models import AuditEntry

GENESIS = "0" * 64


def _digest(prev_hash: str, at: dt.datetime, actor: str, action: str, subject: str, detail: dict[str, Any]) -> str:
    body = json.dumps(
        [prev_hash, at.isoformat(), actor, action, subject, detail], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _lock_chain(session: Session) -> None:
    # Two writers must not both chain onto the same predecessor. SQLite writers are
    # already serialised (BEGIN IMMEDIATE); PostgreSQL takes a transaction-scoped lock,
    # after the chart's lock if the transaction takes that (chart/locks.py).
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7331)"))


def record(session: Session, actor: str, action: str, subject: str, **detail: Any) -> AuditEntry:
    _lock_chain(session)
    prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    detail = json.loads(json.dumps(detail, default=str))
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        detail=detail,
        prev_hash=prev,
        hash=_digest(prev, at, actor, action, subject, detail),
    )
    session.add(entry)
    session.flush()
    return entry


def record_many(session: Session, actor: str, entries: Iterable[tuple[str, str, dict[str, Any]]]) -> int:
    """Entries `(action, subject, detail)` chained in order as `record` would chain them one by
    one, with one read of the chain's end and one bulk insert: a 10,000-seat import writes
    tens of thousands. Returns how many were written."""
    _lock_chain(session)
    prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    rows = []
    for action, subject, raw in entries:
        detail = json.loads(json.dumps(raw, default=str))
        digest = _digest(prev, at, actor, action, subject, detail)
        rows.append(
            {
                "at": at,
                "actor": actor,
                "action": action,
                "subject": subject,
                "detail": detail,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    if rows:
        # Without RETURNING the rows go in as one executemany, in order: ids follow the chain.
        session.execute(insert(AuditEntry), rows)
    return len(rows)


def verify(session: Session) -> AuditEntry | None:
    """Return the first entry whose chain is broken, or None when the log is intact."""
    prev = GENESIS
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=dt.UTC)
        if entry.prev_hash != prev or entry.hash != _digest(
            prev, at, entry.actor, entry.action, entry.subject, entry.detail
        ):
            return entry
        prev = entry.hash
    return None
