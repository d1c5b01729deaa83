"""The review as the chart file declares it, with its defaults resolved: who attends
(`meetings.review_setup` reads the row itself)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.models import Holder, ReviewSetup, Seat


def attendees(session: Session, setup: ReviewSetup) -> list[str]:
    """The holder ids asked to the review, in chart order. A chart that names none invites
    every holder of an active seat as the seats are now, so a new hire attends without an
    edit of the review."""
    if setup.attendees:
        return list(setup.attendees)
    rows = session.execute(
        select(Holder.id)
        .join(Seat, Seat.holder_id == Holder.id)
        .where(Seat.status == "active")
        .order_by(Holder.position, Holder.id)
    ).scalars()
    return list(dict.fromkeys(rows))
