"""The message bus: seats talk to seats.

A message has a performative (REQUEST asks for something, possibly by a deadline;
INFORM tells; PROPOSAL suggests; RESPONSE answers a message sent to the responding
seat and marks it answered). Messages belong to seats, not holders, so an inbox survives
a change of holder. A seat's inbox is read by its holder, the human accountable for it,
and operators; only the holder (or an operator) marks messages read.

A thread is a conversation between two seats: a reply goes to the other seat of the
message it replies to, so whoever may read either seat may read the whole thread.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit, outbox
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.durations import parse_minutes
from otp_bot.store.domain.chart.reading import accountable_human, get_seat
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid, NotFound
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import PERFORMATIVES, Message, Org, OutboxItem, Seat

MAX_SUBJECT = 200
MAX_BODY = 10_000
MAX_KEY = 200
MAX_AHEAD = dt.timedelta(days=366)  # a deadline further out is a typo, not a plan


@dataclass
class Sent:
    message: Message
    created: bool  # False when the idempotency key had been seen: the same message is returned
    answered: Message | None = None  # the message a RESPONSE answered


# ------------------------------------------------------------------------- who may do what


def may_read(actor: Actor, seat: Seat) -> bool:
    """A seat's messages are for its holder, the human accountable for it, and operators."""
    if actor.operator:
        return True
    if actor.holder_id is None or seat.holder is None:
        return False
    human = accountable_human(seat.holder)
    return actor.holder_id in {seat.holder_id, human.id if human else None}


def check_read(actor: Actor, seat: Seat) -> None:
    if may_read(actor, seat):
        return
    holder = seat.holder
    human = accountable_human(holder)
    who = f"{holder.name} (its holder)" if holder else "nobody (the seat is vacant)"
    if human is not None and human is not holder:
        who += f" and {human.name} (accountable for it)"
    raise Forbidden(
        f"the inbox of `{seat.id}` is for {who}; you cannot read it", hint="read the inbox of a seat you hold"
    )


def _sending_seat(session: Session, actor: Actor, seat_id: str | None, among: set[str] | None = None) -> Seat:
    """The seat a message is sent from: the one named, or the one the actor holds (of `among`)."""
    if seat_id:
        seat = get_seat(session, seat_id)
        if not actor.operator and (actor.holder_id is None or seat.holder_id != actor.holder_id):
            raise Forbidden(f"you do not hold seat `{seat.id}`; you can send only from seats you hold")
        if seat.status == "retired":
            raise Invalid(f"seat `{seat.id}` is retired; it sends no messages")
        return seat
    if actor.holder_id is None:
        raise Invalid("name the seat the message is from", hint="operators send as a seat: give from_seat")
    held = [
        s
        for s in session.scalars(select(Seat).where(Seat.holder_id == actor.holder_id).order_by(Seat.position)).unique()
        if among is None or s.id in among
    ]
    if len(held) == 1:
        return held[0]
    if not held:
        if among is not None:
            raise Forbidden(
                f"this conversation is between `{'` and `'.join(sorted(among))}`; only they reply in it",
                hint="start a new message instead",
            )
        raise Forbidden("you hold no seat, so there is nothing to send from")
    raise Invalid(f"you hold several seats ({', '.join(s.id for s in held)}); say which one the message is from")


# ------------------------------------------------------------------------- reading one


def get_message(session: Session, message_id: int | str, *, lock: bool = False) -> Message:
    try:
        number = int(str(message_id).strip().lstrip("#"))
    except ValueError:
        raise Invalid(
            f"`{str(message_id)[:40]}` is not a message number", hint="messages are numbered, e.g. 12"
        ) from None
    # Out of the integer column's range the database raises instead of finding nothing.
    row = (
        session.get(Message, number, with_for_update={"of": Message} if lock else None, populate_existing=lock)
        if 0 < number < 2**31
        else None
    )
    if row is None:
        raise NotFound(f"there is no message #{number}")
    return row


def readable_message(session: Session, actor: Actor, message_id: int | str) -> Message:
    """The message, if the actor may read it: it was sent from or to a seat they may read."""
    message = get_message(session, message_id)
    if not (may_read(actor, message.from_seat) or may_read(actor, message.to_seat)):
        # Said as "not found" would hide nothing worth hiding; say why instead.
        raise Forbidden(
            f"message #{message.id} is between `{message.from_seat_id}` and `{message.to_seat_id}`; "
            "you may read neither seat's messages"
        )
    return message


# ------------------------------------------------------------------------- sending


def parse_performative(text: str | None) -> str:
    word = (text or "").strip().upper()
    word = {"PROPOSE": "PROPOSAL", "RESPOND": "RESPONSE", "REPLY": "RESPONSE", "ASK": "REQUEST"}.get(word, word)
    if word not in PERFORMATIVES:
        raise Invalid(f"`{(text or '')[:40]}` is not a performative", hint=f"use one of {', '.join(PERFORMATIVES)}")
    return word


def parse_deadline(value: str | dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    """`4h`, `2d` (from now), `2026-12-01` (the start of that day, UTC) or an ISO timestamp."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    when: dt.datetime | None = value if isinstance(value, dt.datetime) else None
    if when is None:
        text = str(value).strip()
        try:
            when = now + dt.timedelta(minutes=parse_minutes(text))
        except (ValueError, OverflowError):
            try:
                when = dt.datetime.fromisoformat(text)
            except ValueError:
                raise Invalid(
                    f"`{text[:40]}` is not a deadline",
                    hint="give a duration like 4h or 2d, or a time like 2026-12-01T17:00Z",
                ) from None
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    if when <= now:
        raise Invalid(f"the deadline {as_utc(when):%Y-%m-%d %H:%M} UTC is not in the future")
    if when > now + MAX_AHEAD:
        raise Invalid("a deadline is at most a year ahead")
    return when


def _clean(value: str | None, name: str, limit: int, *, one_line: bool = False) -> str:
    value = value or ""
    if one_line:  # a subject: line breaks and tabs fold to single spaces; other controls are refused
        value = re.sub(r"[ \t\r\n]+", " ", value)
    return clean_text(value, f"the {name}", multiline=not one_line, limit=limit)


def send_message(
    session: Session,
    actor: Actor,
    *,
    performative: str,
    body: str,
    to_seat: str | None = None,
    subject: str | None = None,
    from_seat: str | None = None,
    in_reply_to: int | str | None = None,
    deadline: str | dt.datetime | None = None,
    key: str | None = None,
    now: dt.datetime | None = None,
) -> Sent:
    now = now or utcnow()
    performative = parse_performative(performative)
    original = get_message(session, in_reply_to, lock=True) if in_reply_to not in (None, "") else None
    if performative == "RESPONSE" and original is None:
        raise Invalid("a RESPONSE answers a message: give in_reply_to, the number of the message it answers")
    answered = original if performative == "RESPONSE" else None  # the message a RESPONSE answers

    if original is None:
        sender = _sending_seat(session, actor, from_seat)
        if not to_seat:
            raise Invalid("name the seat the message is for (to_seat)")
        recipient = get_seat(session, to_seat)
    else:
        # A reply stays between the two seats of the message it replies to.
        sender = _sending_seat(session, actor, from_seat, among={original.from_seat_id, original.to_seat_id})
        if sender.id not in (original.from_seat_id, original.to_seat_id):
            raise Forbidden(
                f"message #{original.id} is between `{original.from_seat_id}` and "
                f"`{original.to_seat_id}`; only they reply in its thread",
                hint="start a new message instead",
            )
        other = original.from_seat_id if sender.id == original.to_seat_id else original.to_seat_id
        if to_seat and get_seat(session, to_seat).id != other:
            raise Invalid(
                f"a reply to message #{original.id} goes to `{other}`, the other seat of its thread",
                hint="leave to_seat out, or start a new message",
            )
        if performative == "RESPONSE" and original.to_seat_id != sender.id:
            raise Invalid(
                f"message #{original.id} was sent by `{sender.id}`; a RESPONSE answers a message sent to your seat",
                hint="send an INFORM to add to your own message",
            )
        recipient = get_seat(session, other)
    if recipient.status == "retired":
        raise Invalid(f"seat `{recipient.id}` is retired; it takes no messages")
    if recipient.id == sender.id:
        raise Invalid("a seat does not send messages to itself")

    subject = _clean(subject, "subject", MAX_SUBJECT, one_line=True)
    if not subject and original is not None:
        subject = ("Re: " + original.subject.removeprefix("Re: "))[:MAX_SUBJECT]
    if not subject:
        raise Invalid("the message needs a subject: one line saying what it is about")
    body = _clean(body, "body", MAX_BODY)
    if not body:
        raise Invalid("the message needs a body")
    if deadline not in (None, "") and performative != "REQUEST":
        raise Invalid(
            f"only a REQUEST has a deadline; this is a{'n' if performative[0] in 'AEIOU' else ''} {performative}"
        )
    key = (key or "").strip() or None
    if key is not None and len(key) > MAX_KEY:
        raise Invalid(f"an idempotency key is at most {MAX_KEY} characters")

    # Before the deadline is read: a retry after a relative deadline's time passed is still the same send.
    if key is not None:
        existing = session.scalar(select(Message).where(Message.from_seat_id == sender.id, Message.idem_key == key))
        if existing is not None:
            same = (
                existing.to_seat_id,
                existing.performative,
                existing.subject,
                existing.body,
                existing.in_reply_to,
            ) == (recipient.id, performative, subject, body, original.id if original else None)
            if not same:
                raise Conflict(
                    f"key `{key[:40]}` was used for message #{existing.id}, with different content",
                    hint="use a new key for a new message",
                )
            return Sent(existing, False, answered)
    when = parse_deadline(deadline, now)

    message = Message(
        from_seat_id=sender.id,
        to_seat_id=recipient.id,
        performative=performative,
        subject=subject,
        body=body,
        in_reply_to=original.id if original else None,
        thread_id=original.root_id if original else None,
        deadline=when,
        idem_key=key,
        sent_by=actor.audit_name,
        created_at=now,
        status="unread",
    )
    session.add(message)
    if answered is not None and answered.status != "answered":
        answered.status, answered.answered_at = "answered", now
        answered.read_at = answered.read_at or now
    session.flush()
    audit.record(
        session,
        actor.audit_name,
        "message.sent",
        f"message:{message.id}",
        seat=sender.id,
        to=recipient.id,
        performative=performative,
        about=subject,
        in_reply_to=message.in_reply_to,
        deadline=when,
        chars=len(body),
    )
    channel = session.scalar(select(Org.coordination_channel).where(Org.id == 1))
    if channel:
        outbox.enqueue(
            session, "bus_mirror", mirror_key(message.id), {"message_id": message.id, "channel": channel}, now=now
        )
    return Sent(message, True, answered)


def mirror_key(message_id: int) -> str:
    return f"message:{message_id}:mirror"


def mirror_thread_ts(session: Session, message: Message) -> str | None:
    """The Slack ts of the thread's first message in the coordination channel, once posted there."""
    if message.thread_id is None:
        return None
    result = session.scalar(
        select(OutboxItem.result).where(OutboxItem.key == mirror_key(message.thread_id), OutboxItem.status == "done")
    )
    return (result or {}).get("ts")
