"""A seat's holder: assigned, handed to someone else, or vacated."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.locks import lock_chart
from otp_bot.store.domain.chart.reading import get_holder, reporting_line
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.gate.follow_chart import follow_chart
from otp_bot.store.domain.lifecycle.chart_changes import live_seat, new_revision, require_above
from otp_bot.store.models import Seat, SeatHolding


@dataclass
class Assignment:
    seat: Seat
    previous: str | None  # the holder before, if any
    changed: bool


def assign(
    session: Session, actor: Actor, seat_id: str, holder_id: str | None, now: dt.datetime | None = None
) -> Assignment:
    """Give a seat a holder (None: vacate it). The open holding closes, a new one opens."""
    now = now or utcnow()
    org = lock_chart(session)
    seat = live_seat(session, seat_id)
    verb = "assign" if holder_id else "vacate"
    require_above(session, actor, reporting_line(session, seat), f"{verb} seat `{seat.id}`")
    person = get_holder(session, holder_id) if holder_id else None
    previous = seat.holder_id
    if (person.id if person else None) == previous:
        return Assignment(seat, previous, changed=False)
    if previous is not None:
        open_holding = session.scalar(
            select(SeatHolding).where(SeatHolding.seat_id == seat.id, SeatHolding.ended_at.is_(None))
        )
        if open_holding is not None:
            open_holding.ended_at = now
    seat.holder_id = person.id if person else None
    seat.status = "active" if person else "vacant"
    # The closed holding first: the partial unique index allows one open holding per seat.
    session.flush()
    if person:
        session.add(SeatHolding(seat_id=seat.id, holder_id=person.id, started_at=now))
    new_revision(org)
    session.flush()
    session.refresh(seat)
    if person:
        audit.record(
            session,
            actor.audit_name,
            "seat.assigned",
            f"seat:{seat.id}",
            holder=person.id,
            previous=previous,
            revision=org.revision,
        )
    else:
        audit.record(
            session, actor.audit_name, "seat.vacated", f"seat:{seat.id}", previous=previous, revision=org.revision
        )
    # The previous holder's waiting drafts no longer speak for the seat: withdrawn, saying why.
    follow_chart(session, actor.audit_name, now)
    return Assignment(seat, previous, changed=True)


def vacate(session: Session, actor: Actor, seat_id: str, now: dt.datetime | None = None) -> Assignment:
    return assign(session, actor, seat_id, None, now)
