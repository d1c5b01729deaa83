"""A seat's record: who held it when, its hearings, and the audit log's entries about it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.reading import get_seat
from otp_bot.store.models import AuditEntry, Hearing, Holder, Seat, SeatHolding


@dataclass(frozen=True)
class Holding:
    holder: str  # the holder's name
    kind: str
    started_at: dt.datetime
    ended_at: dt.datetime | None


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    who: str
    action: str
    detail: dict[str, Any]


@dataclass
class SeatHistory:
    seat: Seat
    holdings: list[Holding]  # oldest first
    hearings: list[Hearing]  # oldest first
    events: list[Event]  # the newest `limit` audit entries about the seat, oldest first
    more_events: int


def history(session: Session, seat_id: str, limit: int = 30) -> SeatHistory:
    seat = get_seat(session, seat_id)
    holdings = [
        Holding(name, kind, start, end)
        for name, kind, start, end in session.execute(
            select(Holder.name, Holder.kind, SeatHolding.started_at, SeatHolding.ended_at)
            .join(Holder, Holder.id == SeatHolding.holder_id)
            .where(SeatHolding.seat_id == seat.id)
            .order_by(SeatHolding.started_at, SeatHolding.id)
        )
    ]
    hearings = list(session.scalars(select(Hearing).where(Hearing.seat_id == seat.id).order_by(Hearing.id)))
    subject = f"seat:{seat.id}"
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.subject == subject)) or 0
    entries = list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.id.desc()).limit(limit)
        )
    )[::-1]
    return SeatHistory(
        seat,
        holdings,
        hearings,
        [Event(e.at, who(session, e.actor), e.action, e.detail or {}) for e in entries],
        max(0, total - len(entries)),
    )


def who(session: Session, audit_name: str) -> str:
    """A person's name for an audit actor (`holder:bogdan` → Bogdan), `an operator` for the CLI."""
    kind, _, name = audit_name.partition(":")
    if kind == "holder":
        holder = session.get(Holder, name)
        return holder.name if holder else name
    if kind == "operator":
        return "an operator" if name in ("operator", "cli", "") else f"operator {name}"
    return audit_name
