"""Reading a value as people and agents write it: exactly, or not at all.

Every surface (Slack, the CLI, the API, MCP) hands what it was given to `parse_value` and
gets back an exact `Decimal` or an `Invalid` that says what to type instead. Nothing is
guessed: a separator that could be a thousands separator or a decimal mark (`1,250`) is
read only when the org set its decimal mark in the chart file; a fraction on a percent
metric (`0.85`) is questioned; a currency that is not the metric's is refused.

The stored column is a float, so a value must survive that: at most 15 significant digits
(what a double keeps exactly) and below 10^15 in size.

What a unit accepts is one entry in `UNITS` (signs after the number, magnitude words,
currency, a check of its own): a new unit is a new entry, not a new parser.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from otp_bot.store.domain.errors import Invalid

DECIMAL_MARKS = (".", ",")
MAX_DIGITS = 15  # significant digits a double keeps exactly (DBL_DIG)
LIMIT = Decimal(10) ** 15  # values are below this in size
MAX_TEXT = 100

# The currency of a currency metric: the scorecard shows it with `$` (goals.format_value).
METRIC_CURRENCY = "$"
# Signs and codes people put on money, each mapped to the sign it stands for.
CURRENCIES = {
    "$": "$", "us$": "$", "usd": "$",
    "€": "€", "eur": "€",
    "£": "£", "gbp": "£",
    "¥": "¥", "jpy": "¥", "cny": "¥", "rmb": "¥",
    "₹": "₹", "inr": "₹",
    "chf": "CHF", "c$": "C$", "cad": "C$", "a$": "A$", "aud": "A$",
}
# The decimal mark a currency sign implies where the org set none: `$12,000` is twelve
# thousand dollars. (Only the metric's own currency gets this far.)
CONVENTION = {"$": "."}
# Magnitude words after the number, in lower case. A lone lower-case m is read as million
# only on money (`$2.5m`): elsewhere it could as well be minutes.
MAGNITUDES = {"k": 1_000, "m": 1_000_000, "mm": 1_000_000, "bn": 1_000_000_000, "b": 1_000_000_000}
MINUS = "-\u2212\ufe63\uff0d"  # hyphen-minus, minus sign, small and full-width hyphen-minus
GROUPING = " \u00a0\u202f\u2009'\u2019_"  # spaces (plain, no-break, narrow, thin), apostrophes, underscore
_YES = {"yes": 1, "y": 1, "true": 1, "done": 1, "no": 0, "n": 0, "false": 0}

_CURRENCY = "|".join(re.escape(c) for c in sorted(CURRENCIES, key=len, reverse=True))
_SHAPE = re.compile(
    rf"^(?P<sign1>[{MINUS}+])?\s*(?P<cur1>{_CURRENCY})?\s*(?P<sign2>[{MINUS}+])?\s*"
    rf"(?P<body>[0-9.,{GROUPING}]*?)\s*(?P<mag>k|mm|m|bn|b)?\s*(?P<cur2>{_CURRENCY})?\s*"
    r"(?P<suffix>%|min)?$",
    re.IGNORECASE,
)
_EXPONENT = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)[eE][-+]?\d{1,4}\s*$")


@dataclass(frozen=True)
class Unit:
    """What a unit accepts beyond a plain number."""

    suffix: str | None = None  # a sign after the number that confirms the unit: %, min
    magnitudes: bool = False  # 5k, 1.2M, 3bn
    currency: bool = False  # a currency sign, which must be the metric's
    check: Callable[[Decimal, Read], None] | None = None  # questions only this unit asks


@dataclass(frozen=True)
class Read:
    """What the text said besides its digits."""

    text: str
    suffix: str | None = None  # %, min, when written


def _percent(number: Decimal, read: Read) -> None:
    if read.suffix is None and 0 < number < 1:  # -0.5 on a percent metric is a plain change
        shown = _plain(number * 100)
        raise Invalid(f"`{read.text}` on a percent metric: did you mean {shown} %? "
                      f"Type {shown}, or {_plain(number)}% if you really mean less than one percent",
                      hint="percent metrics take percent points: 85 means 85 %")


def _yes_no(number: Decimal, read: Read) -> None:
    if number not in (0, 1):
        raise Invalid(f"`{read.text}` is not yes or no: this is a yes/no metric, record yes or no (or 1 or 0)")


UNITS: dict[str, Unit] = {
    "number": Unit(magnitudes=True),
    "currency": Unit(magnitudes=True, currency=True),
    "percent": Unit(suffix="%", check=_percent),
    "minutes": Unit(suffix="min"),
    "yesno": Unit(check=_yes_no),
}


def parse_value(value: object, unit: str = "number", *, decimal_mark: str | None = None,
                goal: bool = False) -> Decimal:
    """The exact value of `value` (text as typed, or a number from JSON) for a metric of
    `unit`; `decimal_mark` is the org's ("." or ","), None when the org has not said.

    `goal=True` reads a goal's number: the unit's own questions are not asked (a goal's
    canonical text has no %), and any number that reads back the same from the stored float
    is taken (the chart file keeps goals as the float's shortest text, up to 17 digits)."""
    rule = UNITS.get(unit, UNITS["number"])
    if isinstance(value, bool):  # JSON true / false
        if unit != "yesno":
            raise Invalid(f"`{str(value).lower()}` is not a number: send the number")
        return Decimal(int(value))
    if isinstance(value, int):
        number, read = Decimal(value), Read(str(value))
    elif isinstance(value, float):
        # A JSON number, as the JSON reader gave it: repr is the shortest text that is this float.
        number, read = _decimal(repr(value), repr(value)), Read(repr(value))
    elif isinstance(value, Decimal):
        number, read = value, Read(str(value))
    elif isinstance(value, str):
        number, read = _from_text(value, unit, rule, decimal_mark)
    else:
        raise Invalid(f"`{str(value)[:40]}` is not a number")
    _check_size(number, read.text, goal)
    if rule.check is not None and not goal:
        rule.check(number, read)
    return number


def as_float(number: Decimal) -> float:
    """The stored form; exact for anything `parse_value` accepted (see the module note)."""
    return float(number)


# ---------------------------------------------------------------- text

def _from_text(raw: str, unit: str, rule: Unit, decimal_mark: str | None) -> tuple[Decimal, Read]:
    text = unicodedata.normalize("NFC", raw).strip()
    shown = text if len(text) <= 40 else text[:40] + "…"
    if not text:
        raise Invalid("the value is empty: type a number, like 42" + (" (or yes / no)" if unit == "yesno" else ""))
    if len(text) > MAX_TEXT or any(unicodedata.category(c) in ("Cc", "Cf") for c in text):
        raise Invalid(f"`{_printable(shown)}` is not a number: type digits, like 42 or 3.5")
    if unit == "yesno" and text.lower() in _YES:
        return Decimal(_YES[text.lower()]), Read(text)
    if text.lower().lstrip("+-\u2212") in ("nan", "inf", "infinity", "∞"):
        raise Invalid(f"`{shown}` is not a number the scorecard can keep: type a finite number, like 42")
    if _EXPONENT.match(text):
        return _decimal(text.strip().replace("E", "e"), shown), Read(text)
    m = _SHAPE.match(text)
    if m is None or not m["body"] or not any(c.isdigit() for c in m["body"]):
        raise Invalid(f"`{shown}` is not " + ("yes or no" if unit == "yesno" else "a number") +
                      ": type digits, like 42, 3.5 or 3,5" + (" (or yes / no)" if unit == "yesno" else ""))
    if m["sign1"] and m["sign2"]:
        raise Invalid(f"`{shown}` has two signs: type one, like -3")
    negative = (m["sign1"] or m["sign2"] or "+") != "+"
    _check_currency(m["cur1"], m["cur2"], rule, shown, m["body"].strip() + (m["mag"] or ""))
    suffix = m["suffix"].lower() if m["suffix"] else None
    if suffix is not None and suffix != rule.suffix:
        kind = "a percent" if suffix == "%" else "in minutes"
        raise Invalid(f"`{shown}`: this metric is not {kind} (its unit is {unit}): type the number alone, "
                      f"like {_plain(_digits(m['body'], decimal_mark, shown))}")
    scale = 1
    if m["mag"]:
        if not rule.magnitudes:
            raise Invalid(f"`{shown}`: a {unit} metric takes the number itself, not k / M / bn")
        if m["mag"] in ("m", "mm") and not rule.currency:
            raise Invalid(f"`{shown}`: m could be minutes or million: write {m['body'].strip()}M for a million")
        scale = MAGNITUDES[m["mag"].lower()]
    if decimal_mark is None and (m["cur1"] or m["cur2"]):
        decimal_mark = CONVENTION.get(CURRENCIES[(m["cur1"] or m["cur2"]).lower()])
    number = _digits(m["body"], decimal_mark, shown) * scale
    return (-number if negative else number), Read(text, suffix)


def _check_currency(before: str | None, after: str | None, rule: Unit, shown: str, amount: str) -> None:
    if before and after:
        raise Invalid(f"`{shown}` has two currency signs: type one, like $400")
    sign = before or after
    if sign is None:
        return
    if not rule.currency:
        raise Invalid(f"`{shown}` has a currency sign, but this metric is not money: type the number alone")
    if CURRENCIES[sign.lower()] != METRIC_CURRENCY:
        raise Invalid(f"`{shown}`: this metric is in {METRIC_CURRENCY}, not {CURRENCIES[sign.lower()]}: "
                      f"type the amount in {METRIC_CURRENCY} (like {METRIC_CURRENCY}{amount} if it is the same number)",
                      hint="the scorecard does not convert currencies")


def _digits(body: str, decimal_mark: str | None, shown: str) -> Decimal:
    """Digits with separators, read by the rules in the README (Values and the scorecard)."""
    body = body.strip()
    runs = re.split(r"([.,]|[" + GROUPING + r"]+)", body)
    digits, seps = runs[0::2], runs[1::2]
    if any(not run.isdigit() for run in digits[1:]) or (digits[0] and not digits[0].isdigit()):
        raise _not_one_number(shown)
    if not seps:
        return Decimal(body)
    kinds = [("g" if s[0] in GROUPING else s) for s in seps]
    marks = [k for k in kinds if k in DECIMAL_MARKS]
    decimal_at: int | None = None  # index into seps of the decimal mark, if any
    if len(set(marks)) == 2:
        last = marks[-1]
        if marks.count(last) != 1 or kinds[-1] != last:
            raise _not_one_number(shown)
        decimal_at = len(kinds) - 1
    elif len(marks) == 1:
        at = kinds.index(marks[0])
        if at != len(kinds) - 1:  # a grouping separator after the mark: 1,250 000
            raise _not_one_number(shown)
        after, before = digits[at + 1], digits[at]
        could_group = len(after) == 3 and 1 <= len(before) <= 3 and before != "0" and digits[0] != ""
        if not could_group or decimal_mark == marks[0]:
            decimal_at = at
        elif decimal_mark is None:
            whole = "".join(digits)
            point = _plain(Decimal("".join(digits[:at + 1]) + "." + after))
            first, second = (point, whole) if marks[0] == "." else (whole, point)
            raise Invalid(f"`{shown}` is ambiguous: did you mean {first} or {second}? Type {whole} without a "
                          f"separator, or {point} with a decimal point",
                          hint="an operator can set the org's `decimal_mark` in the chart file, so that "
                               "a lone , or . is read one way")
    integer = digits if decimal_at is None else digits[:decimal_at + 1]
    grouping = kinds if decimal_at is None else kinds[:decimal_at]
    if grouping:
        if len(set(grouping)) != 1 or not 1 <= len(integer[0]) <= 3 or any(len(g) != 3 for g in integer[1:]):
            raise _not_one_number(shown)
    text = "".join(integer) or "0"
    if decimal_at is not None:
        text += "." + digits[-1]
    return Decimal(text)


def _not_one_number(shown: str) -> Invalid:
    return Invalid(f"`{shown}` is not one number: write a decimal as 3.5 or 3,5, and thousands as "
                   "1250, 1,250.50, 1.250,50 or 12 500; record one value at a time")


# ---------------------------------------------------------------- checks and helpers

def _decimal(text: str, shown: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise Invalid(f"`{shown}` is not a number: type digits, like 42 or 3.5") from None
    return number


def _check_size(number: Decimal, shown: str, round_trip: bool = False) -> None:
    if not number.is_finite():
        raise Invalid(f"`{shown}` is not a number the scorecard can keep: type a finite number, like 42")
    if abs(number) >= LIMIT:
        raise Invalid(f"`{shown}` is too large: values are below 1,000,000,000,000,000 (10^15) in size")
    if round_trip:
        if Decimal(repr(float(number))) != number:
            raise Invalid(f"`{shown}` has more digits than the scorecard keeps exactly: "
                          f"round it, like {_plain(_round(number))}")
    elif number and len(number.normalize().as_tuple().digits) > MAX_DIGITS:
        raise Invalid(f"`{shown}` has more digits than the scorecard keeps exactly ({MAX_DIGITS}): "
                      f"round it, like {_plain(_round(number))}")


def _round(number: Decimal) -> Decimal:
    exponent = number.adjusted() - MAX_DIGITS + 1
    return number.quantize(Decimal(1).scaleb(exponent)) if exponent < 0 else number


def _plain(number: Decimal) -> str:
    """A Decimal as plain digits, no exponent, no trailing zeros."""
    text = format(number.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _printable(text: str) -> str:
    return "".join(c if unicodedata.category(c) not in ("Cc", "Cf") else "?" for c in text)


# ---------------------------------------------------------------- a value among words

_GROUPED = re.compile(rf"^[{MINUS}+]?\D{{0,3}}\d{{1,3}}( \d{{3}})*$")  # `12`, `$12 500`: a group may follow
_GROUP = re.compile(r"^\d{3}([.,]\d+)?(%|k|M|bn)?$")
_UNIT_WORD = re.compile(rf"^(%|min|k|M|bn|{_CURRENCY})$", re.IGNORECASE)


def split_value(words: list[str]) -> tuple[str, list[str]]:
    """The value at the head of `words` (a command's arguments split on spaces) and the words
    after it. `12 500` and `85 %` are one value: a three-digit group after a number that could
    continue, or a lone %, currency or magnitude word, is read as part of it. (A note that
    starts with such a word is quoted: `kpi calls 12 "500 more than last week"`.)"""
    value, rest = words[0], list(words[1:])
    while rest:
        word = rest[0]
        if _GROUP.match(word) and _GROUPED.match(value):
            value += " " + word
        elif _UNIT_WORD.match(word) and value[-1:].isdigit():
            value += " " + word
        else:
            break
        rest.pop(0)
    return value, rest
