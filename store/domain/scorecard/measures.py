"""What a metric measures: its kind, the unit it is shown in, and its currency.

A metric has a **kind** (what the scorecard can do with its numbers) and a **display unit**
(the word people use for it). The chart file takes what an ops lead types: `unit: days`,
`unit: hours`, `unit: NPS`, `unit: ratio`, `unit: €`, `unit: calls`; `read_measure` turns
that into a `Measure`, and `compact` turns a `Measure` back into the shortest chart words
that read the same (so an exported chart re-imports as "no changes").

- number: a plain number, with an optional word after it (`12 calls`; `ratio` is a
  description, not a thing counted, and is not repeated after the number).
- percent: percent points (`85` is 85 %).
- currency: money in one ISO 4217 currency (the org's `currency`, default USD, or the
  metric's own); shown with that currency's symbol; another currency is refused.
- duration: a length of time, stored in minutes (the base unit, so the old `minutes`
  values stay as they are and changing a metric from hours to days relabels nothing) and
  shown in the metric's unit (seconds, minutes, hours, days or weeks). A number of days such
  as days sales outstanding is a duration too: `32` on a `days` metric is 32 days.
- yesno: 1 or 0.
- score: a number on a scale of its own (`NPS 45`); NPS is checked to run from -100 to 100.

Currency symbols and the list of currencies come from babel (CLDR data), shown as English
speakers write them: `$`, `€`, `£`, `CA$`, `CHF`.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from decimal import Decimal, localcontext
from typing import Any, NamedTuple

from babel.numbers import get_currency_symbol, list_currencies

from otp_bot.store.models.base import METRIC_KINDS as KINDS
from otp_bot.store.models.base import MetricKind

DEFAULT_CURRENCY = "USD"
MAX_UNIT = 32

# Durations: minutes per display unit (seconds are the one unit below the base).
MINUTES = {
    "seconds": Decimal(1) / 60,
    "minutes": Decimal(1),
    "hours": Decimal(60),
    "days": Decimal(1440),
    "weeks": Decimal(10080),
}
TIME_WORDS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "seconds"),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "weeks"),
}
_SHOWN = {
    "seconds": ("s", "s"),
    "minutes": ("min", "min"),
    "hours": ("h", "h"),
    "days": ("day", "days"),
    "weeks": ("week", "weeks"),
}
# In a value (not in a chart file), `m` after a number on a duration is minutes: `1h30m`.
VALUE_TIME_WORDS = {**TIME_WORDS, "m": "minutes"}

KIND_WORDS: dict[str, MetricKind] = {
    "number": "number",
    "count": "number",
    "counts": "number",
    "#": "number",
    "percent": "percent",
    "%": "percent",
    "pct": "percent",
    "percentage": "percent",
    "currency": "currency",
    "money": "currency",
    "duration": "duration",
    "time": "duration",
    "yesno": "yesno",
    "yes/no": "yesno",
    "bool": "yesno",
    "boolean": "yesno",
    "score": "score",
}
SCORES = {"nps": "NPS", "enps": "eNPS", "csat": "CSAT", "ces": "CES"}
SCALES = {"NPS": (-100, 100), "eNPS": (-100, 100)}
DESCRIPTIONS = {"ratio", "index", "rate"}  # words that describe a number rather than name what it counts
# Ways to write a currency that are not its code or its English symbol.
CURRENCY_ALIASES = {
    "us$": "USD",
    "c$": "CAD",
    "rmb": "CNY",
    "元": "CNY",
    "sfr": "CHF",
    "euro": "EUR",
    "euros": "EUR",
    "yen": "JPY",
}
DOLLARS = ("dollar", "dollars")  # as shared as `$`
# Codes that are also words (`cup`, `pen`, `top`, `all`): in lower case, a unit is read as a
# currency code only if it is one of these widely used ones; `CUP` in capitals is the code.
# (SIM905: as a list literal the 33 codes are formatted one a line; as words they read on two.)
LOWER_CASE_CODES = frozenset(
    "usd eur gbp jpy cny chf cad aud nzd inr sek nok dkk pln czk huf brl mxn zar sgd hkd krw ils aed sar twd thb "  # noqa: SIM905
    "idr php myr ars clp cop".split()
)


class Measure(NamedTuple):
    kind: MetricKind = "number"
    unit: str | None = None  # the display unit: a time unit for durations, free text for number and score
    currency: str | None = None  # an ISO 4217 code, for currency metrics only


# The units before kinds existed, still accepted wherever a unit name is given.
LEGACY = {
    "number": Measure(),
    "percent": Measure("percent"),
    "currency": Measure("currency", None, "USD"),
    "minutes": Measure("duration", "minutes"),
    "yesno": Measure("yesno"),
}


def as_measure(unit: Measure | str | None) -> Measure:
    if isinstance(unit, Measure):
        return unit
    return LEGACY.get(unit or "number", Measure())


def measure_of(metric: Any) -> Measure:
    """A metric's measure: from the ORM row, its plain columns, or anything with the three."""
    return Measure(metric.kind, metric.unit, metric.currency)


def describe(measure: Measure) -> str:
    """What the metric is in, for messages: `a number`, `calls`, `€ (EUR)`, `days`."""
    m = measure
    if m.kind == "currency":
        return f"{symbol(m.currency)} ({m.currency})" if symbol(m.currency) != m.currency else m.currency
    if m.kind == "duration":
        return m.unit or "minutes"
    if m.kind in ("number", "score") and m.unit:
        return m.unit
    return {"number": "a number", "percent": "a percent", "yesno": "yes or no", "score": "a score"}[m.kind]


# ---------------------------------------------------------------- currencies


@functools.cache
def currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@functools.cache
def symbol(code: str) -> str:
    return get_currency_symbol(code, "en")


@functools.cache
def _tokens() -> dict[str, frozenset[str]]:
    """Every way of writing a currency, lower case → the codes it may stand for."""
    found: dict[str, set[str]] = {}
    for code in currencies():
        sign = symbol(code)
        narrow = re.sub(r"^[A-Za-z]+", "", sign)  # CA$ is also written $
        for token in {code, sign, narrow if narrow and all(unicodedata.category(c) == "Sc" for c in narrow) else code}:
            found.setdefault(token.lower(), set()).add(code)
    for token, code in CURRENCY_ALIASES.items():
        found.setdefault(token, set()).add(code)
    for word in DOLLARS:
        found[word] = found["$"]
    return {token: frozenset(codes) for token, codes in found.items()}


def is_currency_token(text: str) -> bool:
    return text.strip().lower() in _tokens()


def currency_of(token: str, wanted: str | None = None, org: str | None = None) -> str | None:
    """The currency `token` stands for; `wanted` (a metric's) when it may mean it. A sign
    shared by several currencies (`$`, `¥`) means the metric's currency only where that is
    also the org's own: `$400` on a CAD metric of a Canadian org; elsewhere it means the
    currency whose symbol it is (`$`: USD). None: not a currency at all."""
    low = token.strip().lower()
    codes = _tokens().get(low)
    if not codes:
        return None
    exact = [c for c in codes if low in (c.lower(), symbol(c).lower()) or CURRENCY_ALIASES.get(low) == c]
    if wanted in exact or (wanted in codes and (len(codes) == 1 or wanted == org)):
        return wanted
    if len(exact) == 1:
        return exact[0]
    return sorted(codes)[0] if len(codes) == 1 else token.strip()


def currency_code(text: str, org: str = DEFAULT_CURRENCY) -> str:
    """An ISO code from what a chart file says (`EUR`, `eur`, `€`); ValueError otherwise."""
    code = currency_of(text, org, org)
    if code not in currencies():
        raise ValueError(f"unknown currency {text!r}; write its ISO code, like USD, EUR or GBP")
    return code


# ---------------------------------------------------------------- the chart file's words


def read_measure(
    unit: str | None, kind: str | None = None, currency: str | None = None, org_currency: str = DEFAULT_CURRENCY
) -> Measure:
    """The measure a chart file's `unit`, `kind` and `currency` describe; ValueError says what is wrong."""
    word = " ".join(str(unit).split()) if unit is not None else ""
    if len(word) > MAX_UNIT:
        raise ValueError(f"a unit is at most {MAX_UNIT} characters; {word[:40]!r} is longer")
    code = currency_code(str(currency), org_currency) if currency is not None else None
    if kind is None:
        found = _infer(word, org_currency)
        if code is not None:
            if found.kind == "number" and not word:
                found = Measure("currency", None, code)
            elif found.kind != "currency":
                raise ValueError(
                    f"`currency: {currency}` is for money, and unit {word!r} is not: "
                    "drop `currency`, or write `unit: currency`"
                )
            elif found.currency != code and word.lower() not in ("currency", "money"):
                raise ValueError(f"unit {word!r} is {found.currency} but `currency` says {code}: write one of them")
            else:
                found = found._replace(currency=code)
        return found
    named = KIND_WORDS.get(str(kind).strip().lower())
    if named is None:
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    low = word.lower()
    if code is not None and named != "currency":
        raise ValueError(f"`currency` is for money, and this metric's kind is {named}")
    if named == "currency":
        inferred = _infer(word, org_currency)
        if word and inferred.kind != "currency":
            raise ValueError(f"unit {word!r} is not a currency; write a code like EUR or a symbol like €")
        from_unit = inferred.currency if word and low not in ("currency", "money") else None
        if code and from_unit and code != from_unit:
            raise ValueError(f"unit {word!r} is {from_unit} but `currency` says {code}: write one of them")
        return Measure("currency", None, code or from_unit or org_currency)
    if named == "duration":
        if low not in TIME_WORDS:
            raise ValueError(
                f"a duration is shown in seconds, minutes, hours, days or weeks; {word or 'no unit'!r} is none of them"
                if word
                else "a duration needs its unit: seconds, minutes, hours, days or weeks (like `unit: hours`)"
            )
        return Measure("duration", TIME_WORDS[low])
    if named in ("percent", "yesno"):
        if word and KIND_WORDS.get(low) != named:
            raise ValueError(f"a {named} metric has no unit of its own; drop `unit: {word}`")
        return Measure("percent" if named == "percent" else "yesno")
    if named == "score":
        return Measure("score", SCORES.get(low, word) if low not in ("", "score") else None)
    return Measure("number", None if KIND_WORDS.get(low, "") == "number" or not low else word)


def _infer(word: str, org_currency: str) -> Measure:
    low = word.lower()
    if not low:
        return Measure()
    if low in TIME_WORDS:
        return Measure("duration", TIME_WORDS[low])
    if low in KIND_WORDS:
        kind = KIND_WORDS[low]
        if kind == "duration":
            raise ValueError(f"say which unit the {low} is shown in: seconds, minutes, hours, days or weeks")
        return Measure(kind, None, org_currency if kind == "currency" else None)
    if low in SCORES:
        return Measure("score", SCORES[low])
    code = currency_of(word, org_currency, org_currency)
    if code in currencies() and not (
        word.isalpha() and not word.isupper() and low not in (LOWER_CASE_CODES | set(CURRENCY_ALIASES) | set(DOLLARS))
    ):
        return Measure("currency", None, code)
    if len(low) > 2 and (meant := difflib.get_close_matches(low, _KNOWN, n=1, cutoff=0.8)):
        # A misspelt kind would otherwise be a count of `percnt`: silently wrong.
        raise ValueError(f"unit {word!r}: did you mean {meant[0]!r}? (to count {word}, write `kind: number`)")
    return Measure("number", word)


_KNOWN = sorted({w for w in (*TIME_WORDS, *KIND_WORDS, *SCORES, *CURRENCY_ALIASES) if len(w) > 2})


def compact(measure: Measure, org_currency: str = DEFAULT_CURRENCY) -> dict[str, str]:
    """The fewest chart-file keys that read back as `measure`: `{unit: days}`, `{unit: EUR}`,
    `{kind: number, unit: days}` where `days` alone would mean a duration."""
    m = measure
    unit = {"percent": "percent", "yesno": "yesno"}.get(m.kind, m.unit)
    if m.kind == "currency":
        unit = "currency" if m.currency == org_currency else m.currency
    tries: list[dict[str, str]] = [
        {},
        {"unit": unit} if unit else {},
        {"kind": m.kind, **({"unit": m.unit} if m.unit else {})},
    ]
    for keys in tries:
        try:
            if read_measure(keys.get("unit"), keys.get("kind"), None, org_currency) == m:
                return keys
        except ValueError:
            continue
    return {"kind": m.kind, **({"unit": m.unit} if m.unit else {}), **({"currency": m.currency} if m.currency else {})}


# ---------------------------------------------------------------- base and display units


def to_base(number: Decimal, measure: Measure) -> Decimal:
    """A number in the metric's display unit as stored (durations: minutes). A conversion that
    does not come out exact in minutes (seconds: 10 s is 1/6 min) is the nearest stored value."""
    if measure.kind != "duration":
        return number
    return minutes(number * MINUTES[measure.unit or "minutes"])


def minutes(exact: Decimal) -> Decimal:
    """Minutes as the store keeps them: the double nearest the exact value, as a Decimal."""
    with localcontext() as ctx:
        ctx.prec = 40
        return Decimal(repr(float(+exact)))


def from_base(value: float, measure: Measure) -> float:
    """A stored value in the metric's display unit: what people type and read."""
    if measure.kind != "duration" or measure.unit in (None, "minutes"):
        return value
    return float(Decimal(value) / MINUTES[measure.unit])


def shortest(value: float, measure: Measure) -> Decimal:
    """The shortest number in the display unit that is stored as exactly `value`."""
    if measure.kind != "duration" or measure.unit in (None, "minutes"):
        return Decimal(repr(value))
    exact = Decimal(value) / MINUTES[measure.unit]
    for digits in range(1, 18):
        candidate = round(exact, digits - exact.adjusted() - 1)
        if float(to_base(candidate, measure)) == value:
            return candidate.normalize()
    return exact


# ---------------------------------------------------------------- showing a value


def format_value(value: float | None, unit: Measure | str) -> str:
    """A stored value as people read it: `85%`, `€1.2M`, `32 days`, `NPS 45`, `12 calls`."""
    if value is None:
        return "—"
    m = as_measure(unit)
    if m.kind == "yesno":
        return "yes" if value >= 0.5 else "no"
    if m.kind == "percent":
        return f"{_number(value)}%"
    if m.kind == "currency":
        sign = symbol(m.currency or DEFAULT_CURRENCY)
        gap = " " if sign[-1].isalpha() else ""
        return f"{'-' if value < 0 else ''}{sign}{gap}{_large(abs(value)) or _number(abs(value))}"
    if m.kind == "duration":
        shown = from_base(value, m)
        one, many = _SHOWN[m.unit or "minutes"]
        return f"{_number(shown)} {one if shown == 1 else many}"
    if m.kind == "score" and m.unit in SCORES.values():  # NPS 45; a scale of your own reads 4.5 stars
        return f"{m.unit} {_number(value)}"
    if m.unit and m.unit.lower() not in DESCRIPTIONS:
        singular = value == 1 and len(m.unit) > 3 and m.unit.endswith("s") and not m.unit.endswith("ss")
        return f"{_number(value)} {m.unit[:-1] if singular else m.unit}"  # 1 call, 2 calls
    return _number(value)


def _number(value: float) -> str:
    if float(value).is_integer() or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _large(value: float) -> str | None:
    """Money of a million or more, shortened where that loses nothing: 1,200,000 is 1.2M."""
    for size, word in ((10**9, "bn"), (10**6, "M")):
        if value >= size:
            scaled = Decimal(repr(value)) / size
            if scaled == round(scaled, 2):
                return f"{_number(float(scaled))}{word}"
            return None
    return None
