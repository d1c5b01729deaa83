"""The tables of the message bus."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from otp_bot.store.models.base import Base, _in

if TYPE_CHECKING:  # the other side of a relationship; SQLAlchemy resolves it by name
    from otp_bot.store.models.chart import Seat


PERFORMATIVES = ("REQUEST", "INFORM", "PROPOSAL", "RESPONSE")
MESSAGE_STATUSES = ("unread", "read", "answered")


class Message(Base):
    """One seat's message to another. The inbox belongs to the seat, not its holder: a new
    holder finds what was sent to the seat, and a vacant seat's messages wait.

    A reply names the message it answers (`in_reply_to`); `thread_id` is the first
    message of the thread, NULL on that first message itself."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(_in("performative", PERFORMATIVES), name="performative"),
        CheckConstraint(_in("status", MESSAGE_STATUSES), name="status"),
        CheckConstraint("deadline IS NULL OR performative = 'REQUEST'", name="deadline_on_request"),
        CheckConstraint("performative <> 'RESPONSE' OR in_reply_to IS NOT NULL", name="response_replies"),
        CheckConstraint("(in_reply_to IS NULL) = (thread_id IS NULL)", name="reply_has_thread"),
        CheckConstraint("from_seat_id <> to_seat_id", name="not_to_self"),
        CheckConstraint("status = 'unread' OR read_at IS NOT NULL", name="read_has_time"),
        CheckConstraint("status <> 'answered' OR answered_at IS NOT NULL", name="answered_has_time"),
        UniqueConstraint("from_seat_id", "idem_key", name="uq_messages_idem"),
        Index("ix_messages_inbox", "to_seat_id", "status", "id"),
        Index("ix_messages_deadline", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"), index=True)
    to_seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"))
    performative: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    in_reply_to: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    deadline: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    idem_key: Mapped[str | None] = mapped_column(String(200))
    sent_by: Mapped[str] = mapped_column(String(200))  # the audit name of who sent it
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(8), default="unread")  # for the recipient
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    from_seat: Mapped[Seat] = relationship(foreign_keys=[from_seat_id], lazy="joined")
    to_seat: Mapped[Seat] = relationship(foreign_keys=[to_seat_id], lazy="joined")

    @property
    def root_id(self) -> int:
        return self.thread_id or self.id
