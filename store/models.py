"""SQLAlchemy models: the tables of the system of record.

Invariants a database can hold are declared here as constraints; the domain layer
(`store.domain`) checks them too so the user gets a clear message instead of an
IntegrityError.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

HOLDER_KINDS = ("human", "agent")
SEAT_STATUSES = ("active", "vacant", "planned", "retired")
UNITS = ("number", "percent", "currency", "minutes", "yesno")
CADENCES = ("weekly", "monthly")
AGGREGATIONS = ("last", "sum", "avg", "min", "max")
GOAL_OPS = (">=", "<=", "==", ">", "<", "in", "out")
VALUE_SOURCES = ("api", "manual", "import")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class Org(Base):
    """The single row describing the organisation; `revision` grows with every chart change."""

    __tablename__ = "org"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # Changes with every revision too, but is never reused: caches key on it, so a
    # database rebuilt from scratch cannot serve a stale index under an old revision number.
    etag: Mapped[str] = mapped_column(String(32), default="")


class Holder(Base):
    __tablename__ = "holders"
    __table_args__ = (
        CheckConstraint(_in("kind", HOLDER_KINDS), name="kind"),
        CheckConstraint("kind = 'human' OR supervisor_id IS NOT NULL", name="agent_has_supervisor"),
        CheckConstraint("supervisor_id IS NULL OR supervisor_id <> id", name="not_own_supervisor"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))
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
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # One column for the current holder is what makes "one holder per seat" structural.
    holder_id: Mapped[str | None] = mapped_column(ForeignKey("holders.id"), index=True)
    reports_to_id: Mapped[str | None] = mapped_column(ForeignKey("seats.id"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="active")
    customer_facing: Mapped[bool] = mapped_column(Boolean, default=False)
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


class Metric(Base):
    __tablename__ = "metrics"
    __table_args__ = (
        CheckConstraint(_in("unit", UNITS), name="unit"),
        CheckConstraint(_in("cadence", CADENCES), name="cadence"),
        CheckConstraint(_in("aggregation", AGGREGATIONS), name="aggregation"),
        CheckConstraint(_in("goal_op", GOAL_OPS), name="goal_op"),
        CheckConstraint("goal_op NOT IN ('in', 'out') OR (goal_high IS NOT NULL AND goal_high >= goal_value)", name="range"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(8), default="number")
    goal_op: Mapped[str] = mapped_column(String(4))
    goal_value: Mapped[float] = mapped_column(Float)
    goal_high: Mapped[float | None] = mapped_column(Float)
    cadence: Mapped[str] = mapped_column(String(8), default="weekly")
    aggregation: Mapped[str] = mapped_column(String(4), default="last")
    formula: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    seat: Mapped[Seat] = relationship(back_populates="metrics")


class MetricValue(Base):
    """One observation. Rows are never updated: a correction is a new row that resets its period."""

    __tablename__ = "metric_values"
    __table_args__ = (
        CheckConstraint(_in("source", VALUE_SOURCES), name="source"),
        UniqueConstraint("metric_id", "period_start", "idem_key", name="uq_metric_values_idem"),
        Index("ix_metric_values_metric_period", "metric_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric_id: Mapped[str] = mapped_column(ForeignKey("metrics.id", ondelete="CASCADE"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    is_correction: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(8))
    entered_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    idem_key: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApprovalRoute(Base):
    __tablename__ = "approval_routes"
    __table_args__ = (CheckConstraint("required >= 1", name="required"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seats: Mapped[list[str]] = mapped_column(default=list)
    kinds: Mapped[list[str]] = mapped_column(default=list)
    channel: Mapped[str | None] = mapped_column(String(64))
    approvers: Mapped[list[str]] = mapped_column(default=list)
    usergroup: Mapped[str | None] = mapped_column(String(64))
    required: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Policy(Base):
    __tablename__ = "policies"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    hold_kind: Mapped[str | None] = mapped_column(String(100))
    while_flag: Mapped[str | None] = mapped_column(String(100))
    winner: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    # Anything an imported format said that no column holds yet, kept verbatim.
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Schedule(Base):
    __tablename__ = "schedules"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    post: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(64))
    cron: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str | None] = mapped_column(String(64))
    holidays: Mapped[list[str]] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(Base):
    """Append-only; each entry carries the hash of the one before, so an edit shows."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class InboundEvent(Base):
    """Slack Events API deliveries already handled: Slack retries them, we act once."""

    __tablename__ = "inbound_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
