"""Quarterly and annual metrics: their periods as people name them, and the chart that declares them."""

from __future__ import annotations

import datetime as dt

import pytest

from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.models import Metric
from tests.support.charts import chart, seat


def test_a_quarter_starts_on_its_first_day_and_is_named_by_it():
    assert periods.period_start(dt.date(2026, 11, 26), "quarterly") == dt.date(2026, 10, 1)
    assert periods.period_start(dt.date(2026, 3, 31), "quarterly") == dt.date(2026, 1, 1)
    assert periods.label(dt.date(2026, 10, 1), "quarterly") == "2026-Q4"
    assert periods.shift(dt.date(2026, 10, 1), "quarterly", 1) == dt.date(2027, 1, 1)
    assert periods.shift(dt.date(2026, 1, 1), "quarterly", -1) == dt.date(2025, 10, 1)
    assert periods.window(dt.date(2026, 11, 26), "quarterly", 4) == [
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 1),
        dt.date(2026, 7, 1),
        dt.date(2026, 10, 1),
    ]
    assert periods.between(dt.date(2026, 1, 1), dt.date(2026, 10, 1), "quarterly") == 2


def test_a_year_starts_on_the_first_of_january_and_is_named_by_its_number():
    assert periods.period_start(dt.date(2026, 11, 26), "annual") == dt.date(2026, 1, 1)
    assert periods.label(dt.date(2026, 1, 1), "annual") == "2026"
    assert periods.shift(dt.date(2026, 1, 1), "annual", -2) == dt.date(2024, 1, 1)
    assert periods.between(dt.date(2023, 1, 1), dt.date(2026, 1, 1), "annual") == 2


@pytest.mark.parametrize(
    ("text", "cadence", "start"),
    [
        ("2026-Q4", "quarterly", dt.date(2026, 10, 1)),
        ("2026q1", "quarterly", dt.date(2026, 1, 1)),
        ("2026-11", "quarterly", dt.date(2026, 10, 1)),  # a month names its quarter
        ("2026-W47", "quarterly", dt.date(2026, 10, 1)),
        ("2026-02-14", "quarterly", dt.date(2026, 1, 1)),
        ("2026", "annual", dt.date(2026, 1, 1)),
        ("2026-Q3", "annual", dt.date(2026, 1, 1)),  # a quarter names its year
        ("2026-11-19", "annual", dt.date(2026, 1, 1)),
    ],
)
def test_quarters_and_years_are_typed_as_people_name_them(text, cadence, start):
    assert periods.parse(text, cadence, "UTC") == start


@pytest.mark.parametrize(
    ("text", "cadence", "words"),
    [
        ("2026-Q4", "weekly", "is a quarter, and this metric is weekly: name one week"),
        ("2026-Q4", "monthly", "name one month"),
        ("2026", "quarterly", "is a year, and this metric is quarterly: name one quarter"),
        ("2026-Q5", "quarterly", "not a period: use a quarter like 2026-Q4"),
        ("26", "annual", "use a year like 2026"),
    ],
)
def test_a_period_too_long_or_misnamed_is_refused_with_how_to_name_it(text, cadence, words):
    with pytest.raises(Invalid) as info:
        periods.parse(text, cadence, "UTC")
    assert words in f"{info.value.message} {info.value.hint}"


def quarterly_chart():
    data = chart()
    seat(data, "retention")["metrics"] += [
        {"id": "kept", "name": "Clients kept", "unit": "%", "goal": ">= 95", "cadence": "quarterly"},
        {"id": "nrr", "name": "Net revenue retention", "unit": "%", "goal": ">= 100", "cadence": "annual"},
        {"id": "kept-x2", "name": "Kept, doubled", "goal": ">= 190", "cadence": "quarterly", "formula": "{kept} * 2"},
    ]
    return data


def test_a_chart_with_quarterly_and_annual_metrics_imports_and_exports_them(db):
    with db.session() as s:
        apply_chart(s, validate_chart(quarterly_chart(), "c.yaml"), actor="t", source="c.yaml")
    with db.session() as s:
        assert {m.id: m.cadence for m in s.query(Metric).filter(Metric.id.in_(["kept", "nrr"]))} == {
            "kept": "quarterly",
            "nrr": "annual",
        }
        exported = export_chart(s)
        cadences = {m.id: m.cadence for sp in exported.seats for m in sp.metrics}
        assert cadences["kept"] == "quarterly" and cadences["nrr"] == "annual"
        assert apply_chart(s, exported, actor="t", source="again").changes == []


def test_a_formula_keeps_to_one_cadence_and_an_unknown_cadence_is_refused():
    data = quarterly_chart()
    seat(data, "retention")["metrics"][-1]["formula"] = "{nrr} * 2"
    seat(data, "retention")["metrics"][0]["cadence"] = "yearly"
    with pytest.raises(ChartErrors) as info:
        validate_chart(data, "c.yaml")
    text = str(info.value)
    assert "'nrr' is annual; a formula combines metrics of one cadence" in text
    assert "'weekly', 'monthly', 'quarterly' or 'annual'" in text


def test_a_holder_types_the_quarter_in_slack(db):
    from otp_bot.commands import run
    from otp_bot.store.domain.actors import Actor
    from otp_bot.store.models import MetricValue
    from tests.support.charts import load

    load(db, quarterly_chart())
    pulse = Actor(label="Pulse", holder_id="pulse")
    with db.session() as s:
        reply = run(s, pulse, "kpi kept 97 --period 2026-Q4")
    assert reply.ok and "Recorded 97%" in reply.text and "2026-Q4" in reply.text, reply.text
    with db.session() as s:
        assert [(v.period_start, v.value) for v in s.query(MetricValue).filter_by(metric_id="kept")] == [
            (dt.date(2026, 10, 1), 97.0)
        ]
        refused = run(s, pulse, "kpi early-flags 3 --period 2026-Q4")
    assert not refused.ok and "is a quarter, and this metric is weekly" in refused.text
