"""A chart file's problems, each located (`seats[2].reports_to`), reported all at once."""

from __future__ import annotations

from typing import Any

from otp_bot.store.domain.errors import Invalid


class ChartErrors(Invalid):
    """Every problem found in a chart file, each as (location, message)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {loc}: {msg}" if loc else f"{source}: {msg}" for loc, msg in problems]
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{source} was not imported ({count}; nothing was written):\n" + "\n".join(lines))


def location(loc: tuple[Any, ...]) -> str:
    """pydantic's location as the file's path to the value: `seats[2].metrics[0].goal`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
