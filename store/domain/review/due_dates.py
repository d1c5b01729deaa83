"""Due dates as people type them: `2026-12-20`, `today`, `tomorrow`, `friday`, `next friday`,
`in 3 days`, `3 days`, `next week`, `end of week`, `end of month`, `20 Dec`, `Dec 20`, `12/20`.

A slashed date is read only when it can mean one day: `12/20` (the 20th of December) and
`20/12` are the same day, `5/6` could be the 5th of June or the 6th of May and is refused
with the ISO form to use. A day named without a year is the next one to come. Anything else
is refused with the forms that work, never guessed."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from otp_bot.store.domain.errors import Invalid

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name} | {
    name.lower(): n for n, name in enumerate(calendar.month_abbr) if name
}
IN_SOME = re.compile(r"^(?:in\s+)?(\d{1,3})\s+(day|days|week|weeks)$")
DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:\s+(\d{4}))?$")
MONTH_DAY = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?$")
SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{4}))?$")
FORMS = "a date like 2026-12-20 or 20 Dec, `today`, `tomorrow`, a weekday (`friday`, `next friday`) or `in 3 days`"
END_OF_WEEK = ("eow", "end of week", "end of the week", "this week")
END_OF_MONTH = ("eom", "end of month", "end of the month", "this month")


def parse_due(text: str, today: dt.date) -> dt.date:
    """The day `text` names, seen from `today` (a weekday is the next one, never today)."""
    word = " ".join(text.lower().replace(",", " ").split()).removeprefix("by ").removeprefix("on ")
    day = _relative(word, today) or _named(word, today)
    if day is None:
        try:
            day = dt.date.fromisoformat(word)
        except ValueError:
            raise Invalid(f"`{text[:40]}` is not a day I can read", hint=f"give {FORMS}") from None
    return day


def _relative(word: str, today: dt.date) -> dt.date | None:
    if word == "today":
        return today
    if word == "tomorrow":
        return today + dt.timedelta(days=1)
    if word == "yesterday":
        return today - dt.timedelta(days=1)
    if word == "next week":
        return today + dt.timedelta(days=7)
    if word in END_OF_WEEK:
        return today + dt.timedelta(days=(4 - today.weekday()) % 7)  # Friday; on a weekend, the coming one
    if word in END_OF_MONTH:
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if word == "next month":
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return dt.date(year, month, min(today.day, calendar.monthrange(year, month)[1]))
    for i, name in enumerate(WEEKDAYS):
        if word in (name, name[:3]):
            return today + dt.timedelta(days=(i - today.weekday() - 1) % 7 + 1)
        if word in (f"next {name}", f"next {name[:3]}"):
            # The one in next week, as calendars read it: on a Monday, `next friday` is 11 days away.
            return today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7 + i)
    if found := IN_SOME.match(word):
        n = int(found.group(1))
        return today + dt.timedelta(days=n * (7 if found.group(2).startswith("week") else 1))
    return None


def _named(word: str, today: dt.date) -> dt.date | None:
    if found := DAY_MONTH.match(word):
        return _calendar_day(int(found.group(1)), found.group(2), found.group(3), today)
    if found := MONTH_DAY.match(word):
        return _calendar_day(int(found.group(2)), found.group(1), found.group(3), today)
    if found := SLASHED.match(word):
        a, b = int(found.group(1)), int(found.group(2))
        if a <= 12 and b <= 12 and a != b:
            either = f"{_ordinal(b)} of {calendar.month_name[a]} or {_ordinal(a)} of {calendar.month_name[b]}"
            raise Invalid(
                f"`{word}` could be the {either}",
                hint="write it as 2026-12-20 or 20 Dec",
            )
        day, month = (b, a) if a <= 12 else (a, b)
        return _on(day, month, found.group(3), today, word)
    return None


def _calendar_day(day: int, month_name: str, year: str | None, today: dt.date) -> dt.date | None:
    month = MONTHS.get(month_name)
    return None if month is None else _on(day, month, year, today, f"{day} {month_name}")


def _on(day: int, month: int, year: str | None, today: dt.date, typed: str) -> dt.date:
    try:
        if year is not None:
            return dt.date(int(year), month, day)
        found = dt.date(today.year, month, day)
        return found if found >= today else dt.date(today.year + 1, month, day)
    except ValueError:
        raise Invalid(f"`{typed}` is not a day of the calendar", hint=f"give {FORMS}") from None


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def split_due(text: str, today: dt.date) -> tuple[str, dt.date | None]:
    """A to-do as people write it, `call Acme by friday`: the text without the day, and the day.
    Only a trailing `by …` / `due …` that reads as a day is taken; `follow up by email` stays whole."""
    words = text.split()
    for i in range(len(words) - 1, 0, -1):
        if words[i].lower() not in ("by", "due", "before"):
            continue
        try:
            day = parse_due(" ".join(words[i + 1 :]), today)
        except Invalid:
            continue
        if words[i + 1 :]:
            return " ".join(words[:i]), day
    # `… in 3 days` is only ever a due day; `plan the agenda for next week` is what to do, and stays whole.
    if len(words) > 3 and IN_SOME.match(" ".join(words[-3:]).lower()):
        return " ".join(words[:-3]), parse_due(" ".join(words[-3:]), today)
    return text, None
