"""The one value parser every surface uses: exact, or a refusal that says what to type."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.scorecard.measures import Measure
from otp_bot.store.domain.scorecard.value_parse import MAX_DIGITS, parse_value
from otp_bot.store.domain.scorecard.value_words import split_value


def refused(value, unit="number", mark=None) -> str:
    with pytest.raises(Invalid) as caught:
        parse_value(value, unit, decimal_mark=mark)
    return caught.value.message


# ---------------------------------------------------------------- what the outside tester typed


def test_a_decimal_comma_is_a_decimal():
    assert parse_value("3,5") == Decimal("3.5")
    assert parse_value("6,5") == Decimal("6.5")
    assert parse_value("0,85") == Decimal("0.85")
    assert parse_value("3,5", decimal_mark=".") == Decimal("3.5")  # under either mark: it cannot group
    assert parse_value("3.5", decimal_mark=",") == Decimal("3.5")


def test_a_list_is_not_one_number():
    assert "is not one number" in refused("1,2,3")
    assert "is not one number" in refused("12,34,567")
    assert "is not one number" in refused("1.5,3")


def test_another_currency_is_refused_not_relabelled():
    said = refused("€400k", "currency")
    assert "this metric is in $, not €" in said
    assert "this metric is in $, not €" in refused("400 EUR", "currency")
    assert "not money" in refused("€400k", "number")
    assert parse_value("$400k", "currency") == 400_000
    assert parse_value("400k", "currency") == 400_000
    assert parse_value("USD 1,250.50", "currency") == Decimal("1250.50")
    assert parse_value("$12,000", "currency") == 12_000  # a $ sign reads a lone comma the dollar way
    assert parse_value("-$400", "currency") == -400


@pytest.mark.parametrize(
    "value",
    ["99999999999999999999999", 99999999999999999999999, "1e999", 1e300, Decimal("1E+15"), "1,000,000,000,000,000"],
)
def test_magnitudes_beyond_the_bound_are_refused(value):
    assert "too large" in refused(value)


@pytest.mark.parametrize("value", ["1e-400", Decimal("1e-400"), "1.234567e-318", "0.0000000001", -1e-12])
def test_values_too_small_to_keep_exactly_are_refused(value):
    assert "too small to keep exactly" in refused(value)
    assert parse_value("0.000000001", "number") == Decimal("0.000000001") and parse_value("0", "number") == 0


@pytest.mark.parametrize("value", ["0.1234567890123456", "1234567890.1234567", Decimal("1.00000000000000000001")])
def test_more_digits_than_a_float_keeps_are_refused(value):
    said = refused(value)
    assert "more digits than the scorecard keeps exactly (15)" in said and "round it, like" in said


def test_a_percent_given_as_a_fraction_is_questioned():
    said = refused("0.85", "percent")
    assert "did you mean 85 %?" in said and "Type 85, or 0.85% if you really mean less than one percent" in said
    assert "did you mean 85 %?" in refused(0.85, "percent")  # a JSON number
    assert "did you mean 85 %?" in refused(Decimal("0.85"), "percent")
    assert "did you mean 50 %?" in refused("0,5", "percent")
    assert parse_value("0.85%", "percent") == Decimal("0.85")  # the % confirms it
    assert parse_value("0.85 %", "percent") == Decimal("0.85")
    assert parse_value("85 %", "percent") == 85
    assert parse_value("85%", "percent") == 85
    assert parse_value("85", "percent") == 85
    assert parse_value("0", "percent") == 0
    assert parse_value("1", "percent") == 1
    assert "not a percent" in refused("31.5%", "number")


# ---------------------------------------------------------------- thousands, suffixes, signs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,250.50", "1250.50"),
        ("1.250,50", "1250.50"),
        ("12 500", "12500"),
        ("1'250", "1250"),
        ("12\u00a0500,5", "12500.5"),
        ("1\u202f250", "1250"),
        ("1,250,000", "1250000"),
        ("1.250.000", "1250000"),
        ("1.000.000,5", "1000000.5"),
        ("1234,567", "1234.567"),
        ("0,850", "0.850"),
        (".5", "0.5"),
        ("-3", "-3"),
        ("\u22123", "-3"),
        ("+4", "4"),
        ("  42  ", "42"),
        ("1e5", "100000"),
        ("1.5E3", "1500"),
        ("5k", "5000"),
        ("2.5K", "2500"),
        ("1.5M", "1500000"),
        ("3bn", "3000000000"),
        ("400 k", "400000"),
    ],
)
def test_accepted_shapes(text, expected):
    assert parse_value(text) == Decimal(expected)


def test_a_lone_separator_before_three_digits_is_ambiguous_unless_the_org_says():
    said = refused("1,250")
    assert "did you mean 1250 or 1.25?" in said
    assert "did you mean 1.25 or 1250?" in refused("1.250")
    with pytest.raises(Invalid) as caught:
        parse_value("1,250")
    assert "decimal_mark" in caught.value.hint
    assert parse_value("1,250", decimal_mark=".") == 1250
    assert parse_value("1,250", decimal_mark=",") == Decimal("1.25")
    assert parse_value("1.250", decimal_mark=",") == 1250
    assert parse_value("1.250", decimal_mark=".") == Decimal("1.25")
    assert parse_value("1,250.50", decimal_mark=",") == Decimal("1250.50")  # both marks: only one reading


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "not a number"),
        ("five", "not a number"),
        ("nan", "finite"),
        ("NaN", "finite"),
        ("inf", "finite"),
        ("-Infinity", "finite"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (Decimal("NaN"), "finite"),
        ("1\x002", "not a number"),
        ("4\u202e2", "not a number"),
        ("--3", "two signs"),
        ("1,,2", "not one number"),
        ("5.", "not one number"),
        ("5m", "minutes or million"),
        ("12 50", "not one number"),
        ("$4 €", "two currency"),
        ("1" * 200, "not a number"),
        (True, "not a number"),
    ],
)
def test_garbage_is_refused_clearly(value, words):
    assert words in refused(value)


def test_units_keep_their_own_rules():
    assert parse_value("yes", "yesno") == 1 and parse_value("No", "yesno") == 0 and parse_value(True, "yesno") == 1
    assert "yes or no" in refused("2", "yesno")
    assert parse_value("12 min", "minutes") == 12 and parse_value("12", "minutes") == 12
    assert "not a duration" in refused("12 min", "number")
    assert "takes the number itself" in refused("5k", "percent")
    assert parse_value("$2.5m", "currency") == 2_500_000  # on money a lone m is million
    assert parse_value("-3", "number") == -3 and parse_value("-5", "percent") == -5


def test_a_value_among_words():
    assert split_value(["12", "500", "great", "week"]) == ("12 500", ["great", "week"])
    assert split_value(["85", "%"]) == ("85 %", [])
    assert split_value(["400", "€", "from", "Berlin"]) == ("400 €", ["from", "Berlin"])
    assert split_value(["3,5", "two", "flags"]) == ("3,5", ["two", "flags"])
    assert split_value(["12", "500 more than last week"]) == ("12", ["500 more than last week"])  # a quoted note


# ---------------------------------------------------------------- properties

exact = st.builds(
    lambda m, e: Decimal(m).scaleb(e),
    st.integers(min_value=-(10**MAX_DIGITS - 1), max_value=10**MAX_DIGITS - 1),
    st.integers(min_value=-6, max_value=0),
)


def styles(d: Decimal) -> list[tuple[str, str | None]]:
    """`d` written in each supported style, with the decimal mark an org writing so would set."""
    en = f"{d:,f}"
    swap = en.translate(str.maketrans(",.", ".,"))
    return [
        (format(d, "f"), "."),
        (en, "."),
        (swap, ","),
        (en.replace(",", " ").replace(".", ","), ","),
        (en.replace(",", "'"), "."),
        (en.replace(",", "\u202f").replace(".", ","), ","),
        (en.replace("-", "\u2212"), "."),
        (format(d, "f").replace(".", ","), ","),
    ]


@settings(max_examples=300, deadline=None)
@given(exact)
def test_every_style_reads_back_the_same_value(d):
    for text, mark in styles(d):
        assert parse_value(text, decimal_mark=mark) == d, text
        # Without the org's mark: the same value, or a refusal; never another number.
        try:
            assert parse_value(text) == d, text
        except Invalid as exc:  # a refusal is as right as the value, so not pytest.raises
            assert "ambiguous" in exc.message, (text, exc.message)  # noqa: PT017 - either outcome is allowed


@settings(max_examples=200, deadline=None)
@given(exact)
def test_suffixes_and_signs_read_back(d):
    assert parse_value(f"{d:f}%", "percent", decimal_mark=".") == d
    assert parse_value(f"{d / 1000:f}k", "number", decimal_mark=".") == d
    assert parse_value(f"${d:,f}", "currency") == d
    assert parse_value(float(d)) == d  # a JSON number as the reader hands it over


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet="0123456789.,' -\u2212+%$€kKMmbnedhws\u00a0", max_size=24),
    st.sampled_from(
        [
            "number",
            "percent",
            "currency",
            "minutes",
            "yesno",
            Measure("duration", "hours"),
            Measure("duration", "seconds"),
            Measure("currency", None, "EUR"),
            Measure("score", "NPS"),
            Measure("number", "ms"),
        ]
    ),
    st.sampled_from([None, ".", ","]),
)
def test_anything_accepted_is_exact(text, unit, mark):
    try:
        value = parse_value(text, unit, decimal_mark=mark)
    except Invalid:
        return
    assert value.is_finite() and abs(value) < Decimal(10) ** 15
    assert Decimal(repr(float(value))) == value  # stored as a float, it reads back the same


# ---------------------------------------------------------------- the org's decimal mark, from the chart file


def test_the_org_decimal_mark_is_imported_used_and_exported(db):
    from otp_bot.store.domain.actors import Actor
    from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
    from otp_bot.store.domain.chart.chartfile.validation import validate_chart
    from otp_bot.store.domain.chart.chartfile.yaml_text import dump_chart
    from otp_bot.store.domain.chart.sync.apply import apply_chart
    from otp_bot.store.domain.chart.sync.export import export_chart
    from otp_bot.store.domain.scorecard.metrics import record_value
    from tests.support.charts import chart

    def push(value: str) -> float:
        with db.session() as s:
            return record_value(s, Actor.cli_operator(), "early-flags", value).value.value

    def load(org: dict) -> list:
        with db.session() as s:
            return apply_chart(s, validate_chart(chart(org=org), "t"), actor="t", source="t").changes

    load({"name": "Test Org", "timezone": "America/New_York"})
    with pytest.raises(Invalid, match=r"did you mean 1.25 or 1250"):
        push("1.250")
    changes = load({"name": "Test Org", "timezone": "America/New_York", "decimal_mark": "comma"})
    assert any("decimal_mark" in c.describe() for c in changes)
    assert push("1.250") == 1250 and push("1,25") == 1.25 and push("1,250.5") == 1250.5
    with db.session() as s:
        exported = dump_chart(export_chart(s))
    assert "decimal_mark: ','" in exported
    with pytest.raises(ChartErrors, match="decimal_mark"):
        validate_chart(chart(org={"name": "Test Org", "decimal_mark": ";"}), "t")


def test_goals_are_read_by_the_same_rules():
    from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
    from otp_bot.store.domain.chart.chartfile.validation import validate_chart
    from otp_bot.store.domain.scorecard.goals import Goal, parse_goal
    from tests.support.charts import chart, seat

    assert parse_goal(">= 1,5") == Goal(">=", 1.5)  # was 15
    assert parse_goal("1,5..2,5") == Goal("in", 1.5, 2.5)
    assert parse_goal(">= $1,200", "currency") == Goal(">=", 1200)
    with pytest.raises(Invalid, match="did you mean 1000 or 1"):
        parse_goal(">= 1,000")
    assert parse_goal(">= 1.000", decimal_mark=",") == Goal(">=", 1000)
    with pytest.raises(Invalid, match="this metric is in \\$"):
        parse_goal("< €15k", "currency")

    data = chart()
    data["org"]["decimal_mark"] = ","
    seat(data, "retention")["metrics"][0]["goal"] = ">= 1.125"
    spec = validate_chart(data, "t")
    assert spec.seats[1].metrics[0].goal == ">= 1125"
    # The canonical text of 1.125 reads the same under either mark.
    assert Goal(">=", 1.125).to_text() == ">= 1.1250"
    assert parse_goal(">= 1.1250", decimal_mark=",") == parse_goal(">= 1.1250", decimal_mark=".") == Goal(">=", 1.125)
    del data["org"]["decimal_mark"]
    with pytest.raises(ChartErrors, match="ambiguous"):
        validate_chart(data, "t")
