"""The message bus's models, shared by the agent API and the MCP tools: one shape for both."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from otp_bot.commands.views import messages as message_views
from otp_bot.store import models

Performative = Literal["REQUEST", "INFORM", "PROPOSAL", "RESPONSE"]


class SeatRef(BaseModel):
    id: str
    title: str
    holder: str | None = Field(description="The name of the seat's holder; null for a vacant seat.")


class Message(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: int
    from_: SeatRef = Field(alias="from")
    to: SeatRef
    performative: Performative
    subject: str
    body: str
    in_reply_to: int | None
    thread_id: int = Field(description="The first message of the thread (its own id for a first message).")
    deadline: dt.datetime | None
    overdue: bool = Field(description="A REQUEST not answered by its deadline.")
    status: Literal["unread", "read", "answered"] = Field(description="For the recipient seat.")
    sent_by: str
    created_at: dt.datetime
    read_at: dt.datetime | None
    answered_at: dt.datetime | None


class Sent(BaseModel):
    message: Message
    created: bool = Field(description="False when the idempotency key was seen: the same message is answered.")
    answered: int | None = Field(description="For a RESPONSE: the message it marked answered.")


class InboxPage(BaseModel):
    seat: SeatRef
    unread: int = Field(description="Unread messages in the whole inbox.")
    messages: list[Message] = Field(description="Newest first.")
    next_cursor: str | None


class Thread(BaseModel):
    messages: list[Message] = Field(description="Oldest first: the first message, then every reply.")


class InboxRead(InboxPage):
    marked_read: int = Field(description="Unread messages returned here that reading marked read.")


def message(m: models.Message) -> Message:
    return Message.model_validate(message_views.view(m))


def seat_ref(seat: models.Seat) -> SeatRef:
    return SeatRef(**message_views.seat_ref(seat))
