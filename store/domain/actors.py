"""Who is asking: the identity every domain rule checks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.directory import directory
from otp_bot.store.domain.chart.reading import find_org
from otp_bot.store.models import Holder, Seat


@dataclass(frozen=True)
class Actor:
    """A holder acting through a surface, an operator at the CLI, or an unknown reader."""

    label: str
    holder_id: str | None = None
    operator: bool = False
    push_seats: frozenset[str] = frozenset()  # seats whose metrics this actor may push to beyond those it holds
    token_id: int | None = None  # the API token it came through, when it did (a token manages its own webhook)

    @classmethod
    def anonymous(cls, label: str = "someone") -> Actor:
        return cls(label=label)

    @classmethod
    def cli_operator(cls, label: str = "operator") -> Actor:
        return cls(label=label, operator=True)

    @property
    def audit_name(self) -> str:
        if self.holder_id:
            return f"holder:{self.holder_id}"
        return f"operator:{self.label}" if self.operator else f"unknown:{self.label}"

    def held_seat_ids(self, session: Session) -> set[str]:
        if not self.holder_id:
            return set()
        return set(session.scalars(select(Seat.id).where(Seat.holder_id == self.holder_id)))


def actor_for_holder(session: Session, holder_id: str) -> Actor:
    from otp_bot.store.domain.chart.reading import get_holder

    holder = get_holder(session, holder_id)
    return Actor(label=holder.name, holder_id=holder.id)


def actor_for_slack_user(session: Session, slack_user: str, email: str | None = None) -> Actor:
    """Map a Slack user to a holder by id, else by profile email; an unknown person may read, not write."""
    if find_org(session) is None:  # no chart yet: nobody holds anything
        return Actor.anonymous(slack_user)
    known = directory(session).slack_users.get(slack_user)
    if known is not None:
        return Actor(label=known[1], holder_id=known[0])
    holder = session.scalar(select(Holder).where(func.lower(Holder.email) == email.lower())) if email else None
    if holder is None:
        return Actor.anonymous(slack_user)
    return Actor(label=holder.name, holder_id=holder.id)
