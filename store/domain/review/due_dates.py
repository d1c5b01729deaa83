"""Due dates as people type them: `2026-12-20`, `today`, `tomorrow`, `friday`, `in 3 days`,
`in 2 weeks`. Anything else is refused with the forms that work, never guessed."""

from __future__ import annotations

import datetime as dt
import re

from otp_bot.store.domain.errors import Invalid

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
IN_SOME = re.compile(r"^in\s+(\d{1,3})\s+(day|days|week|weeks)$")
FORMS = "a date like 2026-12-20, `today`, `tomorrow`, a weekday (`friday`) or `in 3 days`"


def parse_due(text: str, today: dt.date) -> dt.date:
    """The day `text` names, seen from `today` (a weekday is the next one, never today)."""
    word = " ".join(text.lower().split())
    if word == "today":
        return today
    if word == "tomorrow":
        return today + dt.timedelta(days=1)
    for i, name in enumerate(WEEKDAYS):
        if word in (name, name[:3]):
            return today + dt.timedelta(days=(i - today.weekday() - 1) % 7 + 1)
    if found := IN_SOME.match(word):
        n = int(found.group(1))
        return today + dt.timedelta(days=n * (7 if found.group(2).startswith("week") else 1))
    try:
        return dt.date.fromisoformat(word)
    except ValueError:
        raise Invalid(f"`{text[:40]}` is not a day I can read", hint=f"give {FORMS}") from None
