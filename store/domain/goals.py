"""Goals and values: parsing what people type, and judging a value on or off track."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from otp_bot.store.domain.errors import Invalid

_YES = {"yes": 1.0, "y": 1.0, "true": 1.0, "done": 1.0, "no": 0.0, "n": 0.0, "false": 0.0}
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def parse_value(text: str, unit: str = "number") -> float:
    """A number as people write it: `42`, `1,250`, `$3.5k`, `30%`, `yes`."""
    raw = str(text).strip().lower().replace(",", "").replace("_", "")
    if unit == "yesno" and raw in _YES:
        return _YES[raw]
    raw = raw.removeprefix("$").removeprefix("€").removeprefix("£").removesuffix("%").removesuffix("min").strip()
    scale = 1.0
    if raw.endswith("k"):
        raw, scale = raw[:-1], 1_000.0
    elif raw.endswith("m") and unit == "currency":
        raw, scale = raw[:-1], 1_000_000.0
    if not _NUMBER.match(raw):
        expected = "yes or no" if unit == "yesno" else "a number"
        raise Invalid(f"`{text}` is not {expected}")
    value = float(raw) * scale
    if not math.isfinite(value):
        raise Invalid(f"`{text}` is not a finite number")
    return value


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "yesno":
        return "yes" if value >= 0.5 else "no"
    number = f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 1000 else f"{value:,.2f}".rstrip("0").rstrip(".")
    if unit == "percent":
        return f"{number}%"
    if unit == "currency":
        return f"${number}"
    if unit == "minutes":
        return f"{number} min"
    return number


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
            case "in":
                return self.value <= value <= self.high
            case "out":
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
            case "in":
                return self.value - value if value < self.value else value - self.high
            case _:
                return min(abs(value - self.value), abs(value - self.high)) if self.high is not None else abs(value - self.value)

    @property
    def higher_is_better(self) -> bool | None:
        return {">=": True, ">": True, "<=": False, "<": False}.get(self.op)

    def describe(self, unit: str = "number") -> str:
        fmt = lambda v: format_value(v, unit)  # noqa: E731
        if self.op == "in":
            return f"{fmt(self.value)}..{fmt(self.high)}"
        if self.op == "out":
            return f"outside {fmt(self.value)}..{fmt(self.high)}"
        return f"{self.op} {fmt(self.value)}"

    def to_text(self) -> str:
        """The canonical form the chart file uses; parse(to_text()) == self."""
        num = lambda v: repr(v).removesuffix(".0")  # noqa: E731
        if self.op == "in":
            return f"{num(self.value)}..{num(self.high)}"
        if self.op == "out":
            return f"outside {num(self.value)}..{num(self.high)}"
        return f"{self.op} {num(self.value)}"


_OPS = (">=", "<=", "==", "=", ">", "<")
_RANGE = re.compile(r"^(?P<out>outside\s+|not\s+in\s+|!)?\s*(?P<a>[^.]+?)\s*\.\.\s*(?P<b>.+)$", re.IGNORECASE)


def parse_goal(text: str, unit: str = "number") -> Goal:
    """`>= 30%`, `<= 120`, `== yes`, `10..20` (in range), `outside 10..20`."""
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
            rest = raw[len(op):]
            return Goal("==" if op == "=" else op, parse_value(rest, unit))
    raise Invalid(
        f"`{text}` is not a goal: start with >=, <=, ==, > or <, or give a range like `10..20` or `outside 10..20`"
    )
