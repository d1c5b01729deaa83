"""Seats' inboxes: a page of messages to a seat, marking them read, a whole thread, requests past their deadline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents.bus import check_read, get_message, readable_message
from otp_bot.store.domain.chart.reading import get_seat
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Forbidden, Invalid
from otp_bot.store.models import Message, Seat

MAX_PAGE = 200
MAX_THREAD = 500
FILTERS = ("open", "unread", "read", "answered", "all")
AWAITS_ANSWER = ("REQUEST", "PROPOSAL")


@dataclass
class InboxPage:
    seat: Seat
    messages: list[Message]  # newest first
    next_cursor: str | None  # pass it back for the next (older) page
    unread: int  # in the whole inbox, not just this page


def _filter(status: str | None):
    status = (status or "open").strip().lower()
    if status not in FILTERS:
        raise Invalid(f"`{status[:40]}` is not an inbox filter", hint=f"use one of {', '.join(FILTERS)}")
    if status == "all":
        return None
    if status == "open":  # what still needs the seat: unread, or asked of it and not answered
        return or_(Message.status == "unread", and_(Message.status == "read", Message.performative.in_(AWAITS_ANSWER)))
    return Message.status == status


def _cursor(cursor: str | int | None) -> int | None:
    if cursor in (None, ""):
        return None
    text = str(cursor).strip()
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise Invalid(f"`{text[:40]}` is not a cursor", hint="pass the next_cursor of the previous page")
    return int(text)


def inbox(
    session: Session,
    actor: Actor,
    seat_id: str | None,
    *,
    status: str | None = "open",
    limit: int = 50,
    cursor: str | int | None = None,
) -> InboxPage:
    """Messages to a seat (by default the one the actor holds), newest first, a page at a time."""
    if not seat_id and actor.holder_id is not None:
        held = list(session.scalars(select(Seat.id).where(Seat.holder_id == actor.holder_id).order_by(Seat.position)))
        if len(held) > 1:
            raise Invalid(f"you hold several seats ({', '.join(held)}); say whose inbox to read")
        seat_id = held[0] if held else None
    if not seat_id:
        raise Invalid("name the seat whose inbox to read")
    seat = get_seat(session, seat_id)
    check_read(actor, seat)
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"list between 1 and {MAX_PAGE} messages a page")
    condition = _filter(status)
    query = select(Message).where(Message.to_seat_id == seat.id).order_by(Message.id.desc()).limit(limit + 1)
    if condition is not None:
        query = query.where(condition)
    if (before := _cursor(cursor)) is not None:
        query = query.where(Message.id < before)
    rows = list(session.scalars(query).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    unread = (
        session.scalar(
            select(func.count()).select_from(Message).where(Message.to_seat_id == seat.id, Message.status == "unread")
        )
        or 0
    )
    return InboxPage(seat, rows, str(rows[-1].id) if more else None, unread)


def mark_read(session: Session, actor: Actor, message_id: int | str, now: dt.datetime | None = None) -> Message:
    """The recipient seat's holder (or an operator) has read it; reading again changes nothing."""
    message = get_message(session, message_id, lock=True)
    if not actor.operator and (actor.holder_id is None or message.to_seat.holder_id != actor.holder_id):
        raise Forbidden(f"message #{message.id} is for `{message.to_seat_id}`; only its holder marks it read")
    if message.status == "unread":
        message.status, message.read_at = "read", now or utcnow()
        session.flush()
    return message


def mark_shown_read(session: Session, actor: Actor, messages: list[Message], now: dt.datetime | None = None) -> int:
    """Mark read what a holder was just shown of their own seats' inboxes; others' stay as they were."""
    now = now or utcnow()
    count = 0
    for message in messages:
        if message.status == "unread" and actor.holder_id and message.to_seat.holder_id == actor.holder_id:
            message.status, message.read_at = "read", now
            count += 1
    if count:
        session.flush()
    return count


def thread(session: Session, actor: Actor, message_id: int | str) -> list[Message]:
    """The whole conversation a message belongs to, oldest first."""
    message = readable_message(session, actor, message_id)
    root = message.root_id
    return list(
        session.scalars(
            select(Message)
            .where(or_(Message.id == root, Message.thread_id == root))
            .order_by(Message.id)
            .limit(MAX_THREAD)
        ).unique()
    )


def overdue_requests(
    session: Session, now: dt.datetime | None = None, seat_ids: set[str] | None = None, limit: int = 100
) -> list[Message]:
    """REQUESTs not answered by their deadline, the longest overdue first (to `seat_ids` when given)."""
    return list(session.scalars(overdue_query(now or utcnow(), seat_ids, limit)).unique())


def overdue_query(now: dt.datetime, seat_ids: set[str] | None = None, limit: int = 100) -> Select[Message]:
    """The query of `overdue_requests`, for a caller that reads some columns of many of them."""
    query = (
        select(Message)
        .where(Message.performative == "REQUEST", Message.status != "answered", Message.deadline < now)
        .order_by(Message.deadline, Message.id)
        .limit(limit)
    )
    if seat_ids is not None:
        query = query.where(or_(Message.to_seat_id.in_(seat_ids), Message.from_seat_id.in_(seat_ids)))
    return query
