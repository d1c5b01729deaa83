"""Reporting periods. A period is named by its first day: a Monday, the 1st of a month, the
first day of a quarter (1 January, 1 April, 1 July, 1 October) or 1 January of a year."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.review.quarters import QUARTER, quarter_of

# Months in a period of each cadence longer than a week.
_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}
# What one period is called, in words (`missed 2 of the last 3 quarters`).
UNIT = {"weekly": "week", "monthly": "month", "quarterly": "quarter", "annual": "year"}
# About how many weeks a period of each cadence spans: how many periods a window of weeks shows.
WEEKS = {"weekly": 1, "monthly": 4, "quarterly": 13, "annual": 52}
# How long each cadence's period is, finest first: a label names a period at least this long.
_ORDER = ("weekly", "monthly", "quarterly", "annual")


def today(timezone: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(timezone)).date()


def period_start(day: dt.date, cadence: str) -> dt.date:
    months = _MONTHS.get(cadence)
    if months is None:
        return day - dt.timedelta(days=day.weekday())
    return day.replace(month=(day.month - 1) // months * months + 1, day=1)


def shift(start: dt.date, cadence: str, n: int) -> dt.date:
    """The period `n` periods after (n < 0: before) the one starting at `start`."""
    months = _MONTHS.get(cadence)
    if months is None:
        return start + dt.timedelta(weeks=n)
    total = start.year * 12 + start.month - 1 + n * months
    return dt.date(total // 12, total % 12 + 1, 1)


def between(first: dt.date, current: dt.date, cadence: str) -> int:
    """Whole periods after the one starting at `first` and before the one at `current`."""
    months = _MONTHS.get(cadence)
    if months is None:
        return max(0, (current - first).days // 7 - 1)
    return max(0, ((current.year - first.year) * 12 + current.month - first.month) // months - 1)


def window(current: dt.date, cadence: str, count: int) -> list[dt.date]:
    """The last `count` periods, oldest first, ending with the one containing `current`."""
    last = period_start(current, cadence)
    return [shift(last, cadence, -i) for i in range(count - 1, -1, -1)]


def label(start: dt.date, cadence: str) -> str:
    if cadence == "annual":
        return f"{start.year}"
    if cadence == "quarterly":
        return quarter_of(start)
    if cadence == "monthly":
        return start.strftime("%Y-%m")
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


def parse(text: str, cadence: str, timezone: str) -> dt.date:
    """Accept `2026-W47`, `2026-11`, `2026-Q4`, `2026`, an ISO date inside the period, `this`/`last`.
    A quarter or a year names a period only of a cadence at least that long: on a weekly
    metric `2026-Q4` would be a guess at one of thirteen weeks."""
    raw = text.strip().lower()
    if raw in ("", "this", "current", "now"):
        return period_start(today(timezone), cadence)
    if raw in ("last", "previous", "prev"):
        return shift(period_start(today(timezone), cadence), cadence, -1)
    if m := _WEEK.match(raw):
        try:
            day = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
        except ValueError:
            raise Invalid(f"`{text}` is not a week: weeks run from W01 to W52 or W53") from None
        return period_start(day, cadence)
    if m := _MONTH.match(raw):
        month = int(m[2])
        if not 1 <= month <= 12:
            raise Invalid(f"`{text}` is not a month")
        return (
            dt.date(int(m[1]), month, 1)
            if cadence == "monthly"
            else period_start(dt.date(int(m[1]), month, 1), cadence)
        )
    if m := QUARTER.match(raw):
        _at_least(text, "quarterly", cadence)
        return period_start(dt.date(int(m[1]), 3 * int(m[2]) - 2, 1), cadence)
    if m := _YEAR.match(raw):
        _at_least(text, "annual", cadence)
        return dt.date(int(m[1]), 1, 1)
    try:
        return period_start(dt.date.fromisoformat(raw), cadence)
    except ValueError:
        raise Invalid(
            f"`{text}` is not a period: use {example(cadence)}, a date, or `last`",
        ) from None


def example(cadence: str) -> str:
    """How a period of `cadence` is named, in words for a hint."""
    return {
        "weekly": "a week like 2026-W47",
        "monthly": "a month like 2026-11",
        "quarterly": "a quarter like 2026-Q4",
        "annual": "a year like 2026",
    }.get(cadence, "a week like 2026-W47, a month like 2026-11")


def _at_least(text: str, named: str, cadence: str) -> None:
    if _ORDER.index(cadence if cadence in _ORDER else "weekly") < _ORDER.index(named):
        raise Invalid(
            f"`{text}` is a {UNIT[named]}, and this metric is {cadence}: name one {UNIT.get(cadence, 'week')}",
            hint=f"use {example(cadence)}",
        )
