"""A metric as plain columns: what the scorecard math reads.

Thousands of these load several times faster than ORM objects; the briefing, the review
and the directory kept per chart version hold metrics this way.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.models import Aggregation, Cadence, Metric, MetricKind, Seat


class MetricFacts(NamedTuple):
    id: str
    seat_id: str
    name: str
    kind: MetricKind
    unit: str | None
    currency: str | None
    goal_op: str
    goal_value: float
    goal_high: float | None
    cadence: Cadence
    aggregation: Aggregation
    formula: str | None
    position: int


METRIC_COLUMNS = tuple(getattr(Metric, f) for f in MetricFacts._fields)


def metric_facts(session: Session) -> list[MetricFacts]:
    """Every metric of a seat that is not retired, in chart order within its seat."""
    rows = session.connection().execute(
        select(*METRIC_COLUMNS)
        .join(Seat, Seat.id == Metric.seat_id)
        .where(Seat.status != "retired")
        .order_by(Metric.seat_id, Metric.position)
    )
    return [MetricFacts._make(row) for row in rows.all()]
