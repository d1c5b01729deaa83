"""A quarterly and an annual metric through the `otp` command: pushed for a named quarter or
year, read back exactly, shown on the scorecard."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from otp_bot.store.domain.review.quarters import quarter_of
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.models import MetricValue
from tests.store.scorecard.test_cadences import quarterly_chart
from tests.support.charts import load
from tests.support.cli import otp


def values_of(db, metric_id):
    with db.session() as s:
        return [
            (v.period_start, v.value) for v in s.scalars(select(MetricValue).where(MetricValue.metric_id == metric_id))
        ]


def test_a_value_pushed_for_a_quarter_and_a_year_reads_back_exactly(db):
    load(db, quarterly_chart())
    kept = otp(db, "kpi", "push", "kept", "96.5", "--period", "2026-Q4")
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.strip() == "kept 2026-Q4: recorded 96.5%, on track"
    assert values_of(db, "kept") == [(dt.date(2026, 10, 1), 96.5)]
    nrr = otp(db, "kpi", "push", "nrr", "98", "--period", "2026")
    assert nrr.stdout.strip() == "nrr 2026: recorded 98%, off track"
    assert values_of(db, "nrr") == [(dt.date(2026, 1, 1), 98.0)]


def test_a_quarter_named_for_a_weekly_metric_is_refused(db):
    load(db, quarterly_chart())
    result = otp(db, "kpi", "push", "early-flags", "3", "--period", "2026-Q4")
    assert result.returncode == 2 and "is a quarter, and this metric is weekly" in result.stderr
    assert values_of(db, "early-flags") == []


def test_the_scorecard_shows_the_quarter_and_the_year(db):
    load(db, quarterly_chart())
    today = periods.today("America/New_York")
    this_quarter, this_year = quarter_of(today), str(today.year)
    assert otp(db, "kpi", "push", "kept", "96.5", "--period", this_quarter).returncode == 0
    assert otp(db, "kpi", "push", "nrr", "104", "--period", this_year).returncode == 0
    card = otp(db, "ask", "scorecard retention")
    assert card.returncode == 0, card.stderr
    kept = next(line for line in card.stdout.splitlines() if "Clients kept" in line)
    nrr = next(line for line in card.stdout.splitlines() if "Net revenue retention" in line)
    # A cell per quarter (per year), this one on track; its latest value; its cadence named.
    assert kept.split()[-3:] == ["96.5%", "96.5%", "(quarterly)"] and "✓" in kept
    assert nrr.split()[-3:] == ["104%", "104%", "(annual)"] and "✓" in nrr
    # The formula of one cadence is computed per quarter too.
    doubled = next(line for line in card.stdout.splitlines() if "Kept, doubled" in line)
    assert "193" in doubled
