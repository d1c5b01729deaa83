"""Values and goals in a dental group's units: read exactly or refused clearly, shown as
`€1.2M`, `32 days`, `NPS 45`, kept with their unit in the store, read by formulas in their
units; old units migrate to kinds and keep their values."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, text

from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.scorecard.goals import Goal, parse_goal
from otp_bot.store.domain.scorecard.measures import Measure, format_value
from otp_bot.store.domain.scorecard.metrics import current_rows
from otp_bot.store.domain.scorecard.value_parse import parse_value
from otp_bot.store.domain.scorecard.value_words import split_value
from otp_bot.store.models import Metric, MetricValue
from tests.support.dental import MEASURES, dental, load, push, refusal

READ = [
    ("dso", "32", 32 * 1440),
    ("dso", "32 days", 32 * 1440),
    ("dso", "2 d", 2880),
    ("dso", "48 h", 2880),
    ("dso", "1,5", 1.5 * 1440),
    ("first-reply", "90 min", 90),
    ("first-reply", "1.5 h", 90),
    ("first-reply", "1h30", 90),
    ("first-reply", "1 h 30 min", 90),
    ("first-reply", "2", 120),
    ("first-reply", "1h30m", 90),
    ("revenue", "€1.2M", 1_200_000),
    ("revenue", "1.2M EUR", 1_200_000),
    ("revenue", "EUR 400k", 400_000),
    ("revenue", "400000", 400_000),
    ("supplies", "$12,000", 12_000),
    ("lab-fees", "£7,500.50", 7500.5),
    ("calls", "212", 212),
    ("calls", "212 calls", 212),
    ("nps", "45", 45),
    ("nps", "NPS 45", 45),
    ("nps", "-12", -12),
    ("accept-ratio", "1.5", 1.5),
    ("chair-time", "45 min", 45),
    ("chair-time", "1 h", 60),
    ("lab-turnaround", "7 days", 7),
    ("recall-sent", "yes", 1),
    ("reply-seconds", "90 s", 1.5),
    ("backlog", "3 d", 3 * 1440),
]
REFUSED = [
    (
        "supplies",
        "€400",
        "`€400`: this metric is in $, not €: type the amount in $ (like $400 if it is the same number)",
    ),
    (
        "revenue",
        "$400k",
        "`$400k`: this metric is in €, not $: type the amount in € (like €400k if it is the same number)",
    ),
    ("revenue", "400 GBP", "this metric is in €, not £"),
    ("calls", "2 d", "`2 d`: this metric is not a duration (it is calls): type the number alone, like 2"),
    ("calls", "12 apples", "`12 apples`: this metric is not in apples (it is calls): type the number alone, like 12"),
    ("dso", "€400", "`€400` has a currency sign, but this metric is not money"),
    ("dso", "45 parsecs", "`45 parsecs`: 'parsecs' is not a unit of time: write it like 90 min, 1.5 h or 2 d"),
    ("dso", "30 min 1 h", "write the larger unit first, each once, like 1 d 4 h or 1 h 30 min"),
    ("dso", "5k", "`5k`: a duration takes the number itself, not k / M / bn"),
    ("nps", "2000", "`2000` is not an NPS: an NPS runs from -100 to 100"),
    ("nps", "45%", "`45%`: this metric is not a percent (it is NPS): type the number alone, like 45"),
    ("accept-ratio", "$3", "has a currency sign, but this metric is not money"),
    ("lab-turnaround", "2 h", "this metric is not a duration (it is days)"),
]


@pytest.mark.parametrize(("metric", "typed", "stored"), READ)
def test_values_are_read_exactly_in_each_unit(metric, typed, stored):
    assert parse_value(typed, MEASURES[metric], decimal_mark=None) == Decimal(repr(stored))


@pytest.mark.parametrize(("metric", "typed", "words"), REFUSED)
def test_values_in_the_wrong_unit_are_refused_clearly(metric, typed, words):
    with pytest.raises(Invalid) as caught:
        parse_value(typed, MEASURES[metric])
    assert words in caught.value.message


def test_goals_are_read_by_the_same_rules():
    assert parse_goal("<= 2 d", MEASURES["dso"]) == Goal("<=", 2880)
    assert parse_goal("1..2 h", MEASURES["first-reply"]) == Goal("in", 60, 120)
    assert parse_goal(">= €1.2M", MEASURES["revenue"]) == Goal(">=", 1_200_000)
    assert Goal("<=", 90).to_text(MEASURES["first-reply"]) == "<= 1.5"
    with pytest.raises(Invalid, match="this metric is in €, not \\$"):
        parse_goal(">= $1M", MEASURES["revenue"])
    with pytest.raises(Invalid, match="not a duration"):
        parse_goal("<= 2 d", MEASURES["calls"])


def test_currencies_by_their_names():
    from otp_bot.store.domain.scorecard.measures import read_measure

    assert read_measure("euros") == read_measure("€") == read_measure("eur") == Measure("currency", None, "EUR")
    assert read_measure("dollars", org_currency="CAD") == Measure("currency", None, "CAD")
    assert read_measure("dollars") == read_measure("$") == Measure("currency", None, "USD")
    assert parse_value("400 euros", MEASURES["revenue"]) == 400
    # A code that is also a word is a currency in capitals only: a café counts cups.
    assert read_measure("cup") == Measure("number", "cup") and read_measure("pen") == Measure("number", "pen")
    assert read_measure("CUP") == Measure("currency", None, "CUP") and read_measure("gbp").currency == "GBP"


def test_a_shared_dollar_sign_is_the_orgs_own_dollar():
    cad = Measure("currency", None, "CAD")
    assert parse_value("$400", cad, org_currency="CAD") == 400  # a Canadian org's $
    with pytest.raises(Invalid, match="this metric is in CA\\$, not \\$"):
        parse_value("$400", cad, org_currency="USD")
    assert parse_value("CA$400", cad, org_currency="USD") == parse_value("400 CAD", cad) == 400


def test_values_are_shown_in_their_unit():
    shown = {
        mid: format_value(v, MEASURES[mid])
        for mid, v in [
            ("dso", 32 * 1440),
            ("revenue", 1_200_000),
            ("supplies", 12_000),
            ("lab-fees", 7500.5),
            ("first-reply", 90),
            ("nps", 45),
            ("calls", 212),
            ("accept-ratio", 1.5),
            ("chair-time", 45),
            ("lab-turnaround", 1),
            ("reply-seconds", 1.5),
            ("backlog", 10080),
        ]
    }
    assert shown == {
        "dso": "32 days",
        "revenue": "€1.2M",
        "supplies": "$12,000",
        "lab-fees": "£7,500",
        "first-reply": "1.5 h",
        "nps": "NPS 45",
        "calls": "212 calls",
        "accept-ratio": "1.5",
        "chair-time": "45 min",
        "lab-turnaround": "1 day",
        "reply-seconds": "90 s",
        "backlog": "1 week",
    }
    assert format_value(1_234_567, MEASURES["revenue"]) == "€1,234,567"  # shortened only where nothing is lost
    assert format_value(-400, MEASURES["revenue"]) == "-€400"
    assert format_value(1_500_000, Measure("currency", None, "CHF")) == "CHF 1.5M"
    assert format_value(4.5, Measure("score", "stars")) == "4.5 stars" and format_value(4, Measure("score")) == "4"


def test_a_value_among_words_takes_its_unit():
    assert split_value(["1", "h", "30", "min", "a", "slow", "day"], MEASURES["first-reply"]) == (
        "1 h 30 min",
        ["a", "slow", "day"],
    )
    assert split_value(["NPS", "45", "after", "survey"], MEASURES["nps"]) == ("NPS 45", ["after", "survey"])
    assert split_value(["212", "calls", "busy"], MEASURES["calls"]) == ("212 calls", ["busy"])
    assert split_value(["€1.2M", "good", "month"], MEASURES["revenue"]) == ("€1.2M", ["good", "month"])
    assert split_value(["2", "d", "late"], MEASURES["calls"]) == ("2 d", ["late"])  # refused whole, not a note `d`


def test_recorded_values_keep_their_unit_in_the_store(db):
    load(db, dental())
    assert push(db, "dso", "32") == 32 * 1440
    assert push(db, "revenue", "€1,2M") == 1_200_000  # a decimal comma before M: 1,2 cannot be thousands
    assert "this metric is in €, not $" in refusal(db, "revenue", "$1.2M")
    assert "`2 d`: this metric is not a duration (it is calls)" in refusal(db, "calls", "2 d")
    with db.session() as s:
        assert s.scalar(select(MetricValue.value).where(MetricValue.metric_id == "calls")) is None


def test_a_formula_reads_its_inputs_in_their_units(db):
    data = dental()
    data["seats"][0]["metrics"] += [
        {
            "id": "dso-weeks",
            "name": "DSO in weeks",
            "kind": "number",
            "unit": "weeks",
            "goal": "<= 7",
            "formula": "{dso} / 7",
            "cadence": "monthly",
        },
        {
            "id": "reply-minutes",
            "name": "First reply in minutes",
            "unit": "minutes",
            "goal": "<= 90",
            "formula": "{first-reply} * 60",
        },
    ]
    load(db, data)
    push(db, "dso", "35")
    push(db, "first-reply", "1.5 h")
    with db.session() as s:
        rows = {r.metric.id: r for r in current_rows(s, [s.get(Metric, "dso-weeks"), s.get(Metric, "reply-minutes")])}
        # 35 days / 7, not 50,400 minutes / 7; 1.5 h * 60 is 90 min, not 90 min * 60.
        assert rows["dso-weeks"].latest.value == 5 and rows["dso-weeks"].show(5) == "5 weeks"
        assert rows["reply-minutes"].latest.value == 90 and rows["reply-minutes"].show(90) == "90 min"
        assert rows["reply-minutes"].latest.on_track  # the goal compares like with like


# ---------------------------------------------------------------- the migration from the old units


def test_old_units_move_to_kinds_and_keep_their_values(db):
    from alembic import command

    from otp_bot.store.db import alembic_config

    command.downgrade(alembic_config(db.engine), "0013")
    old = {"won": "number", "rate": "percent", "ar": "currency", "handle": "minutes", "held": "yesno"}
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO org (id, name, timezone, revision, etag) VALUES (1, 'Old Org', 'UTC', 1, 'e')"))
        c.execute(
            text(
                "INSERT INTO seats (id, title, status, customer_facing, aliases, accountabilities, "
                "does_not_own, position) VALUES ('ops', 'Ops', 'vacant', false, '[]', '[]', '[]', 0)"
            )
        )
        for i, (mid, unit) in enumerate(old.items()):
            c.execute(
                text(
                    "INSERT INTO metrics (id, seat_id, name, unit, goal_op, goal_value, cadence, aggregation, "
                    "position) VALUES (:id, 'ops', :id, :unit, '>=', 1, 'weekly', 'last', :i)"
                ),
                {"id": mid, "unit": unit, "i": i},
            )
            c.execute(
                text(
                    "INSERT INTO metric_values (metric_id, period_start, value, is_correction, source, "
                    "entered_by) VALUES (:id, '2026-11-30', :v, false, 'manual', 't')"
                ),
                {"id": mid, "v": [12, 85, 12000, 45, 1][i]},
            )
    command.upgrade(alembic_config(db.engine), "head")
    with db.session() as s:
        metrics = {m.id: m for m in s.scalars(select(Metric))}
        assert {mid: (m.kind, m.unit, m.currency) for mid, m in metrics.items()} == {
            "won": ("number", None, None),
            "rate": ("percent", None, None),
            "ar": ("currency", None, "USD"),
            "handle": ("duration", "minutes", None),
            "held": ("yesno", None, None),
        }
        assert s.scalar(text("SELECT currency FROM org")) == "USD"
        values = dict(s.execute(select(MetricValue.metric_id, MetricValue.value)).all())
        assert values == {"won": 12, "rate": 85, "ar": 12000, "handle": 45, "held": 1}
        shown = {
            r.metric.id: r.show(r.latest.value)
            for r in current_rows(s, list(metrics.values()), today=__import__("datetime").date(2026, 12, 1))
        }
        assert shown == {"won": "12", "rate": "85%", "ar": "$12,000", "handle": "45 min", "held": "yes"}
        s.add(
            MetricValue(
                metric_id="handle",
                period_start=__import__("datetime").date(2026, 11, 30),
                value=50,
                source="manual",
                entered_by="t",
            )
        )  # the trigger set aside for the rebuild is back
    # The old chart file's words still read the same: `unit: minutes`, `unit: currency`.
    spec = validate_chart(
        {
            "org": {"name": "Old Org"},
            "seats": [
                {
                    "id": "ops",
                    "title": "Ops",
                    "metrics": [{"id": mid, "name": mid, "unit": unit, "goal": ">= 1"} for mid, unit in old.items()],
                }
            ],
        },
        "old.yaml",
    )
    assert [(m.kind, m.unit, m.currency) for m in spec.seats[0].metrics] == [
        ("number", None, None),
        ("percent", None, None),
        ("currency", None, "USD"),
        ("duration", "minutes", None),
        ("yesno", None, None),
    ]
