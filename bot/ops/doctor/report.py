"""The checklist for people (rich, ✓ and ✗, each failure's fix under it) and for scripts (JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape

from otp_bot.bot.ops.doctor.check import Check

MARKS = {"ok": "[green]✓[/green]", "fail": "[red]✗[/red]", "skip": "[dim]–[/dim]"}


def show(console: Console, check: Check) -> None:
    console.print(f"{MARKS[check.status]} [bold]{escape(check.title)}[/bold]: {escape(check.detail)}")
    for line in check.lines:
        console.print(f"    {escape(line)}")
    if check.fix:
        console.print(f"    [yellow]fix:[/yellow] {escape(check.fix)}")


def summary(checks: Iterable[Check]) -> str:
    counts = {"ok": 0, "fail": 0, "skip": 0}
    for c in checks:
        counts[c.status] += 1
    return f"{counts['ok']} ok, {counts['fail']} failed, {counts['skip']} not checked"


def as_json(checks: list[Check]) -> str:
    return json.dumps(
        {"ok": not any(c.failed for c in checks), "summary": summary(checks), "checks": [c.as_dict() for c in checks]},
        indent=2,
        ensure_ascii=False,
    )
