"""Goals: parsing them (their numbers read by value_parse, as values are), showing values,
and judging a value on or off track."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.scorecard import value_digits, value_parse
from otp_bot.store.domain.scorecard.measures import Measure, as_measure, format_value, shortest


@dataclass(frozen=True)
class Goal:
    op: str  # >=, <=, ==, >, <, in, out
    value: float
    high: float | None = None

    def met_by(self, value: float) -> bool:
        match self.op:
            case ">=":
                return value >= self.value
            case "<=":
                return value <= self.value
            case ">":
                return value > self.value
            case "<":
                return value < self.value
            case "==":
                return math.isclose(value, self.value, rel_tol=1e-9, abs_tol=1e-9)
            case "in" if self.high is not None:  # a range always has its high end
                return self.value <= value <= self.high
            case "out" if self.high is not None:
                return not (self.value <= value <= self.high)
        raise AssertionError(self.op)

    def distance(self, value: float) -> float:
        """How far a value is from meeting the goal (0 when met): for 'distance to goal'."""
        if self.met_by(value):
            return 0.0
        match self.op:
            case ">=" | ">":
                return self.value - value
            case "<=" | "<":
                return value - self.value
            case "in" if self.high is not None:
                return self.value - value if value < self.value else value - self.high
            case _:
                return (
                    min(abs(value - self.value), abs(value - self.high))
                    if self.high is not None
                    else abs(value - self.value)
                )

    @property
    def higher_is_better(self) -> bool | None:
        return {">=": True, ">": True, "<=": False, "<": False}.get(self.op)

    def describe(self, unit: Measure | str = "number") -> str:
        fmt = lambda v: format_value(v, unit)  # noqa: E731
        if self.op == "in":
            return f"{fmt(self.value)}..{fmt(self.high)}"
        if self.op == "out":
            return f"outside {fmt(self.value)}..{fmt(self.high)}"
        return f"{self.op} {fmt(self.value)}"

    def to_text(self, unit: Measure | str = "number") -> str:
        """The canonical form the chart file uses, in the metric's display unit;
        parse_goal(to_text(unit), unit) == self."""
        measure = as_measure(unit)
        num = lambda v: _canonical(v, measure)  # noqa: E731
        if self.op == "in":
            return f"{num(self.value)}..{num(self.high)}"
        if self.op == "out":
            return f"outside {num(self.value)}..{num(self.high)}"
        return f"{self.op} {num(self.value)}"


def _canonical(value: float, measure: Measure) -> str:
    """A goal's number as the chart file keeps it, read the same under either decimal mark:
    `1.125` would be 1125 to an org writing `1.250,50`, `1.1250` is 1.125 to everyone.
    A duration's is in its display unit (stored in minutes): the shortest number that is
    stored as the same float."""
    if measure.kind == "duration" and measure.unit not in (None, "minutes"):
        text = value_digits.plain(shortest(value, measure))
    else:
        text = repr(value).removesuffix(".0")
    return text + "0" if re.fullmatch(r"-?[1-9]\d{0,2}\.\d{3}", text) else text


_OPS = (">=", "<=", "==", "=", ">", "<")
_RANGE = re.compile(r"^(?P<out>outside\s+|not\s+in\s+|!)?\s*(?P<a>.+?)\s*\.\.\s*(?P<b>.+)$", re.IGNORECASE)


def parse_goal(
    text: str, unit: Measure | str = "number", decimal_mark: str | None = None, org_currency: str | None = None
) -> Goal:
    """`>= 30%`, `<= 120`, `== yes`, `>= €1.2M`, `<= 2 d`, `10..20` (in range), `outside 10..20`;
    each number read as a value of the metric is (`decimal_mark`, `org_currency`: the org's)."""

    def parse_value(number: str, unit: Measure | str) -> float:
        try:
            return value_parse.as_float(
                value_parse.parse_value(number, unit, decimal_mark=decimal_mark, goal=True, org_currency=org_currency)
            )
        except Invalid as exc:
            raise Invalid(f"goal `{text}`: {exc.message}", hint=exc.hint) from None

    raw = str(text).strip()
    if not raw:
        raise Invalid("the goal is empty: write it like `>= 30`, `<= 120`, `10..20` or `outside 10..20`")
    if m := _RANGE.match(raw):
        low, high = parse_value(m["a"], unit), parse_value(m["b"], unit)
        if high < low:
            raise Invalid(f"goal `{text}`: the range runs from low to high, and {m['b']} is below {m['a']}")
        return Goal("out" if m["out"] else "in", low, high)
    for op in _OPS:
        if raw.startswith(op):
            rest = raw[len(op) :]
            return Goal("==" if op == "=" else op, parse_value(rest, unit))
    raise Invalid(
        f"`{text}` is not a goal: start with >=, <=, ==, > or <, or give a range like `10..20` or `outside 10..20`"
    )
