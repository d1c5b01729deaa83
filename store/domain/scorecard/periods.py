"""Reporting periods. A period is named by its first day: a Monday, or the 1st of a month."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from otp_bot.store.domain.errors import Invalid


def today(timezone: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(timezone)).date()


def period_start(day: dt.date, cadence: str) -> dt.date:
    if cadence == "monthly":
        return day.replace(day=1)
    return day - dt.timedelta(days=day.weekday())


def shift(start: dt.date, cadence: str, n: int) -> dt.date:
    """The period `n` periods after (n < 0: before) the one starting at `start`."""
    if cadence == "monthly":
        months = start.year * 12 + start.month - 1 + n
        return dt.date(months // 12, months % 12 + 1, 1)
    return start + dt.timedelta(weeks=n)


def window(current: dt.date, cadence: str, count: int) -> list[dt.date]:
    """The last `count` periods, oldest first, ending with the one containing `current`."""
    last = period_start(current, cadence)
    return [shift(last, cadence, -i) for i in range(count - 1, -1, -1)]


def label(start: dt.date, cadence: str) -> str:
    if cadence == "monthly":
        return start.strftime("%Y-%m")
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse(text: str, cadence: str, timezone: str) -> dt.date:
    """Accept `2026-W47`, `2026-11`, an ISO date inside the period, `this`/`last`."""
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
    try:
        return period_start(dt.date.fromisoformat(raw), cadence)
    except ValueError:
        raise Invalid(
            f"`{text}` is not a period: use a week like 2026-W47, a month like 2026-11, a date, or `last`"
        ) from None
