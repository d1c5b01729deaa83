"""Metrics measured at the human gate: a seat's trust-ledger figures on its scorecard row,
week by week, with goals the chart sets, computed from drafts and decisions and never
taken by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.chartfile.yaml_text import dump_chart, parse_yaml
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.gate import decisions, drafts
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.metrics import Value, metric_rows, record_value, record_values
from otp_bot.store.models import Metric
from tests.support.charts import load, seat
from tests.support.drafts import BOGDAN, PULSE

EXAMPLE = Path(__file__).parents[3] / "examples" / "acme-agency.yaml"
ZONE = ZoneInfo("America/New_York")  # the example org's
OPERATOR = Actor.cli_operator("test")
GATE_METRICS = [
    {"id": "pulse-approved", "name": "Pulse's drafts approved", "gate": "approval-rate", "goal": ">= 80%"},
    {"id": "pulse-drafts", "name": "Pulse's drafts", "gate": "drafts-submitted", "goal": ">= 1"},
    {"id": "pulse-unedited", "name": "Approved as written", "gate": "Unedited-Share", "goal": ">= 50%"},
    {"id": "pulse-decided-in", "name": "Time to decision", "gate": "median-time-to-decision", "unit": "hours",
     "goal": "<= 1"},
    {"id": "pulse-p90", "name": "Slowest decisions", "gate": "p90-time-to-decision", "goal": "<= 45"},
]  # fmt: skip


def example_with(metrics: list[dict]) -> dict:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    seat(data, "retention")["metrics"] += metrics
    return data


def local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), ZONE).astimezone(dt.UTC)


def play(db, at: dt.datetime, verdict: str | None, minutes: int, **how) -> int:
    """One draft of Pulse's submitted at `at` and decided by Bogdan `minutes` later (or withdrawn)."""
    with db.session() as s:
        number = drafts.submit_draft(
            s, PULSE, seat_id="retention", kind="retention-outreach", subject="client:globex",
            title="Check in", body="Hi Globex, how are the calls going?", now=at,
        ).draft.id  # fmt: skip
    with db.session() as s:
        later = at + dt.timedelta(minutes=minutes)
        if verdict is None:
            decisions.withdraw(s, PULSE, number, now=later)
        else:
            decisions.decide(s, BOGDAN, number, verdict, now=later, **how)
    return number


@pytest.fixture
def gated(example_db):
    load(example_db, example_with(GATE_METRICS))
    monday = periods.period_start(dt.datetime.now(ZONE).date(), "weekly")
    last, before = monday - dt.timedelta(weeks=1), monday - dt.timedelta(weeks=2)
    play(example_db, local(before, 9), "approve", 5)
    play(example_db, local(last, 9), "approve", 10)
    play(example_db, local(last, 10), "approve", 30, edited_body="Hi Globex, shall we talk this week?")
    play(example_db, local(last, 11), "reject", 60, reason="Too soon after the last call")
    play(example_db, local(last, 12), None, 1)  # withdrawn: submitted, never decided
    return example_db, monday


def test_gate_figures_are_computed_per_week_from_the_drafts(gated):
    db, monday = gated
    with db.session(readonly=True) as s:
        metrics = [s.get(Metric, m["id"]) for m in GATE_METRICS]
        rows = {r.metric.id: r for r in metric_rows(s, metrics, weeks=4)}
    weeks = [monday - dt.timedelta(weeks=n) for n in (3, 2, 1, 0)]
    assert [c.period for c in rows["pulse-drafts"].cells] == weeks
    # Three weeks ago nothing was submitted: a count is 0, a rate has nothing to judge.
    assert [c.value for c in rows["pulse-drafts"].cells] == [0.0, 1.0, 4.0, 0.0]
    approved = [c.value for c in rows["pulse-approved"].cells]
    assert approved[:2] == [None, 100.0] and approved[2] == pytest.approx(200 / 3) and approved[3] is None
    assert [c.on_track for c in rows["pulse-approved"].cells][1:3] == [True, False]  # goal >= 80 %
    assert rows["pulse-approved"].show(approved[2]) == "66.67%"
    assert [c.value for c in rows["pulse-unedited"].cells][2] == pytest.approx(100 / 3)
    # Durations are kept in minutes and shown in the chart's unit: a median of 30 minutes is half an hour.
    decided_in = rows["pulse-decided-in"]
    assert [c.value for c in decided_in.cells][1:3] == [5.0, 30.0]
    assert decided_in.show(30.0) == "0.5 h" and decided_in.cells[2].on_track is True
    # p90 by the nearest rank of 10, 30 and 60 minutes: 60, over the goal of 45.
    assert [(c.value, c.on_track) for c in rows["pulse-p90"].cells][2] == (60.0, False)
    # A week without drafts to judge is no miss: the colour is that of the weeks measured.
    assert (rows["pulse-decided-in"].status, rows["pulse-approved"].status) == ("green", "yellow")


def test_a_gate_metric_takes_no_values_by_hand(gated):
    db, _ = gated
    with db.session() as s, pytest.raises(Invalid, match=r"measured at the human gate .*approval-rate.*no values"):
        record_value(s, OPERATOR, "pulse-approved", "90")
    with db.session() as s:
        done = record_values(s, OPERATOR, [Value("pulse-approved", "90"), Value("early-flags", "3")])
        assert [i.outcome for i in done.results] == ["error", "recorded"]
        assert "measured at the human gate" in done.results[0].error.message


def test_the_chart_file_round_trips_a_gate_metric(gated):
    db, _ = gated
    with db.session(readonly=True) as s:
        exported = export_chart(s)
    assert exported is not None
    text = dump_chart(exported)
    assert "gate: unedited-share" in text
    again = validate_chart(parse_yaml(text, "exported.yaml"), "exported.yaml")
    metrics = {m.id: m for s in again.seats for m in s.metrics}
    assert (metrics["pulse-unedited"].gate, metrics["pulse-unedited"].kind) == ("unedited-share", "percent")
    assert (metrics["pulse-decided-in"].kind, metrics["pulse-decided-in"].unit) == ("duration", "hours")
    assert (metrics["pulse-drafts"].kind, metrics["pulse-drafts"].unit) == ("number", "drafts")
    assert again == exported


@pytest.mark.parametrize(
    ("metric", "said"),
    [
        (
            {"gate": "approval-ratio"},
            "unknown gate figure 'approval-ratio'; use one of drafts-submitted, approval-rate",
        ),
        (
            {"gate": "approval-rate", "unit": "days"},
            "`gate: approval-rate` is a percent; this metric's kind is duration",
        ),
        ({"gate": "median-edit", "formula": "{early-flags} * 2"}, "measured at the gate or computed by a formula"),
    ],
)
def test_a_chart_file_with_a_wrong_gate_metric_is_refused(metric, said):
    data = example_with([{"id": "odd", "name": "Odd", "goal": ">= 1", **metric}])
    with pytest.raises(ChartErrors) as refused:
        validate_chart(data, "chart.yaml")
    assert said in str(refused.value)
