"""The briefing's judgement of each metric's latest value agrees with the scorecard's rows:
the same latest value, the same on/off track, the same silence, on a chart of many shapes."""

from __future__ import annotations

import random

import pytest

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.latest import latest_values
from otp_bot.store.domain.scorecard.metric_facts import metric_facts
from otp_bot.store.domain.scorecard.metrics import Value, metric_rows, record_values

OPERATOR = Actor.cli_operator()
GOALS = [">= 40", "<= 12", "> 0", "< 5", "== 3", "10..20", "outside 2..4"]
SHAPES = [
    {"cadence": "weekly", "aggregation": "last"},
    {"cadence": "weekly", "aggregation": "sum"},
    {"cadence": "weekly", "aggregation": "avg"},
    {"cadence": "weekly", "aggregation": "max"},
    {"cadence": "monthly", "aggregation": "sum"},
    {"cadence": "monthly", "aggregation": "last"},
]


def dental_group() -> dict:
    """Three clinics of a dental group, each with the same seats, metrics of every shape."""
    seats = [{"id": "ops", "title": "Group operations", "holder": "maria"}]
    for clinic in ("north", "harbour", "old-town"):
        metrics = [
            {"id": f"{clinic}-m{i}", "name": f"Measure {i}", "goal": GOALS[i % len(GOALS)], **SHAPES[i % len(SHAPES)]}
            for i in range(12)
        ]
        metrics.append(
            {"id": f"{clinic}-ratio", "name": "Ratio", "goal": ">= 1", "formula": f"{{{clinic}-m0}} / {{{clinic}-m6}}"}
        )
        seats.append(
            {"id": f"{clinic}-desk", "title": f"Front desk, {clinic}", "holder": "maria", "reports_to": "ops"}
            | {"metrics": metrics}
        )
    return {
        "org": {"name": "Bright Smiles Dental", "timezone": "Europe/Dublin"},
        "holders": [{"id": "maria", "name": "Maria", "kind": "human"}],
        "seats": seats,
    }


@pytest.fixture
def dental(db):
    with db.session() as s:
        apply_chart(s, validate_chart(dental_group(), "t"), actor="t", source="t")
    return db


@pytest.mark.parametrize("org_wide", [None, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_latest_value_and_its_judgement_are_the_scorecards(dental, seed, org_wide):
    # The briefing reads back only as far as each metric's latest value (the newest period,
    # then the older ones for the metrics without a value in it); read whole or by metric,
    # it must judge as the scorecard's full rows do.
    rnd = random.Random(seed)
    today = periods.today("Europe/Dublin")
    with dental.session() as s:
        values = []
        for m in metric_facts(s):
            if m.formula or rnd.random() < 0.15:  # some never reported
                continue
            for back in range(6):
                if rnd.random() < 0.5:
                    period = periods.shift(periods.period_start(today, m.cadence), m.cadence, -back)
                    several = rnd.choice([1, 1, 2, 3])
                    values += [Value(m.id, rnd.choice([0, 1, 3, 4.5, 11, 15, 25, 50]), period) for _ in range(several)]
                    if rnd.random() < 0.2:
                        values.append(Value(m.id, rnd.choice([2, 13, 45]), period, correction=True))
        record_values(s, OPERATOR, values)
    with dental.session(readonly=True) as s:
        facts = metric_facts(s)
        for weeks in (1, 2, 5):
            rows = metric_rows(s, facts, weeks=weeks, today=today)
            latest = latest_values(s, facts, weeks=weeks, today=today, org_wide=org_wide)
            assert [x.metric.id for x in latest] == [r.metric.id for r in rows]
            for r, x in zip(rows, latest, strict=True):
                silent = len(r.cells) >= 2 and r.cells[-1].value is None and r.cells[-2].value is None
                assert (x.latest, x.off_track, x.silent, x.goal) == (r.latest, r.off_track, silent, r.goal), r.metric.id
        judged = latest_values(s, facts, weeks=2, today=today, org_wide=org_wide)
        assert any(x.off_track for x in judged) and any(x.latest and not x.off_track for x in judged)
        assert any(x.silent for x in judged) and any(x.latest is None for x in judged)
