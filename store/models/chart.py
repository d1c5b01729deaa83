"""The tables of the chart."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from otp_bot.store.models.base import AUTHORITY_LEVELS, HOLDER_KINDS, SEAT_STATUSES, Base, HolderKind, SeatStatus, _in

if TYPE_CHECKING:  # the other side of a relationship; SQLAlchemy resolves it by name
    from otp_bot.store.models.scorecard import Metric


class Org(Base):
    """The single row describing the organisation; `revision` grows with every chart change."""

    __tablename__ = "org"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("decimal_mark IN ('.', ',')", name="decimal_mark"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # Changes with every revision too, but is never reused: caches key on it, so a
    # database rebuilt from scratch cannot serve a stale index under an old revision number.
    etag: Mapped[str] = mapped_column(String(32), default="")
    # Where seat-to-seat messages are mirrored, so people see what the agents agreed.
    coordination_channel: Mapped[str | None] = mapped_column(String(64))
    # How the org writes decimals ("." or ","); None: a lone `1,250` is refused as ambiguous.
    decimal_mark: Mapped[str | None] = mapped_column(String(1))
    # The currency of money metrics that name none (ISO 4217).
    currency: Mapped[str] = mapped_column(String(3), default="USD", server_default="USD")
    # The chart file last imported (a digest of its bytes and of the reader's version) and
    # the etag the chart had right after: while the etag is unchanged, importing the same
    # file again has nothing to do (store/domain/chart/file_import.py).
    imported_digest: Mapped[str | None] = mapped_column(String(64))
    imported_etag: Mapped[str | None] = mapped_column(String(32))


class Holder(Base):
    __tablename__ = "holders"
    __table_args__ = (
        CheckConstraint(_in("kind", HOLDER_KINDS), name="kind"),
        CheckConstraint("kind = 'human' OR supervisor_id IS NOT NULL", name="agent_has_supervisor"),
        CheckConstraint("supervisor_id IS NULL OR supervisor_id <> id", name="not_own_supervisor"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[HolderKind] = mapped_column(String(8))
    slack_user: Mapped[str | None] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    supervisor_id: Mapped[str | None] = mapped_column(ForeignKey("holders.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    supervisor: Mapped[Holder | None] = relationship(remote_side=[id], lazy="joined", join_depth=1)

    @property
    def is_agent(self) -> bool:
        return self.kind == "agent"


class Seat(Base):
    __tablename__ = "seats"
    __table_args__ = (
        CheckConstraint(_in("status", SEAT_STATUSES), name="status"),
        CheckConstraint("reports_to_id IS NULL OR reports_to_id <> id", name="not_own_manager"),
        CheckConstraint("status <> 'active' OR holder_id IS NOT NULL", name="active_has_holder"),
        CheckConstraint("status NOT IN ('vacant', 'retired') OR holder_id IS NULL", name="vacant_has_no_holder"),
        CheckConstraint(_in("authority", AUTHORITY_LEVELS), name="authority"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # One column for the current holder is what makes "one holder per seat" structural.
    holder_id: Mapped[str | None] = mapped_column(ForeignKey("holders.id"), index=True)
    reports_to_id: Mapped[str | None] = mapped_column(ForeignKey("seats.id"), index=True)
    status: Mapped[SeatStatus] = mapped_column(String(8), default="active")
    customer_facing: Mapped[bool] = mapped_column(Boolean, default=False)
    # The authority level an imported OTP file gave it; None: not stated (drafts wait for a person).
    authority: Mapped[str | None] = mapped_column(String(24))
    aliases: Mapped[list[str]] = mapped_column(default=list)
    accountabilities: Mapped[list[str]] = mapped_column(default=list)
    does_not_own: Mapped[list[str]] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)

    holder: Mapped[Holder | None] = relationship(lazy="joined")
    owns: Mapped[list[SeatOwns]] = relationship(
        back_populates="seat", cascade="all, delete-orphan", order_by="SeatOwns.position", lazy="selectin"
    )
    metrics: Mapped[list[Metric]] = relationship(
        back_populates="seat", cascade="all, delete-orphan", order_by="Metric.position", lazy="selectin"
    )


class SeatOwns(Base):
    """A function a seat owns. Unique across the chart: no two seats own the same function."""

    __tablename__ = "seat_owns"

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(200))
    normalized: Mapped[str] = mapped_column(String(200), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    seat: Mapped[Seat] = relationship(back_populates="owns")


class SeatHolding(Base):
    """Who held which seat when. At most one open holding per seat."""

    __tablename__ = "seat_holdings"
    __table_args__ = (
        Index(
            "uq_seat_holdings_open",
            "seat_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"), index=True)
    holder_id: Mapped[str] = mapped_column(ForeignKey("holders.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
