"""Durations in the chart file: `30m`, `4h`, `2d`, `1d12h`; stored as minutes."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+)\s*([mhd])")
_WHOLE = re.compile(r"^\s*(\d+\s*[mhd]\s*)+$")
_MINUTES = {"m": 1, "h": 60, "d": 1440}


def parse_minutes(text: str) -> int:
    """`4h` -> 240. Raises ValueError with a message fit for the person who wrote it."""
    if not _WHOLE.match(text or ""):
        raise ValueError(f"{text!r} is not a duration; write it like 30m, 4h, 2d or 1d12h")
    minutes = sum(int(n) * _MINUTES[unit] for n, unit in _PART.findall(text))
    if minutes <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    return minutes


def format_minutes(minutes: int) -> str:
    """240 -> `4h`; the shortest form that reads back to the same number."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    return "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n) or "0m"
