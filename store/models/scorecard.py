"""The tables of the scorecard."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from otp_bot.store.models.base import (
    AGGREGATIONS,
    CADENCES,
    GOAL_OPS,
    METRIC_KINDS,
    TIME_UNITS,
    VALUE_SOURCES,
    Aggregation,
    Base,
    Cadence,
    MetricKind,
    _in,
)

if TYPE_CHECKING:  # the other side of a relationship; SQLAlchemy resolves it by name
    from otp_bot.store.models.chart import Seat


class Metric(Base):
    __tablename__ = "metrics"
    __table_args__ = (
        CheckConstraint(_in("kind", METRIC_KINDS), name="kind"),
        # Money has a currency and nothing else does; a duration is shown in a unit of time.
        CheckConstraint("(kind = 'currency') = (currency IS NOT NULL)", name="currency"),
        CheckConstraint(f"kind <> 'duration' OR {_in('unit', TIME_UNITS)}", name="duration_unit"),
        CheckConstraint(_in("cadence", CADENCES), name="cadence"),
        CheckConstraint(_in("aggregation", AGGREGATIONS), name="aggregation"),
        CheckConstraint(_in("goal_op", GOAL_OPS), name="goal_op"),
        CheckConstraint(
            "goal_op NOT IN ('in', 'out') OR (goal_high IS NOT NULL AND goal_high >= goal_value)", name="range"
        ),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[MetricKind] = mapped_column(String(8), default="number")
    # The display unit: free text for number and score (`calls`, `NPS`), a unit of time for a
    # duration (values are stored in minutes whatever it is); None for the others.
    unit: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[str | None] = mapped_column(String(3))  # ISO 4217, for money only
    goal_op: Mapped[str] = mapped_column(String(4))
    goal_value: Mapped[float] = mapped_column(Float)
    goal_high: Mapped[float | None] = mapped_column(Float)
    cadence: Mapped[Cadence] = mapped_column(String(12), default="weekly")
    aggregation: Mapped[Aggregation] = mapped_column(String(4), default="last")
    formula: Mapped[str | None] = mapped_column(Text)
    # A trust-ledger figure of the seat's drafts (store/domain/scorecard/gate_figures.py): computed, never entered.
    gate_figure: Mapped[str | None] = mapped_column(String(32))
    # A figure of the weekly review (store/domain/review/completion.py): computed, never entered.
    review_figure: Mapped[str | None] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, default=0)

    seat: Mapped[Seat] = relationship(back_populates="metrics")


class MetricValue(Base):
    """One observation. Rows are never updated: a correction is a new row that resets its period."""

    __tablename__ = "metric_values"
    __table_args__ = (
        CheckConstraint(_in("source", VALUE_SOURCES), name="source"),
        # Also the index of look-ups by metric and period (its first two columns): a second
        # index on them only made every insert dearer (migration 0009).
        UniqueConstraint("metric_id", "period_start", "idem_key", name="uq_metric_values_idem"),
        # The org-wide read of recent periods, answered from the index alone (migration 0011).
        # Keyed by period then id: a push, nearly all for the latest period, appends at its end.
        Index("ix_metric_values_period", "period_start", "id", "metric_id", "value", "is_correction"),
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


class SeatActivity(Base):
    """When a value was last recorded for one of a seat's metrics: the briefing's "last value"
    of an agent, read per seat instead of found among every recent value (written with each
    value, store/domain/scorecard/seat_activity.py)."""

    __tablename__ = "seat_activity"

    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id", ondelete="CASCADE"), primary_key=True)
    last_value_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
