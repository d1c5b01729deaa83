"""Seats that are not retired, as plain columns, and who answers for a seat as the briefing and review name it."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from otp_bot.store.domain.chart.cache import per_chart
from otp_bot.store.domain.chart.reading import accountable_human
from otp_bot.store.models import Holder, Seat


class SeatFacts(NamedTuple):
    """A seat that is not retired, from plain columns: what the briefing's lines name."""

    id: str
    title: str
    holder_id: str | None
    position: int
    holder: str | None  # the holder's name
    agent: bool
    owner: str  # as `owner_text` says it


def owner_text(seat: Seat) -> str:
    holder = seat.holder
    human = accountable_human(holder)
    return _owner(holder.name if holder else None, holder.kind if holder else None, human.name if human else None)


def _owner(holder: str | None, kind: str | None, accountable: str | None) -> str:
    if holder is None:
        return "vacant"
    if kind == "agent" and accountable is not None:
        return f"{holder} (agent, {accountable} accountable)"
    return holder


def seat_facts(session: Session) -> list[SeatFacts]:
    """Every seat that is not retired, read once per chart version (titles, holders and
    supervisors change only with it)."""
    return per_chart(session, "seat facts", _read_seat_facts)


def _read_seat_facts(session: Session) -> list[SeatFacts]:
    supervisor = aliased(Holder)
    rows = (
        session.connection()
        .execute(
            select(Seat.id, Seat.title, Seat.holder_id, Seat.position, Holder.name, Holder.kind, supervisor.name)
            .outerjoin(Holder, Holder.id == Seat.holder_id)
            .outerjoin(supervisor, supervisor.id == Holder.supervisor_id)
            .where(Seat.status != "retired")
        )
        .all()
    )
    # An agent answers to its supervisor; a human to themselves (only an agent's is named).
    return [
        SeatFacts(sid, title, holder_id, position, name, kind == "agent", _owner(name, kind, boss))
        for sid, title, holder_id, position, name, kind, boss in rows
    ]
