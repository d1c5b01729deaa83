"""`otp review export`: the quarter's decisions from the record, as Markdown."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import typer
from jinja2 import Environment, PackageLoader, StrictUndefined

from otp_bot.bot.cli.common import database, err, refused
from otp_bot.store.domain.errors import DomainError

review_app = typer.Typer(no_args_is_help=True, help="The weekly operating review's record.")

WEEK_WORDS = {
    "ended": "held",
    "running": "running",
    "open": "opened, not started",
    "not-held": "not held",
    "none": "no review opened",
}
TODO_ORDER = ("done", "not done", "open", "dropped")


@cache
def _markdown() -> Environment:
    """Templates of Markdown for a file, not for Slack: nothing in them is escaped."""
    env = Environment(
        loader=PackageLoader("otp_bot.templates", ""),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        auto_reload=False,
    )
    env.filters["line"] = lambda value: " ".join(str(value).split())
    return env


def render_quarter(record: Any) -> str:
    counts = Counter(t.outcome for t in record.todos)
    return (
        _markdown()
        .get_template("review/quarter.md.j2")
        .render(
            r=record,
            week_words=WEEK_WORDS,
            todo_counts=[(outcome, counts[outcome]) for outcome in TODO_ORDER if counts[outcome]],
        )
        .strip()
        + "\n"
    )


@review_app.command("export")
def review_export(
    quarter: Annotated[str, typer.Option(help="The quarter, like 2026-Q4.")],
    out_file: Annotated[str | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Write a quarter's decisions as Markdown: reviews held or not, issues solved or dropped,
    to-dos made and how they ended, each seat's rocks."""
    from otp_bot.store.domain.review.quarter_record import quarter_record

    try:
        with database().session(readonly=True) as session:
            text = render_quarter(quarter_record(session, quarter))
    except DomainError as exc:
        refused(exc)
    if out_file is None:
        typer.echo(text, nl=False)
        return
    try:
        Path(out_file).write_text(text, encoding="utf-8")
    except OSError as exc:
        err.print(f"cannot write {out_file}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(2) from None
    err.print(f"wrote {out_file}", markup=False)
