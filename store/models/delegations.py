"""Out-of-office delegation: a person's approvals decided by a named person for a period."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from otp_bot.store.models.base import Base

if TYPE_CHECKING:
    from otp_bot.store.models.chart import Holder


class Delegation(Base):
    """`delegator`'s approvals may be decided by `delegate` from `starts_at` until `ends_at`.
    Ending one early keeps the row (`ended_at`): the record of who stood in for whom stays."""

    __tablename__ = "delegations"
    __table_args__ = (
        CheckConstraint("delegator_id <> delegate_id", name="not_self"),
        CheckConstraint("ends_at > starts_at", name="period"),
        Index("ix_delegations_delegate", "delegate_id", "ends_at"),
        Index("ix_delegations_delegator", "delegator_id", "ends_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delegator_id: Mapped[str] = mapped_column(ForeignKey("holders.id"))
    delegate_id: Mapped[str] = mapped_column(ForeignKey("holders.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # ended early by the delegator
    reason: Mapped[str | None] = mapped_column(Text)

    delegator: Mapped[Holder] = relationship(foreign_keys=[delegator_id], lazy="joined")
    delegate: Mapped[Holder] = relationship(foreign_keys=[delegate_id], lazy="joined")
