"""What Slack sent us already, in the shared store (so every process agrees).

Two kinds of key share one table: an Events API `event_id` (Slack retries a delivery it
thinks failed; we act once), and a signed request's signature (`sig:` and its hex), so a
captured request sent again inside Slack's 5-minute window is not run twice.
"""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import ColumnElement, and_, delete, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from otp_bot.store.models import InboundEvent

KEEP = dt.timedelta(days=2)  # Slack retries within minutes; two days is plenty
# A signature is accepted while its timestamp is within 5 minutes of now, either way: seen at
# time t, it can come again until t + 10 minutes at most. Kept a little longer than that.
KEEP_SIGNATURES = dt.timedelta(minutes=12)
SIGNATURE_PREFIX = "sig:"
PRUNE_EVERY = dt.timedelta(minutes=1)
_next_prune = dt.datetime.min.replace(tzinfo=dt.UTC)
_prune_lock = threading.Lock()


def _claim(session: Session, key: str, now: dt.datetime) -> bool:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    claimed = session.scalar(
        dialect.insert(InboundEvent)
        .values(event_id=key[:64], received_at=now)
        .on_conflict_do_nothing()
        .returning(InboundEvent.event_id)
    )
    return claimed is not None


def first_delivery(session: Session, event_id: str) -> bool:
    """Claim an event id; False when it was claimed before (a retry or a duplicate)."""
    now = dt.datetime.now(dt.UTC)
    claimed = _claim(session, event_id, now)
    if claimed:  # an indexed delete of nothing, most of the time
        session.execute(delete(InboundEvent).where(InboundEvent.received_at < now - KEEP))
    return claimed


def first_request(session: Session, signature: str) -> bool:
    """Claim a verified request's signature (`v0=` and 64 hex digits); False when the very
    same signed request was handled before (a replay)."""
    now = dt.datetime.now(dt.UTC)
    key = SIGNATURE_PREFIX + signature.removeprefix("v0=")[:60]  # 240 bits: no two requests share it
    claimed = _claim(session, key, now)
    if claimed and _prune_due(now):
        session.execute(
            delete(InboundEvent).where(
                InboundEvent.event_id.startswith(SIGNATURE_PREFIX), InboundEvent.received_at < now - KEEP_SIGNATURES
            )
        )
    return claimed


def expired(now: dt.datetime) -> ColumnElement[bool]:
    """The rows the guard no longer needs: an event id past Slack's retries, a signature
    past its timestamp window. Requests prune them as they come; retention
    (store/domain/retention.py) when none come."""
    return or_(
        InboundEvent.received_at < now - KEEP,
        and_(InboundEvent.event_id.startswith(SIGNATURE_PREFIX), InboundEvent.received_at < now - KEEP_SIGNATURES),
    )


def _prune_due(now: dt.datetime) -> bool:
    """Old signatures are deleted at most once per PRUNE_EVERY in each process: the delete
    cost nearly as much as the claim on every request, and a signature kept a minute longer
    changes nothing (its timestamp is refused as stale by then)."""
    global _next_prune
    with _prune_lock:
        if now < _next_prune:
            return False
        _next_prune = now + PRUNE_EVERY
        return True
