"""What every change to the chart shares: who may make it, the seat it acts on, its new revision
(one change at a time: chart/locks.py)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_seat
from otp_bot.store.domain.errors import Conflict, Forbidden
from otp_bot.store.models import Holder, Org, Seat


def require_above(session: Session, actor: Actor, line: list[Seat], what: str) -> None:
    """Raise unless the actor may change a seat whose reporting line is `line` (the seats
    above it, nearest first; empty at the top of the chart).

    Who may: an operator (the CLI), or a person holding a seat above the seat in the
    reporting line. A seat at the top of the chart (no manager) is hired, assigned or retired
    by an operator or by a person holding a top-level seat. Agents never change the chart,
    even from a seat above: hiring and retiring are human decisions."""
    if actor.operator:
        return
    if actor.holder_id is None:
        raise Forbidden(f"you are not on the chart, so you can read it but not {what}")
    holder = session.get(Holder, actor.holder_id)
    if holder is None or holder.kind != "human":
        raise Forbidden(f"only people {what}; an agent cannot, even from a seat above")
    held = actor.held_seat_ids(session)
    if line:
        if held & {s.id for s in line}:
            return
        people = [f"{s.holder.name} ({s.title})" for s in line if s.holder is not None and s.holder.kind == "human"]
        raise Forbidden(
            f"only a person above it in the reporting line or an operator can {what}"
            + (f": {', '.join(people[:4])}" if people else "")
        )
    tops = session.scalar(
        select(func.count())
        .select_from(Seat)
        .where(Seat.reports_to_id.is_(None), Seat.status != "retired", Seat.holder_id == actor.holder_id)
    )
    if not tops:
        raise Forbidden(f"at the top of the chart only the holder of a top-level seat or an operator can {what}")


def new_revision(org: Org) -> None:
    # Caches (who-owns) key on the etag: a new one makes them rebuild at once.
    org.revision += 1
    org.etag = uuid.uuid4().hex


def live_seat(session: Session, seat_id: str) -> Seat:
    seat = get_seat(session, seat_id)
    if seat.status == "retired":
        raise Conflict(f"seat `{seat.id}` is retired", hint=f"`/otp history {seat.id}` shows its record")
    return seat
