"""What a seat's holder should have in front of them before drafting for approval: the org's
rules naming the seat, what people said of recent drafts of the same kind (why they were
rejected, how they were edited before approval), and the flags in force on the subject (a
policy may hold the draft while one stands)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_seat
from otp_bot.store.domain.chart.rules import rules_naming
from otp_bot.store.domain.errors import Forbidden, Invalid
from otp_bot.store.domain.gate.drafts import KIND, SUBJECT
from otp_bot.store.domain.gate.flags import active_flags
from otp_bot.store.domain.gate.learnings import Learnings, learnings
from otp_bot.store.models import Flag, Rule, Seat


@dataclass(frozen=True)
class DraftingContext:
    seat: Seat
    kind: str
    subject: str
    rules: list[Rule]
    learnings: Learnings  # of this seat and kind
    flags: list[Flag]


def own_seat(session: Session, actor: Actor, seat_id: str) -> Seat:
    """A seat the actor holds (any seat for an operator): a seat's drafts and reviews are its holder's."""
    seat = get_seat(session, seat_id)
    if not actor.operator and (actor.holder_id is None or seat.holder_id != actor.holder_id):
        raise Forbidden(
            f"seat `{seat.id}` is held by {seat.holder.name if seat.holder else 'nobody'}; "
            "you can prepare only for seats you hold"
        )
    return seat


def own_seats(session: Session, actor: Actor, seat_id: str | None = None) -> list[Seat]:
    """The seat named, when the actor holds it, or every active seat they hold (every seat for an operator)."""
    if seat_id:
        return [own_seat(session, actor, seat_id)]
    query = select(Seat).where(Seat.status != "retired").order_by(Seat.position, Seat.id)
    if not actor.operator:
        query = query.where(Seat.holder_id == (actor.holder_id or ""))
    seats = list(session.scalars(query).unique())
    if not seats:
        raise Forbidden("you hold no seat, so there is nothing of yours to review")
    return seats


def drafting_context(session: Session, actor: Actor, seat_id: str, kind: str, subject: str) -> DraftingContext:
    """The context for a draft of this kind about this subject, for a seat the actor holds."""
    seat = own_seat(session, actor, seat_id)
    kind, subject = kind.strip().lower(), subject.strip().lower()
    if not KIND.match(kind):
        raise Invalid(f"`{kind[:40]}` is not a draft kind", hint="a kind is a short word like retention-outreach")
    if not SUBJECT.match(subject):
        raise Invalid("name the subject in one word, like client:acme")
    return DraftingContext(
        seat=seat,
        kind=kind,
        subject=subject,
        rules=rules_naming(session, seat.id),
        learnings=learnings(session, seat.id, kind=kind),
        flags=active_flags(session, subject),
    )
