"""Cron expressions as people write them, read by APScheduler 3's CronTrigger.

One difference is bridged here: in cron, day-of-week 0 and 7 are Sunday and 1 is Monday,
while APScheduler counts from Monday = 0, so `1-5` would mean Tuesday to Saturday.
Numeric days are rewritten as names before APScheduler sees them. When both day fields
are set, a day must match both (APScheduler's rule; classic cron takes either).

Nothing here touches the database: the chart file validates with it, the domain plans
runs with it, and the scheduler fires with the very same trigger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # Python's weekday() order
_CRON_DAY = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


def _cron_day(text: str) -> int:
    """A day in cron's numbering (0 or 7 Sunday), from a number or a name."""
    word = text.strip().lower()[:3]
    if word in _CRON_DAY:
        return _CRON_DAY[word]
    if word.isdigit() and 0 <= int(word) <= 7:
        return int(word)
    raise ValueError(f"{text!r} is not a day of the week (0-7 or mon..sun)")


def _weekdays(field: str) -> set[int]:
    """The days a cron day-of-week field names, as Python weekdays (Monday 0)."""
    days: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        if (step_text and not step_text.isdigit()) or step_text == "0":
            raise ValueError(f"{part!r}: a step is a positive whole number")
        step = int(step_text or 1)
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            first, last = (_cron_day(x) for x in base.split("-", 1))
            if first > last:
                raise ValueError(f"{part!r}: a range runs from an earlier day to a later one")
        else:
            first = _cron_day(base)
            last = 7 if step_text else first
        days |= {(n - 1) % 7 for n in range(first, last + 1, step)}
    return days


def day_of_week(field: str) -> str:
    """A cron day-of-week field as APScheduler reads it: names, never numbers."""
    days = _weekdays(field)
    return "*" if len(days) == 7 else ",".join(DAYS[d] for d in sorted(days))


def trigger(expr: str, timezone: str) -> CronTrigger:
    """Raises ValueError with a message for the person who wrote the expression."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"cron {expr!r} needs five fields: minute hour day month day-of-week")
    minute, hour, day, month, dow = fields
    try:
        return CronTrigger(
            minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week(dow), timezone=ZoneInfo(timezone)
        )
    except ValueError as exc:
        raise ValueError(f"cron {expr!r}: {exc}") from None


def parse_days(value: str | list[str] | None) -> list[str]:
    """Working days as written (`mon-fri`, `[mon, wed, fri]`, `mon,tue`), in week order."""
    if not value:
        return []
    parts = value if isinstance(value, list) else [value]
    field = ",".join(str(p).strip() for p in parts)
    if any(ch.isdigit() for ch in field):
        raise ValueError(f"{field!r}: name the days (mon, tue, ...), not numbers")
    return [DAYS[d] for d in sorted(_weekdays(field.lower()))]


def fires(
    cron: CronTrigger,
    zone: ZoneInfo,
    after: dt.datetime,
    until: dt.datetime | None = None,
    *,
    skip: Callable[[dt.date], bool] = lambda _day: False,
) -> Iterator[dt.datetime]:
    """Fire times strictly after `after` (up to `until`), in local time, each wall-clock time once.

    APScheduler returns a time in a spring-forward gap with the old offset (02:30-05:00 on
    the day New York moves to EDT): as an instant that is 03:30 EDT, and it is shown so.
    When clocks go back it fires twice at 01:30 (EDT, then EST): the repeat is dropped, so
    a run happens once a day whatever the clocks do.
    """
    previous: dt.datetime | None = None
    now = after + dt.timedelta(microseconds=1)
    last_wall: dt.datetime | None = None
    while True:
        found = cron.get_next_fire_time(previous, now)
        if found is None or (until is not None and found > until):
            return
        previous = now = found
        local = found.astimezone(dt.UTC).astimezone(zone)  # via UTC: a gap time comes out real
        wall = local.replace(tzinfo=None, fold=0)
        if last_wall is not None and wall <= last_wall:
            continue
        last_wall = wall
        if not skip(local.date()):
            yield local


# Looking back for the latest fire time: short windows first, so a cron that fires every
# minute does not walk a month of fire times, and a monthly one is still found.
_LOOKBACK = (
    dt.timedelta(hours=2),
    dt.timedelta(days=2),
    dt.timedelta(days=9),
    dt.timedelta(days=40),
    dt.timedelta(days=400),
)


def latest(
    cron: CronTrigger, zone: ZoneInfo, now: dt.datetime, *, skip: Callable[[dt.date], bool] = lambda _day: False
) -> dt.datetime | None:
    """The last fire time at or before `now`, or None when there was none within a year."""
    for back in _LOOKBACK:
        found = None
        for found in fires(cron, zone, now - back, now, skip=skip):  # noqa: B007 - the last one is wanted
            pass
        if found is not None:
            return found
    return None
