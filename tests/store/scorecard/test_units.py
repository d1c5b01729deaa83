"""Units as a dental group's ops lead writes them: `days` DSO, `hours` to first reply, `NPS`,
a `ratio`, `€` revenue, `calls`. The chart file imports each; an export imports back as
"no changes"; a unit the file cannot take, or a change that would relabel values, is refused."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import select

from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.chartfile.yaml_text import dump_chart
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.scorecard.measures import Measure
from otp_bot.store.domain.scorecard.metrics import current_rows
from otp_bot.store.models import Metric
from tests.support.dental import MEASURES, dental, load, push


def test_the_dental_chart_imports_with_each_unit_as_written(db):
    load(db, dental())
    with db.session() as s:
        stored = {
            m.id: (Measure(m.kind, m.unit, m.currency), m.goal_op, m.goal_value, m.goal_high)
            for m in s.scalars(select(Metric))
        }
    assert {mid: m for mid, (m, *_) in stored.items()} == MEASURES
    # Goals in the metric's unit, stored in the base unit: minutes for durations.
    assert stored["dso"][1:3] == ("<=", 45 * 1440)
    assert stored["revenue"][1:3] == (">=", 1_200_000)
    assert stored["first-reply"][1:3] == ("<=", 90)  # `<= 90 min` on an hours metric
    assert stored["lab-turnaround"][1:3] == ("<=", 10)  # a plain number that happens to count days
    assert stored["reply-seconds"][1:3] == ("<=", 10 / 60)
    assert stored["backlog"][1:3] == ("<=", 0.5 * 10080)


@pytest.mark.parametrize("org", [{}, {"currency": "EUR"}, {"currency": "€", "decimal_mark": ","}])
def test_an_export_imports_back_as_no_changes_for_every_kind(db, org):
    load(db, dental(**org))
    with db.session() as s:
        exported = dump_chart(export_chart(s))
    metrics = {m["id"]: m for seat in yaml.safe_load(exported)["seats"] for m in seat.get("metrics", [])}
    words = {mid: {k: v for k, v in m.items() if k in ("kind", "unit", "currency")} for mid, m in metrics.items()}
    euro_org = bool(org)
    assert words == {
        "dso": {"unit": "days"},
        "revenue": {"unit": "currency" if euro_org else "EUR"},
        "supplies": {"unit": "USD" if euro_org else "currency"},
        "lab-fees": {"unit": "GBP"},
        "first-reply": {"unit": "hours"},
        "nps": {"unit": "NPS"},
        "calls": {"unit": "calls"},
        "accept-ratio": {"unit": "ratio"},
        "chair-time": {"unit": "minutes"},
        "lab-turnaround": {"kind": "number", "unit": "days"},
        "recall-sent": {"unit": "yesno"},
        "reply-seconds": {"unit": "seconds"},
        "backlog": {"unit": "weeks"},
    }
    # Goals are written back in the metric's own unit.
    assert metrics["first-reply"]["goal"] == "<= 1.5" and metrics["dso"]["goal"] == "<= 45"
    assert metrics["reply-seconds"]["goal"] == "<= 10" and metrics["backlog"]["goal"] == "<= 0.5"
    assert load(db, yaml.safe_load(exported)) == []


def test_units_the_chart_file_refuses_say_what_to_write():
    def problems(mutate) -> str:
        data = dental()
        mutate(data["seats"][0]["metrics"])
        with pytest.raises(ChartErrors) as caught:
            validate_chart(data, "dental.yaml")
        return str(caught.value)

    said = problems(lambda ms: ms[1].update(goal=">= $1M"))
    assert "seats[0].metrics[1].goal: goal `>= $1M`: `$1M`: this metric is in €, not $" in said
    said = problems(lambda ms: ms[0].update(goal="<= 45 parsecs"))
    assert "'parsecs' is not a unit of time" in said
    said = problems(lambda ms: ms.append({"id": "x", "name": "X", "unit": "calls", "goal": "<= 2 d"}))
    assert "seats[0].metrics[4].goal: goal `<= 2 d`: `2 d`: this metric is not a duration (it is calls)" in said
    said = problems(lambda ms: ms.append({"id": "x", "name": "X", "unit": "NPS", "goal": ">= 200"}))
    assert "seats[0].metrics[4].goal: goal `>= 200`: `200` is not an NPS: an NPS runs from -100 to 100" in said
    said = problems(lambda ms: ms.append({"id": "x", "name": "X", "currency": "ZZZ", "goal": ">= 1"}))
    assert "seats[0].metrics[4].currency: unknown currency 'ZZZ'; write its ISO code, like USD, EUR or GBP" in said
    said = problems(lambda ms: ms.append({"id": "x", "name": "X", "kind": "duration", "goal": ">= 1"}))
    assert "a duration needs its unit: seconds, minutes, hours, days or weeks" in said
    said = problems(lambda ms: ms.append({"id": "x", "name": "X", "unit": "percnt", "goal": ">= 1"}))
    assert (
        "seats[0].metrics[4].unit: unit 'percnt': did you mean 'percent'? (to count percnt, write `kind: number`)"
        in said
    )  # not silently a count of `percnt`
    said = problems(lambda ms: ms.append({"id": "x", "name": "X", "unit": "days", "currency": "EUR", "goal": ">= 1"}))
    assert "`currency: EUR` is for money, and unit 'days' is not" in said


def test_a_currency_or_kind_change_would_relabel_values_and_is_refused(db):
    load(db, dental())
    push(db, "revenue", "€1.2M")
    push(db, "first-reply", "2 h")
    moved = dental()
    moved["seats"][0]["metrics"][1].update(unit="USD", goal=">= 1200000")
    with pytest.raises(
        ChartErrors,
        match="metric 'revenue' has recorded values in EUR, and the file says USD; changing that would relabel them",
    ):
        load(db, moved)
    # A duration shown in another unit is the same time: its values are kept in minutes.
    shown_in_minutes = dental()
    shown_in_minutes["seats"][1]["metrics"][0].update(unit="minutes", goal="<= 90")
    assert load(db, shown_in_minutes) == ["~ metric first-reply: unit hours → minutes; goal <= 1.5 → <= 90"]
    with db.session() as s:
        assert current_rows(s, [s.get(Metric, "first-reply")])[0].show(120) == "120 min"
