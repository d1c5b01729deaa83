"""Reading a value as people and agents write it: exactly, or not at all.

Every surface (Slack, the CLI, the API, MCP) hands what it was given to `parse_value` and
gets back an exact `Decimal` or an `Invalid` that says what to type instead. Nothing is
guessed: a separator that could be a thousands separator or a decimal mark (`1,250`) is
read only when the org set its decimal mark in the chart file; a fraction on a percent
metric (`0.85`) is questioned; a currency that is not the metric's is refused.

The stored column is a float, so a value must survive that: at most 15 significant digits
(what a double keeps exactly) and below 10^15 in size.

What each kind of metric accepts (see measures) is one entry in `RULES` (a sign after the
number, magnitude words, currency, a check of its own): a new kind is a new entry, not a new
parser. A value is returned in the metric's base unit: a duration typed `1.5 h` is 90 minutes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.scorecard import measures
from otp_bot.store.domain.scorecard.measures import (
    Measure,
    as_measure,
    currency_of,
    describe,
    is_currency_token,
    symbol,
)
from otp_bot.store.domain.scorecard.value_digits import GROUPING, plain, read_digits

MAX_DIGITS = 15  # significant digits a double keeps exactly (DBL_DIG)
LIMIT = Decimal(10) ** 15  # values are below this in size
SMALLEST = Decimal(10) ** -9  # and, unless zero, at least this: a double keeps them exactly to 15 digits
MAX_TEXT = 100

# The decimal mark a currency implies where the org set none: `$12,000` is twelve thousand
# dollars. (Only the metric's own currency gets this far.)
CONVENTION = {"USD": "."}
# Magnitude words after the number, in lower case. A lone lower-case m is read as million
# only on money (`$2.5m`): elsewhere it could as well be minutes.
MAGNITUDES = {"k": 1_000, "m": 1_000_000, "mm": 1_000_000, "bn": 1_000_000_000, "b": 1_000_000_000}
MINUS = "-\u2212\ufe63\uff0d"  # hyphen-minus, minus sign, small and full-width hyphen-minus
_YES = {"yes": 1, "y": 1, "true": 1, "done": 1, "no": 0, "n": 0, "false": 0}

_SHAPE = re.compile(
    rf"^(?P<sign1>[{MINUS}+])?\s*(?P<head>[^{MINUS}\d\s+.,]+)?\s*(?P<sign2>[{MINUS}+])?\s*"
    rf"(?P<body>[0-9.,{GROUPING}]*?)\s*(?P<tail>[^{MINUS}\d+.,]*?)\s*$",
)
_MAGNITUDE = re.compile(r"^(?P<mag>k|mm|m|bn|b)(?![^\W\d_])\s*(?P<rest>.*)$", re.IGNORECASE)
_EXPONENT = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)[eE][-+]?\d{1,4}\s*$")
_NUMBER = r"(?:\d[\d.,]*|[.,]\d+)"
_TIME = re.compile(rf"^(?P<sign>[{MINUS}+])?\s*(?P<parts>(?:{_NUMBER}\s*[^\W\d_]+\s*)+(?:{_NUMBER})?)\s*$")
_TIME_PART = re.compile(rf"({_NUMBER})\s*([^\W\d_]+)?")
_SMALLER = {"weeks": "days", "days": "hours", "hours": "minutes", "minutes": "seconds"}  # 1h30 is 1 h 30 min


@dataclass(frozen=True)
class Rule:
    """What a kind of metric accepts beyond a plain number."""

    suffix: str | None = None  # a sign after the number that confirms the kind: %
    magnitudes: bool = False  # 5k, 1.2M, 3bn
    currency: bool = False  # a currency sign, which must be the metric's
    check: Callable[[Decimal, Read, Measure], None] | None = None  # questions only this kind asks


@dataclass(frozen=True)
class Read:
    """What the text said besides its digits."""

    text: str
    suffix: str | None = None  # %, or the metric's own unit, when written


def _percent(number: Decimal, read: Read, measure: Measure) -> None:
    if read.suffix is None and 0 < number < 1:  # -0.5 on a percent metric is a plain change
        shown = plain(number * 100)
        raise Invalid(
            f"`{read.text}` on a percent metric: did you mean {shown} %? "
            f"Type {shown}, or {plain(number)}% if you really mean less than one percent",
            hint="percent metrics take percent points: 85 means 85 %",
        )


def _yes_no(number: Decimal, read: Read, measure: Measure) -> None:
    if number not in (0, 1):
        raise Invalid(f"`{read.text}` is not yes or no: this is a yes/no metric, record yes or no (or 1 or 0)")


def _on_scale(number: Decimal, read: Read, measure: Measure) -> None:
    scale = measures.SCALES.get(measure.unit or "")
    if scale is None:
        return
    low, high = scale
    if not low <= number <= high:
        raise Invalid(f"`{read.text}` is not an {measure.unit}: an {measure.unit} runs from {low} to {high}")


RULES: dict[str, Rule] = {
    "number": Rule(magnitudes=True),
    "currency": Rule(magnitudes=True, currency=True),
    "percent": Rule(suffix="%", check=_percent),
    "duration": Rule(),
    "yesno": Rule(check=_yes_no),
    "score": Rule(check=_on_scale),
}


def parse_value(
    value: object,
    unit: Measure | str = "number",
    *,
    decimal_mark: str | None = None,
    goal: bool = False,
    org_currency: str | None = None,
) -> Decimal:
    """The exact value of `value` (text as typed, or a number from JSON) for a metric that
    measures `unit` (a `Measure`, or an old unit name), as stored: in the metric's base unit
    (a duration in minutes). `decimal_mark` is the org's ("." or ","), None when the org has
    not said; `org_currency` the org's currency, which a shared sign like `$` stands for.

    `goal=True` reads a goal's number: the kind's own questions are not asked (a goal's
    canonical text has no %), and any number that reads back the same from the stored float
    is taken (the chart file keeps goals as the float's shortest text, up to 17 digits)."""
    measure = as_measure(unit)
    rule = RULES[measure.kind]
    if isinstance(value, bool):  # JSON true / false
        if measure.kind != "yesno":
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
        if measure.kind == "duration" and (minutes := _duration(value, measure, decimal_mark, goal)) is not None:
            return minutes
        number, read = _from_text(value, measure, rule, decimal_mark, org_currency)
    else:
        raise Invalid(f"`{str(value)[:40]}` is not a number")
    _check_size(number, read.text, goal)
    if rule.check is not None and (not goal or measure.kind == "score"):  # a goal off the scale is a typo too
        rule.check(number, read, measure)
    return measures.to_base(number, measure)


def as_float(number: Decimal) -> float:
    """The stored form; exact for anything `parse_value` accepted (see the module note)."""
    return float(number)


# ---------------------------------------------------------------- text


def _from_text(
    raw: str, measure: Measure, rule: Rule, decimal_mark: str | None, org_currency: str | None
) -> tuple[Decimal, Read]:
    yesno = measure.kind == "yesno"
    text = unicodedata.normalize("NFC", raw).strip()
    shown = text if len(text) <= 40 else text[:40] + "…"
    if not text:
        raise Invalid("the value is empty: type a number, like 42" + (" (or yes / no)" if yesno else ""))
    if len(text) > MAX_TEXT or any(unicodedata.category(c) in ("Cc", "Cf") for c in text):
        raise Invalid(f"`{_printable(shown)}` is not a number: type digits, like 42 or 3.5")
    if yesno and text.lower() in _YES:
        return Decimal(_YES[text.lower()]), Read(text)
    if text.lower().lstrip("+-\u2212") in ("nan", "inf", "infinity", "∞"):
        raise Invalid(f"`{shown}` is not a number the scorecard can keep: type a finite number, like 42")
    if _EXPONENT.match(text):
        return _decimal(text.strip().replace("E", "e"), shown), Read(text)
    m = _SHAPE.match(text)
    if m is None or not m["body"] or not any(c.isdigit() for c in m["body"]):
        raise Invalid(
            f"`{shown}` is not "
            + ("yes or no" if yesno else "a number")
            + ": type digits, like 42, 3.5 or 3,5"
            + (" (or yes / no)" if yesno else "")
        )
    if m["sign1"] and m["sign2"]:
        raise Invalid(f"`{shown}` has two signs: type one, like -3")
    negative = (m["sign1"] or m["sign2"] or "+") != "+"
    body = m["body"].strip()
    head, suffix, mag, before, after = m["head"], None, None, None, None
    if head is not None:
        if own_unit(head, measure):
            suffix = "unit"
        elif is_currency_token(head):
            before = head
        else:
            raise Invalid(f"`{shown}` is not a number: type digits, like 42, 3.5 or 3,5")
    tail = m["tail"].strip()
    if tail == "%" or own_unit(tail, measure):
        suffix = "%" if tail == "%" else "unit"
    elif tail:
        found = _MAGNITUDE.match(tail)
        rest = found["rest"].strip() if found else tail
        mag = found["mag"] if found else None
        if rest and is_currency_token(rest):
            after = rest
        elif rest:
            raise _not_its_unit(shown, rest, measure, plain(read_digits(body, decimal_mark, shown)))
    _check_currency(before, after, measure, rule, shown, body + (mag or ""), org_currency)
    if suffix == "%" and rule.suffix != "%":
        raise _not_its_unit(shown, "%", measure, plain(read_digits(body, decimal_mark, shown)))
    scale = 1
    if mag:
        if not rule.magnitudes:
            raise Invalid(f"`{shown}`: a {describe(measure)} metric takes the number itself, not k / M / bn")
        if mag in ("m", "mm") and not rule.currency:
            raise Invalid(f"`{shown}`: m could be minutes or million: write {body}M for a million")
        scale = MAGNITUDES[mag.lower()]
    if decimal_mark is None and (before or after):
        decimal_mark = CONVENTION.get(measure.currency or "")
    number = read_digits(body, decimal_mark, shown) * scale
    return (-number if negative else number), Read(text, suffix)


def own_unit(word: str, measure: Measure) -> bool:
    """`calls` or `call` on a metric of calls, `NPS` on an NPS, `%` never (that is the percent's)."""
    unit = (measure.unit or "").casefold()
    low = word.strip().casefold()
    return bool(unit) and measure.kind != "duration" and low in (unit, unit + "s", unit.removesuffix("s"))


def _not_its_unit(shown: str, word: str, measure: Measure, number: str) -> Invalid:
    low = word.lower()
    if low in measures.VALUE_TIME_WORDS and measure.kind != "duration":
        what = "a duration"
    elif word == "%":
        what = "a percent"
    else:
        what = f"in {word}"
    return Invalid(
        f"`{shown}`: this metric is not {what} (it is {describe(measure)}): type the number alone, like {number}"
    )


def _check_currency(
    before: str | None,
    after: str | None,
    measure: Measure,
    rule: Rule,
    shown: str,
    amount: str,
    org_currency: str | None,
) -> None:
    if before and after:
        raise Invalid(f"`{shown}` has two currency signs: type one, like $400")
    sign = before or after
    if sign is None:
        return
    if not rule.currency:
        raise Invalid(f"`{shown}` has a currency sign, but this metric is not money: type the number alone")
    code = measure.currency or measures.DEFAULT_CURRENCY
    typed = currency_of(sign, code, org_currency or code)
    if typed != code:
        mine = symbol(code)
        theirs = symbol(typed) if typed in measures.currencies() else sign
        raise Invalid(
            f"`{shown}`: this metric is in {mine}, not {theirs}: type the amount in {mine} "
            f"(like {mine}{amount} if it is the same number)",
            hint="the scorecard does not convert currencies",
        )


def _duration(raw: str, measure: Measure, decimal_mark: str | None, goal: bool) -> Decimal | None:
    """`90 min`, `1.5 h`, `2 d`, `1h30`, `1 h 30 min` as minutes; None for a number without words."""
    text = unicodedata.normalize("NFC", raw).strip()
    m = _TIME.match(text)
    if m is None:
        return None
    total, unit, last = Decimal(0), None, None
    for number, word in _TIME_PART.findall(m["parts"]):
        if word:
            unit = measures.VALUE_TIME_WORDS.get(word if word == "m" else word.lower())  # M is a million
            if unit is None:
                if word.lower() in MAGNITUDES:
                    raise Invalid(f"`{text}`: a duration takes the number itself, not k / M / bn")
                raise Invalid(f"`{text}`: {word!r} is not a unit of time: write it like 90 min, 1.5 h or 2 d")
        else:  # the number after `1h`: the next smaller unit
            unit = _SMALLER.get(last or "")
            if unit is None:
                raise Invalid(f"`{text}`: say the unit of {number}, like 1 h 30 min")
        if last is not None and list(measures.MINUTES).index(unit) >= list(measures.MINUTES).index(last):
            raise Invalid(f"`{text}`: write the larger unit first, each once, like 1 d 4 h or 1 h 30 min")
        part = read_digits(number, decimal_mark, text)
        _check_size(part, text, goal)
        total += part * measures.MINUTES[unit]
        last = unit
    sign = -1 if (m["sign"] or "+") != "+" else 1
    return measures.minutes(sign * total)


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
    if number and abs(number) < SMALLEST:
        raise Invalid(
            f"`{shown}` is too small to keep exactly: values other than 0 are at least 0.000000001 in size",
            hint="round it to 0, or record it in a larger unit",
        )
    if round_trip:
        if Decimal(repr(float(number))) != number:
            raise Invalid(
                f"`{shown}` has more digits than the scorecard keeps exactly: round it, like {plain(_round(number))}"
            )
    elif number and len(number.normalize().as_tuple().digits) > MAX_DIGITS:
        raise Invalid(
            f"`{shown}` has more digits than the scorecard keeps exactly ({MAX_DIGITS}): "
            f"round it, like {plain(_round(number))}"
        )


def _round(number: Decimal) -> Decimal:
    exponent = number.adjusted() - MAX_DIGITS + 1
    return number.quantize(Decimal(1).scaleb(exponent)) if exponent < 0 else number


def _printable(text: str) -> str:
    return "".join(c if unicodedata.category(c) not in ("Cc", "Cf") else "?" for c in text)
