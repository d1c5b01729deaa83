"""Autonomy earned on the record: a seat's grant to have drafts of one kind approved by policy."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from otp_bot.store.models.base import Base

if TYPE_CHECKING:
    from otp_bot.store.models.chart import Seat


class AutonomyGrant(Base):
    """Granted when a seat's unedited human approvals of a kind reach its route's `after`;
    revoked by a person or by a review that says a policy approval should not have gone.
    Revoking keeps the row: the next grant is earned afresh, counted from `revoked_at`."""

    __tablename__ = "autonomy_grants"
    __table_args__ = (
        Index(
            "uq_autonomy_grants_live",
            "seat_id",
            "kind",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    # Who earned it: trust is the holder's, not the seat's. Kept by id (history outlives the holder).
    holder_id: Mapped[str] = mapped_column(String(64))
    earned: Mapped[int] = mapped_column(Integer)  # unedited approvals counted when granted
    uses: Mapped[int] = mapped_column(Integer, default=0)  # drafts approved under it; numbers the sample
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)

    seat: Mapped[Seat] = relationship(lazy="joined")
