"""The briefing's sections of what waits on a person: drafts to decide, drafts held by a policy, overdue requests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from otp_bot.store.domain.clock import as_utc
from otp_bot.store.models import Draft, Seat

# Drafts and requests are read as plain columns with their seat's title: as ORM objects each
# would load its seat's word lists and metrics, and its decisions.


@dataclass
class Waiting:
    count: int
    oldest_id: int
    oldest_title: str
    oldest_seat: str
    oldest_since: dt.datetime


@dataclass
class Held:
    id: int
    title: str
    seat_id: str
    seat: str
    reason: str
    since: dt.datetime


@dataclass
class Overdue:
    id: int
    from_seat: str
    to_seat: str
    subject: str
    deadline: dt.datetime


def waiting_drafts(session: Session) -> Waiting | None:
    count = session.scalar(select(func.count()).select_from(Draft).where(Draft.status == "pending")) or 0
    if not count:
        return None
    did, title, seat, queued_at, created_at = session.execute(
        select(Draft.id, Draft.title, Seat.title, Draft.queued_at, Draft.created_at)
        .join(Seat, Seat.id == Draft.seat_id)
        .where(Draft.status == "pending")
        .order_by(Draft.queued_at, Draft.id)
        .limit(1)
    ).one()
    return Waiting(count, did, title, seat, as_utc(queued_at or created_at))


def held_drafts(session: Session) -> list[Held]:
    drafts = session.execute(
        select(Draft.id, Draft.title, Draft.seat_id, Seat.title, Draft.hold_reason, Draft.created_at)
        .join(Seat, Seat.id == Draft.seat_id)
        .where(Draft.status == "held")
        .order_by(Draft.created_at, Draft.id)
    )
    return [
        Held(did, title, seat_id, seat, reason or "held by a policy", as_utc(at))
        for did, title, seat_id, seat, reason, at in drafts
    ]


def overdue_requests(session: Session, now: dt.datetime) -> list[Overdue]:
    try:  # the message bus is newer than the briefing; an older store has no requests to chase
        from otp_bot.store.domain.agents.inboxes import overdue_query
        from otp_bot.store.models import Message
    except ImportError:
        return []
    sender, receiver = aliased(Seat), aliased(Seat)
    rows = session.execute(
        overdue_query(now, limit=500)
        .with_only_columns(Message.id, sender.title, receiver.title, Message.subject, Message.deadline)
        .join(sender, sender.id == Message.from_seat_id)
        .join(receiver, receiver.id == Message.to_seat_id)
    )
    # Every one has a deadline (the query compares it with `now`); the check tells the types so.
    return [
        Overdue(mid, sender_title, receiver_title, subject, as_utc(deadline))
        for mid, sender_title, receiver_title, subject, deadline in rows
        if deadline is not None
    ]
