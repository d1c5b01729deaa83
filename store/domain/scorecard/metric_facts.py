"""A metric as plain columns: what the scorecard math reads.

Thousands of these load several times faster than ORM objects; the briefing, the review
and the directory kept per chart version hold metrics this way.
"""

from __future__ import annotations

from typing import NamedTuple

from otp_bot.store.models import Metric


class MetricFacts(NamedTuple):
    id: str
    seat_id: str
    name: str
    kind: str
    unit: str | None
    currency: str | None
    goal_op: str
    goal_value: float
    goal_high: float | None
    cadence: str
    aggregation: str
    formula: str | None
    position: int


METRIC_COLUMNS = tuple(getattr(Metric, f) for f in MetricFacts._fields)
