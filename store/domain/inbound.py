"""Deduplicating Slack's event retries in the shared store (so every process agrees)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from otp_bot.store.models import InboundEvent

KEEP = dt.timedelta(days=2)  # Slack retries within minutes; two days is plenty


def first_delivery(session: Session, event_id: str) -> bool:
    """Claim an event id; False when it was claimed before (a retry or a duplicate)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = dt.datetime.now(dt.UTC)
    claimed = session.scalar(
        dialect.insert(InboundEvent).values(event_id=event_id[:64], received_at=now)
        .on_conflict_do_nothing().returning(InboundEvent.event_id)
    )
    if claimed is not None:  # an indexed delete of nothing, most of the time
        session.execute(delete(InboundEvent).where(InboundEvent.received_at < now - KEEP))
    return claimed is not None
