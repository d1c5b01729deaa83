"""Recording values and judging them: aggregation, corrections, formulas, missing data, rules."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from sqlalchemy import func, select, update

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.reading import get_metric
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.errors import Forbidden, Invalid, NotFound
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.metrics import Value, metric_rows, period_values, record_value, record_values
from otp_bot.store.models import Metric, MetricValue
from tests.support.charts import chart, load, seat, with_retired_accounting

OPERATOR = Actor.cli_operator()
TODAY = periods.today("America/New_York")
THIS_WEEK = periods.period_start(TODAY, "weekly")


def weeks_ago(n: int) -> dt.date:
    return periods.shift(THIS_WEEK, "weekly", -n)


@pytest.fixture
def org(db):
    with db.session() as s:
        apply_chart(s, validate_chart(chart(), "t"), actor="t", source="t")
    return db


def push(db, metric, value, actor=OPERATOR, **kw):
    with db.session() as s:
        return record_value(s, actor, metric, value, **kw)


def row(db, metric, weeks=13):
    with db.session() as s:
        return metric_rows(s, [get_metric(s, metric)], weeks=weeks)[0]


def cell(r, n_ago):
    return r.cells[-1 - n_ago]


def test_last_aggregation_takes_the_latest_value(org):
    push(org, "early-flags", 1, period=weeks_ago(1))
    push(org, "early-flags", 5, period=weeks_ago(1))
    assert cell(row(org, "early-flags"), 1).value == 5


def test_sum_aggregation_adds_and_a_correction_restarts_the_period(org):
    for v in (1, 2, 3):
        push(org, "saves", v, period=weeks_ago(0))
    assert cell(row(org, "saves"), 0).value == 6
    push(org, "saves", 2, period=weeks_ago(0), correction=True)
    push(org, "saves", 1, period=weeks_ago(0))
    assert cell(row(org, "saves"), 0).value == 3
    with org.session() as s:  # nothing was overwritten
        assert s.scalar(select(func.count()).select_from(MetricValue).where(MetricValue.metric_id == "saves")) == 5


@pytest.mark.parametrize(("agg", "expected"), [("avg", 2.0), ("min", 1.0), ("max", 3.0), ("sum", 6.0), ("last", 2.0)])
def test_every_aggregation(db, agg, expected):
    data = chart()
    seat(data, "retention")["metrics"][0]["aggregation"] = agg
    with db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
    for v in (1, 3, 2):
        push(db, "early-flags", v)
    assert cell(row(db, "early-flags"), 0).value == expected


def test_formula_metric_is_computed_per_period(org):
    push(org, "won", 2, period=weeks_ago(1))
    push(org, "won", 1, period=weeks_ago(1))
    push(org, "sent", 10, period=weeks_ago(1))
    push(org, "sent", 4, period=weeks_ago(2))  # no `won` that week: no rate
    push(org, "won", 0, period=weeks_ago(3))
    push(org, "sent", 0, period=weeks_ago(3))  # zero division: missing, not a crash
    r = row(org, "close-rate")
    assert cell(r, 1).value == 30.0 and cell(r, 1).on_track is True
    assert cell(r, 2).value is None and cell(r, 3).value is None


def test_formula_metrics_take_no_values(org):
    with pytest.raises(Invalid, match="computed from"):
        push(org, "close-rate", 10)


def test_status_green_yellow_red_and_none(org):
    assert row(org, "early-flags").status == "none"
    for n, v in ((3, 5), (2, 5), (1, 5)):
        push(org, "early-flags", v, period=weeks_ago(n))
    assert row(org, "early-flags").status == "green"  # this week not reported yet: not a miss
    push(org, "early-flags", 1, period=weeks_ago(0))
    r = row(org, "early-flags")
    assert r.status == "yellow" and r.off_track and r.trend == "down" and r.improving is False
    push(org, "early-flags", 1, period=weeks_ago(1), correction=True)
    assert row(org, "early-flags").status == "red"


def test_missing_weeks_are_marked_and_averaged_over_known_values(org):
    push(org, "early-flags", 4, period=weeks_ago(5))
    push(org, "early-flags", 2, period=weeks_ago(1))
    r = row(org, "early-flags", weeks=6)
    assert [c.value for c in r.cells] == [4, None, None, None, 2, None]
    assert r.average == 3 and r.status == "red"  # two silent weeks of the last three


def test_monthly_cadence_uses_months(db):
    data = chart()
    seat(data, "accounting")["metrics"][0]["cadence"] = "monthly"
    with db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
    push(db, "ar-60", "$12,000", period="last")
    r = row(db, "ar-60")
    assert len(r.cells) == 4 and r.cells[-2].value == 12000 and r.cells[-2].period.day == 1


def test_idempotency_key_records_once(org):
    first = push(org, "saves", 1, key="push-1")
    second = push(org, "saves", 1, key="push-1")
    assert first.created and not second.created and first.value.id == second.value.id
    assert cell(row(org, "saves"), 0).value == 1


def test_holder_records_for_own_seat_only(org):
    with org.session() as s:
        pulse = Actor(label="Pulse", holder_id="pulse")
        record_value(s, pulse, "early-flags", 3)
        with pytest.raises(Forbidden, match="held by Dirk"):
            record_value(s, pulse, "won", 3)


def test_unknown_person_cannot_record(org):
    with pytest.raises(Forbidden, match="not on the chart"):
        push(org, "early-flags", 3, actor=Actor.anonymous("U999"))


def test_retired_seat_takes_no_values(db):
    data = with_retired_accounting()
    with db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
    with pytest.raises(Invalid, match="retired"):
        push(db, "ar-60", 1)


def test_a_batch_is_judged_against_the_chart_as_it_is_when_written(db):
    """A batch is checked before its transaction starts, against the chart version read
    last; after a chart change it is checked again, against the new one."""
    pulse = Actor(label="Pulse", holder_id="pulse")

    def outcomes(actor, *metrics):
        with db.session() as s:
            return [r.outcome for r in record_values(s, actor, [Value(m, 1) for m in metrics]).results]

    load(db, chart())
    assert outcomes(OPERATOR, "ar-60") == ["recorded"]
    with pytest.raises(Forbidden, match="held by Dirk"):
        outcomes(pulse, "won")
    load(db, with_retired_accounting())
    with db.session() as s:
        [retired] = record_values(s, OPERATOR, [Value("ar-60", 2)]).results
    assert retired.outcome == "error" and "retired" in retired.error.message
    given = with_retired_accounting()
    seat(given, "sales")["holder"] = "pulse"
    load(db, given)
    assert outcomes(pulse, "won", "early-flags") == ["recorded", "recorded"]
    seat(given, "sales")["holder"] = "dirk"
    load(db, given)
    with pytest.raises(Forbidden, match="held by Dirk"):
        outcomes(pulse, "won")


@pytest.mark.parametrize(
    ("value", "period", "words"),
    [
        ("lots", None, "not a number"),
        ("3", "2026-W99", "not a week"),
        ("3", "2999-W01", "has not started"),
    ],
)
def test_bad_values_and_periods(org, value, period, words):
    with pytest.raises(Invalid, match=words):
        push(org, "early-flags", value, period=period)


def test_unknown_metric_suggests_close_ids(org):
    with pytest.raises(NotFound) as info:
        push(org, "early-flag", 1)
    assert "early-flags" in info.value.hint


def test_yes_no_metric_takes_only_yes_or_no(db):
    data = chart()
    seat(data, "coo")["metrics"] = [{"id": "l10-held", "name": "Meeting held", "unit": "yes/no", "goal": "== yes"}]
    with db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
    assert push(db, "l10-held", "yes").on_track is True
    with pytest.raises(Invalid, match="yes or no"):
        push(db, "l10-held", 2)


def test_reading_periods_whole_or_metric_by_metric_agree_on_edge_values(org):
    # The org-wide read makes each period's last values a dict at once and aggregates only the
    # metrics with several: a lone -0 of a sum must still read 0 (as a sum of one does), and
    # a period with values after its correction must add up only those.
    push(org, "saves", 0, period=weeks_ago(0))
    # Typed -0 is read as 0, but a store may hold a -0.0: PostgreSQL keeps its sign (SQLite
    # does not, so there the check below holds either way).
    with org.session() as s:
        this_week = (MetricValue.metric_id == "saves", MetricValue.period_start == weeks_ago(0))
        s.execute(update(MetricValue).where(*this_week).values(value=-0.0))
    for value, fix in ((4, False), (1, True), (2, False), (5, False)):
        push(org, "saves", value, period=weeks_ago(1), correction=fix)
    for value, fix in ((7, False), (3, True)):
        push(org, "early-flags", value, period=weeks_ago(1), correction=fix)
    with org.session(readonly=True) as s:
        metrics = list(s.scalars(select(Metric).where(Metric.cadence == "weekly").order_by(Metric.id)))
        window = periods.window(TODAY, "weekly", 2)
        whole = period_values(s, metrics, window, org_wide=True)
        by_metric = period_values(s, metrics, window, org_wide=False)
    assert whole == by_metric
    assert whole["saves"] == [8.0, 0.0] and whole["early-flags"] == [3.0, None]
    for read in (whole, by_metric):
        assert math.copysign(1.0, read["saves"][1]) == 1.0  # 0, not -0


def test_reading_periods_whole_or_metric_by_metric_gives_the_same_values(example_db):
    # The org-wide read (the window's periods, every metric's values in them) and the read by
    # metric id must agree, corrections and several values a period included.
    with example_db.session() as s:
        metrics = list(s.scalars(select(Metric).order_by(Metric.id)))
        plain = [m for m in metrics if not m.formula]
        for i, m in enumerate(plain[:6]):
            period = periods.period_start(TODAY, m.cadence)
            record_value(s, OPERATOR, m.id, str(i + 1), period=period)
            record_value(s, OPERATOR, m.id, str(i + 2), period=period, correction=i % 2 == 0)
    computed = set()
    with example_db.session(readonly=True) as s:
        for cadence in ("weekly", "monthly"):
            of_cadence = [m for m in metrics if m.cadence == cadence]
            window = periods.window(TODAY, cadence, 13 if cadence == "weekly" else 4)
            whole = period_values(s, of_cadence, window, org_wide=True)
            by_metric = period_values(s, of_cadence, window, org_wide=False)
            assert whole == by_metric and whole
            computed |= {m.id for m in of_cadence if m.formula and m.id in whole}
    assert computed  # formula metrics were compared too
