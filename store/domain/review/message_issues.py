"""A Slack message raised as an issue (the *Raise as issue* message shortcut): a title, the
seat that owns it, an optional detail, and the message's permalink as where it came from.

A form shows each problem under its field, so every field is checked before anything is
written and the problems come back together; the issue itself is raised by
`issues.raise_issue`, which checks them again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import seat_order
from otp_bot.store.domain.errors import DomainError, Invalid
from otp_bot.store.domain.review import issues
from otp_bot.store.domain.review.rights import live_seat, require_on_chart
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import Issue, Seat

MAX_REF = 300  # issues.message_ref
MAX_CHOICES = 100  # the seats a form offers


class FieldErrors(Invalid):
    """Everything wrong with a submission, each problem under its field (title, seat, detail)."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__(
            "the issue was not raised: " + "; ".join(f"{k}: {v}" for k, v in problems.items()),
            hint="correct the fields named and submit again",
        )


@dataclass(frozen=True)
class SeatChoice:
    id: str
    title: str
    mine: bool  # held by the person raising it


def seat_choices(session: Session, actor: Actor) -> list[SeatChoice]:
    """The seats an issue may be given to (held, not retired): the asker's own first, then
    the chart's order; at most MAX_CHOICES."""
    require_on_chart(actor, "raise issues")
    held = actor.held_seat_ids(session)
    order = {sid: i for i, sid in enumerate(seat_order(session))}
    live = session.execute(
        select(Seat.id, Seat.title).where(Seat.status != "retired", Seat.holder_id.is_not(None))
    ).all()
    ranked = sorted(live, key=lambda s: (s.id not in held, order.get(s.id, len(order)), s.id))
    if not ranked:
        raise Invalid("no seat is held, so no seat can own an issue", hint="`/otp chart` shows the seats")
    return [SeatChoice(s.id, s.title, s.id in held) for s in ranked[:MAX_CHOICES]]


def raise_from_message(
    session: Session,
    actor: Actor,
    title: str,
    seat_id: str,
    detail: str | None,
    message_ref: str,
    *,
    now: dt.datetime | None = None,
) -> Issue:
    """Raise an issue from a message; FieldErrors names each field that is wrong, and nothing is written."""
    require_on_chart(actor, "raise issues")
    problems: dict[str, str] = {}
    try:
        if not clean_text(title, "the title", multiline=False, limit=issues.MAX_TITLE):
            problems["title"] = "say what the issue is"
    except DomainError as exc:
        problems["title"] = exc.message
    if not (seat_id or "").strip():
        problems["seat"] = "choose the seat that owns the issue"
    else:
        try:
            live_seat(session, seat_id, "an issue")
        except DomainError as exc:
            problems["seat"] = exc.message
    try:
        clean_text(detail, "the detail", multiline=True, limit=issues.MAX_TEXT)
    except DomainError as exc:
        problems["detail"] = exc.message
    if problems:
        raise FieldErrors(problems)
    if not message_ref or len(message_ref) > MAX_REF or not message_ref.startswith("https://"):
        raise Invalid("the message's link is missing; nothing was raised", hint="use the shortcut on the message again")
    return issues.raise_issue(
        session,
        actor,
        title,
        seat_id=seat_id.strip().lower(),
        detail=detail or None,
        source="message",
        message_ref=message_ref,
        now=now,
    )


def trimmed_title(text: str) -> str:
    """A message's text as an issue's title: on one line, control characters out, cut to fit."""
    line = " ".join((text or "").split())
    line = "".join(c for c in line if c.isprintable())
    return line if len(line) <= issues.MAX_TITLE else line[: issues.MAX_TITLE - 1] + "…"
