"""`otp chart …`, `otp db …` and `otp kpi push`: the chart as code, the schema, a value by hand."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from otp_bot.bot.cli.common import database, err, fail, out, refused
from otp_bot.store.db import Database
from otp_bot.store.domain.errors import DomainError

chart_app = typer.Typer(no_args_is_help=True, help="The chart as code: import and export YAML.")
db_app = typer.Typer(no_args_is_help=True, help="The database: migrations.")
kpi_app = typer.Typer(no_args_is_help=True, help="Scorecard values.")


@chart_app.command("import")
def chart_import(
    file: Annotated[Path, typer.Argument(help="A chart YAML file, or an OTP platform OOS file (.json or .oos.md).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
    actor: Annotated[str, typer.Option("--actor", help="Who is importing, for the audit log.")] = "cli",
) -> None:
    """Validate a chart file and make the store match it, printing what changed."""
    from otp_bot.store.domain.chart.file_import import import_file, imported_already, parse_file, read_file
    from otp_bot.store.domain.collector import collector_paused

    db = database()
    try:
        chart_file = read_file(file)
        with db.session() as session:
            unchanged = imported_already(session, chart_file)
        if unchanged:
            err.print("note: this file is the one last imported, and the chart has not changed since", markup=False)
            out.print("no changes", markup=False)
            return
        with collector_paused():
            loaded = parse_file(chart_file)
            with db.session() as session:
                result = import_file(session, loaded, actor=f"operator:{actor}", source=str(file), dry_run=dry_run)
    except DomainError as exc:
        refused(exc)
    for line in loaded.report:
        err.print(f"note: {line}", markup=False)
    if not result.changes:
        out.print("no changes", markup=False)
        return
    # One print for every line: rich renders each call on its own, and an import of a big
    # chart lists tens of thousands of changes.
    out.print(
        "\n".join([*(c.describe() for c in result.changes), *(d.describe() for d in result.drafts)]), markup=False
    )
    verb = "would change" if dry_run else f"changed (revision {result.revision})"
    out.print(f"{len(result.changes)} change{'s' if len(result.changes) != 1 else ''}: chart {verb}", markup=False)


@chart_app.command("export")
def chart_export(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file instead of stdout.")] = None,
    format: Annotated[str, typer.Option("--format", help="yaml (the chart file) or oos (OTP's OOS JSON).")] = "yaml",
) -> None:
    """Print the stored chart as YAML, or as OTP's OOS JSON (import either back for no changes)."""
    import json

    from otp_bot.store.domain.chart.chartfile.yaml_text import dump_chart
    from otp_bot.store.domain.chart.oos.export import export_oos
    from otp_bot.store.domain.chart.sync.export import export_chart

    if format not in ("yaml", "oos"):
        fail(f"unknown format {format!r}: use yaml or oos", code=2)
    try:
        with database().session() as session:
            if format == "oos":
                exported = export_oos(session)
            else:
                chart = export_chart(session)
    except DomainError as exc:
        refused(exc)
    if format == "oos":
        for line in exported.notes:
            err.print(f"note: {line}", markup=False)
        text = json.dumps(exported.document, indent=2, ensure_ascii=False) + "\n"
    elif chart is None:
        fail("there is no chart yet; import one with `otp chart import FILE`")
    else:
        text = dump_chart(chart)
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}", markup=False)
    else:
        sys.stdout.write(text)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the current schema."""
    db = Database(auto_migrate=True)
    before = db.current_revision()
    db.upgrade()
    after = db.current_revision()
    out.print(
        f"{db.safe_url}: " + ("already current" if before == after else f"migrated {before or 'empty'} → {after}"),
        markup=False,
    )


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision and the newest one."""
    db = Database(auto_migrate=False)
    out.print(f"{db.safe_url}: at {db.current_revision() or 'empty'}, newest {db.head_revision()}", markup=False)


@kpi_app.command("push")
def kpi_push(
    metric: Annotated[str, typer.Argument(help="Metric id.")],
    value: Annotated[
        str,
        typer.Argument(
            help="The value, read exactly or refused: 42, 3,5, 1,250.50, 12 500, $400k, €1.2M, "
            "85%, 1.5 h, 2 d, yes; a negative one after --: `-- -3`."
        ),
    ],
    period: Annotated[
        str | None,
        typer.Option(help="2026-W47, 2026-11, 2026-Q4, 2026, a date, or `last` (default: the current period)."),
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note shown beside the value.")] = None,
    key: Annotated[str | None, typer.Option(help="Idempotency key: pushing the same key twice records once.")] = None,
    correct: Annotated[
        bool, typer.Option("--correct", help="Replace the period's earlier values (kept in history).")
    ] = False,
) -> None:
    """Record a value as an operator."""
    from otp_bot.store.domain.actors import Actor
    from otp_bot.store.domain.chart.reading import get_metric
    from otp_bot.store.domain.scorecard import periods as period_math
    from otp_bot.store.domain.scorecard.goals import format_value
    from otp_bot.store.domain.scorecard.measures import measure_of
    from otp_bot.store.domain.scorecard.metrics import record_value

    try:
        with database().session() as session:
            r = record_value(
                session,
                Actor.cli_operator(),
                metric,
                value,
                period=period,
                source="manual",
                note=note,
                key=key,
                correction=correct,
            )
            m = get_metric(session, metric)
            shown, label = (
                format_value(r.value.value, measure_of(m)),
                period_math.label(r.value.period_start, m.cadence),
            )
    except DomainError as exc:
        refused(exc)
    status = "on track" if r.on_track else "off track"
    verb = "recorded" if r.created else "already recorded (same key), not recorded again:"
    out.print(f"{m.id} {label}: {verb} {shown}, {status}", markup=False)
