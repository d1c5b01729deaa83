"""The example org: load it into a store, values anchored to the current week."""

from __future__ import annotations

import csv
from importlib import resources

from sqlalchemy import func, select

from otp_bot.store.db import Database
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.file_import import load_chart
from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.metrics import record_value
from otp_bot.store.models import Metric, MetricValue, Org

EXAMPLE_CHART = "acme-agency.yaml"
EXAMPLE_VALUES = "acme-agency.values.csv"


def example_path(name: str):
    return resources.files("otp_bot.examples") / name


def has_chart(db: Database) -> bool:
    with db.session() as session:
        return session.get(Org, 1) is not None


def load_example(db: Database) -> int:
    """Import the example chart and its 13 weeks of values; return how many values were recorded."""
    actor = Actor.cli_operator("example")
    with resources.as_file(example_path(EXAMPLE_CHART)) as path, db.session() as session:
        apply_chart(session, load_chart(path), actor=actor.audit_name, source=EXAMPLE_CHART)
        if session.scalar(select(func.count()).select_from(MetricValue)):
            return 0
        today = periods.today(get_org(session).timezone)
        cadence = dict(session.execute(select(Metric.id, Metric.cadence)).all())
        count = 0
        with example_path(EXAMPLE_VALUES).open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                metric_id = row["metric"]
                start = periods.shift(
                    periods.period_start(today, cadence[metric_id]), cadence[metric_id], -int(row["periods_ago"])
                )
                record_value(
                    session,
                    actor,
                    metric_id,
                    float(row["value"]),
                    period=start,
                    source="import",
                    note=row.get("note") or None,
                )
                count += 1
        return count
