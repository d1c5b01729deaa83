"""The tables of seat lifecycle."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from otp_bot.store.models.base import Base, _in

HEARING_DECISIONS = ("retire", "keep")


class Hearing(Base):
    """A hearing on a seat: why it was held, what was found and recommended, what was
    decided, and where each of the seat's capabilities went. Written once, never updated;
    the seat keeps it (a seat with a hearing is retired, never removed)."""

    __tablename__ = "hearings"
    __table_args__ = (CheckConstraint(_in("decision", HEARING_DECISIONS), name="decision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    findings: Mapped[str] = mapped_column(Text)
    recommendation: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(8))
    held_by: Mapped[str] = mapped_column(String(200))  # the audit name of who decided
    held_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    holder_id: Mapped[str | None] = mapped_column(ForeignKey("holders.id"))  # who held the seat until then
    # [{"capability": "retention outreach", "kind": "owns", "to_seat": "sales"}]; to_seat None: dropped.
    # Plain ids, not keys: the record stays readable whatever happens to those seats later.
    moves: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    manager_id: Mapped[str | None] = mapped_column(String(64))  # the seat its direct reports moved under
    reports: Mapped[list[str]] = mapped_column(default=list)
