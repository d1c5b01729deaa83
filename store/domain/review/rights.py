"""Who may do what in the review, and the seat a review item is owned by.

An issue, a to-do or a rock belongs to a seat. The people who answer for a seat manage its
items: the seat's accountable human (its holder, or an agent's supervisor), anyone above it
in the reporting line, the review's facilitator, and operators. A seat's own holder — a
person or an agent — reports on its own items (completes its to-dos, sets its rocks' track;
an agent's track is a proposal until its accountable human confirms it)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import accountable_human, get_seat, reporting_line, seat_order
from otp_bot.store.domain.errors import Forbidden, Invalid
from otp_bot.store.models import Holder, ReviewSetup, Seat


def require_on_chart(actor: Actor, what: str) -> None:
    if not actor.operator and actor.holder_id is None:
        raise Forbidden(
            f"only people and agents on the chart {what}",
            hint="ask an operator to add your Slack user to the chart file",
        )


def live_seat(session: Session, seat_id: str, what: str) -> Seat:
    """A seat that can answer for `what`: on the chart, not retired, held by someone."""
    seat = get_seat(session, seat_id.strip().lower())
    if seat.status == "retired":
        raise Invalid(
            f"`{seat.id}` ({seat.title}) is retired; {what} needs a seat that can answer for it",
            hint="give it to the seat that took over its work",
        )
    if seat.holder_id is None:
        above = f"`{seat.reports_to_id}`, the seat above it," if seat.reports_to_id else "the seat that covers its work"
        raise Invalid(
            f"nobody holds `{seat.id}` ({seat.title}); {what} needs a seat someone answers for",
            hint=f"give it to {above} until the seat is filled",
        )
    return seat


def answerable_seat_ids(session: Session, actor: Actor) -> set[str]:
    """The seats whose items are "yours": those you hold, those of the agents you supervise, and
    the empty seats right below yours (until someone holds them, their work is yours to see)."""
    if actor.holder_id is None:
        return set()
    agents = select(Holder.id).where(Holder.supervisor_id == actor.holder_id)
    held = actor.held_seat_ids(session) | set(session.scalars(select(Seat.id).where(Seat.holder_id.in_(agents))))
    empty_below = select(Seat.id).where(
        Seat.holder_id.is_(None), Seat.status != "retired", Seat.reports_to_id.in_(held)
    )
    return held | set(session.scalars(empty_below))


def may_order(session: Session, actor: Actor) -> bool:
    """The issues list is the whole team's: the facilitator, operators and the people at the
    top of the chart set its order."""
    if actor.operator or is_facilitator(session, actor):
        return True
    if actor.holder_id is None or is_agent(session, actor):
        return False
    return bool(
        session.scalar(select(Seat.id).where(Seat.holder_id == actor.holder_id, Seat.reports_to_id.is_(None)).limit(1))
    )


def default_seat(session: Session, actor: Actor, what: str) -> Seat:
    """The seat an item is for when none is named: the asker's first seat in chart order."""
    held = actor.held_seat_ids(session)
    order = [s for s in seat_order(session) if s in held] if held else []
    if not order:
        raise Invalid(f"say which seat {what} is for", hint="you hold no seat: name the seat it belongs to")
    return live_seat(session, order[0], what)


def is_facilitator(session: Session, actor: Actor) -> bool:
    setup = session.get(ReviewSetup, 1)
    return setup is not None and actor.holder_id is not None and setup.facilitator_id == actor.holder_id


def may_manage(session: Session, actor: Actor, seat: Seat) -> bool:
    if actor.operator or is_facilitator(session, actor):
        return True
    if actor.holder_id is None:
        return False
    human = accountable_human(seat.holder)
    if human is not None and human.id == actor.holder_id:
        return True
    return any(above.holder_id == actor.holder_id for above in reporting_line(session, seat))


def holds(actor: Actor, seat: Seat) -> bool:
    return actor.holder_id is not None and seat.holder_id == actor.holder_id


def require_manage(session: Session, actor: Actor, seat: Seat, what: str) -> None:
    if may_manage(session, actor, seat):
        return
    human = accountable_human(seat.holder)
    who = f"{human.name}, " if human is not None else ""
    raise Forbidden(
        f"only the people who answer for `{seat.id}` can {what}: {who}anyone above it, the review's facilitator"
    )


def is_agent(session: Session, actor: Actor) -> bool:
    if actor.holder_id is None:
        return False
    return session.scalar(select(Holder.kind).where(Holder.id == actor.holder_id)) == "agent"
