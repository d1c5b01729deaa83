"""Goal and value math for every operator, unit and cadence."""

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.scorecard import formula, periods
from otp_bot.store.domain.scorecard.goals import Goal, format_value, parse_goal
from otp_bot.store.domain.scorecard.value_parse import parse_value


@pytest.mark.parametrize(
    ("goal", "on", "off"),
    [
        (">= 30", [30, 31, 1e9], [29.99, -1]),
        ("<= 120", [120, 0, -5], [120.01]),
        ("> 3", [3.01, 4], [3, 2]),
        ("< 5", [4.99], [5, 6]),
        ("== 0", [0, 0.0], [1, -0.5]),
        ("= 5", [5], [5.1]),
        ("10..20", [10, 15, 20], [9.99, 20.01]),
        ("outside -5..5", [-5.01, 6], [-5, 0, 5]),
        ("not in 1..2", [0, 3], [1.5]),
    ],
)
def test_goal_operators(goal, on, off):
    g = parse_goal(goal)
    assert all(g.met_by(v) for v in on)
    assert not any(g.met_by(v) for v in off)
    assert parse_goal(g.to_text()) == g


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("30%", "percent", 30),
        ("$1,250", "currency", 1250),
        ("3.5k", "number", 3500),
        ("$2m", "currency", 2_000_000),
        ("yes", "yesno", 1),
        ("No", "yesno", 0),
        ("45min", "minutes", 45),
        ("-3", "number", -3),
        (".5", "number", 0.5),
    ],
)
def test_values_as_people_write_them(text, unit, value):
    assert parse_value(text, unit) == value


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "nan", "inf", "1e999", "--1", "yes"])
def test_bad_values_are_rejected_clearly(text):
    with pytest.raises(Invalid, match=r"is not|is empty|too large|two signs"):
        parse_value(text, "number")


@pytest.mark.parametrize("text", ["", "about 30", "=>3", "20..10", ">= lots", ".."])
def test_bad_goals_are_rejected_clearly(text):
    with pytest.raises(Invalid):
        parse_goal(text)


def test_yes_no_goal():
    g = parse_goal("== yes", "yesno")
    assert g.met_by(1) and not g.met_by(0)
    assert format_value(1, "yesno") == "yes"


def test_distance_to_goal():
    assert parse_goal(">= 30").distance(25) == 5
    assert parse_goal("<= 10").distance(12) == 2
    assert parse_goal("10..20").distance(25) == 5
    assert parse_goal(">= 30").distance(31) == 0


def test_format_value_units():
    assert format_value(30, "percent") == "30%"
    assert format_value(1250, "currency") == "$1,250"
    assert format_value(12.5, "minutes") == "12.5 min"
    assert format_value(None, "number") == "—"


@given(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12).filter(
        lambda v: v == 0 or abs(v) >= 1e-9
    ),  # values other than 0 are at least 10^-9 in size
    st.sampled_from([">=", "<=", "==", ">", "<"]),
)
def test_goal_text_round_trips(value, op):
    g = Goal(op, value)
    assert parse_goal(g.to_text()) == g


@given(st.text(max_size=30))
def test_goal_parser_never_crashes(text):
    with contextlib.suppress(Invalid):
        parse_goal(text)


# ------------------------------------------------------------------ periods


def test_weekly_periods_start_on_monday():
    assert periods.period_start(dt.date(2026, 11, 26), "weekly") == dt.date(2026, 11, 23)
    assert periods.label(dt.date(2026, 11, 23), "weekly") == "2026-W48"


def test_monthly_periods_and_shift_across_years():
    assert periods.period_start(dt.date(2026, 11, 26), "monthly") == dt.date(2026, 11, 1)
    assert periods.shift(dt.date(2026, 1, 1), "monthly", -1) == dt.date(2025, 12, 1)
    assert periods.shift(dt.date(2026, 12, 1), "monthly", 1) == dt.date(2027, 1, 1)


def test_window_is_oldest_first_and_ends_now():
    w = periods.window(dt.date(2026, 11, 26), "weekly", 13)
    assert len(w) == 13 and w[-1] == dt.date(2026, 11, 23) and w[0] == dt.date(2026, 8, 31)


@pytest.mark.parametrize(
    ("text", "cadence", "start"),
    [
        ("2026-W47", "weekly", dt.date(2026, 11, 16)),
        ("2026w1", "weekly", dt.date(2025, 12, 29)),
        ("2026-11", "monthly", dt.date(2026, 11, 1)),
        ("2026-11-19", "weekly", dt.date(2026, 11, 16)),
        ("2026-11-19", "monthly", dt.date(2026, 11, 1)),
    ],
)
def test_parse_periods(text, cadence, start):
    assert periods.parse(text, cadence, "UTC") == start


@pytest.mark.parametrize("text", ["2026-W60", "2026-13", "yesterday-ish", "2026-02-30"])
def test_bad_periods(text):
    with pytest.raises(Invalid):
        periods.parse(text, "weekly", "UTC")


# ------------------------------------------------------------------ formulas


def test_formula_evaluates_with_inputs():
    assert formula.evaluate("{won} / {sent} * 100", {"won": 3, "sent": 12}) == 25


def test_formula_missing_input_or_zero_division_is_missing():
    assert formula.evaluate("{won} / {sent}", {"won": 3, "sent": None}) is None
    assert formula.evaluate("{won} / {sent}", {"won": 3, "sent": 0}) is None


@pytest.mark.parametrize("bad", ["__import__('os')", "{a}.real", "{a} ** 2", "open('x')", "{a} +", "lambda: 1", "'s'"])
def test_formula_rejects_anything_but_arithmetic(bad):
    with pytest.raises(Invalid):
        formula.validate(bad)


def test_formula_references_in_order():
    assert formula.validate("({a} + {b}) / {a} - -1") == ["a", "b"]
