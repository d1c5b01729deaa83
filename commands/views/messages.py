"""Plain views of bus messages (data only, no Slack types): the /otp inbox reply, the
coordination-channel mirror, the agent API and MCP all read the same dictionaries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from otp_bot.commands.views.drafts import age, iso, stamp
from otp_bot.commands.views.render import Mrkdwn, fit_escaped, render
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.models import Message, Seat

PREVIEW = 200  # characters of a body shown in a list
MIRROR_BODY = 2_500  # characters of a body (escaped) in the coordination channel


def seat_ref(seat: Seat) -> dict[str, Any]:
    return {"id": seat.id, "title": seat.title, "holder": seat.holder.name if seat.holder else None}


def overdue(message: Message, now: dt.datetime) -> bool:
    return (
        message.performative == "REQUEST"
        and message.status != "answered"
        and message.deadline is not None
        and as_utc(message.deadline) < now
    )


def view(message: Message, now: dt.datetime | None = None) -> dict[str, Any]:
    """One message, JSON-safe."""
    now = now or utcnow()
    return {
        "id": message.id,
        "from": seat_ref(message.from_seat),
        "to": seat_ref(message.to_seat),
        "performative": message.performative,
        "subject": message.subject,
        "body": message.body,
        "in_reply_to": message.in_reply_to,
        "thread_id": message.root_id,
        "deadline": iso(message.deadline),
        "overdue": overdue(message, now),
        "status": message.status,
        "sent_by": message.sent_by,
        "created_at": iso(message.created_at),
        "read_at": iso(message.read_at),
        "answered_at": iso(message.answered_at),
    }


def line(message: Message, now: dt.datetime) -> dict[str, Any]:
    """One message in a list: long fields cut so a line stays short."""
    body = " ".join(message.body.split())
    return {
        "id": message.id,
        "performative": message.performative,
        "subject": message.subject[:120],
        "from": message.from_seat.title[:60],
        "from_id": message.from_seat_id,
        "by": message.from_seat.holder.name if message.from_seat.holder else None,
        "to": message.to_seat.title[:60],
        "age": age(message.created_at, now),
        "status": message.status,
        "deadline": stamp(message.deadline),
        "overdue": overdue(message, now),
        "in_reply_to": message.in_reply_to,
        "preview": body[:PREVIEW] + ("…" if len(body) > PREVIEW else ""),
    }


def mirror_text(message: Message) -> Mrkdwn:
    """The message as posted in the coordination channel."""
    shown, left = fit_escaped(message.body, MIRROR_BODY)
    return render("agents/bus_mirror.j2", m=line(message, utcnow()), body=shown, left=left)
