"""A metric as plain columns: what the scorecard math reads.

Thousands of these load several times faster than ORM objects; the briefing, the review
and the directory kept per chart version hold metrics this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy.orm import Session

from otp_bot.store.models import Aggregation, Cadence, Metric, MetricKind


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
    gate_figure: str | None
    review_figure: str | None
    position: int


METRIC_COLUMNS = tuple(getattr(Metric, f) for f in MetricFacts._fields)


def metric_facts(session: Session) -> Sequence[MetricFacts]:
    """Every metric of a seat that is not retired, in chart order within its seat (seats by id).

    Taken from the directory kept per chart version: the same tuples, not a second copy, and
    no read of ten thousand rows for every briefing and review."""
    # Imported here: the directory is built from this module's columns.
    from otp_bot.store.domain.chart.directory import directory

    seats = directory(session).seats
    return [m for seat_id in sorted(seats) if seats[seat_id].status != "retired" for m in seats[seat_id].metrics]
