"""Quarters and review weeks as people name them: `2026-Q4`, and a week by its Monday."""

from __future__ import annotations

import datetime as dt
import re

from otp_bot.store.domain.errors import Invalid

QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


def quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter_bounds(label: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a quarter named like `2026-Q4` (or `2026Q4`, `2026-q4`)."""
    found = QUARTER.match(label.strip())
    if found is None:
        raise Invalid(f"`{label[:40]}` is not a quarter", hint="name it like 2026-Q4")
    year, q = int(found.group(1)), int(found.group(2))
    first = dt.date(year, 3 * q - 2, 1)
    after = dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return first, after - dt.timedelta(days=1)


def normal_quarter(label: str) -> str:
    """A quarter label in its one stored form (`2026-Q4`)."""
    first, _ = quarter_bounds(label)
    return quarter_of(first)


def week_of(day: dt.date) -> dt.date:
    """The Monday of the week `day` is in: a review is for a week."""
    return day - dt.timedelta(days=day.weekday())
