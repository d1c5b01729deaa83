"""The `otp` command line: operators, scripts and local use.

Exit codes: 0 done, 2 bad input (the message says what to fix), 1 anything else.
Results go to stdout, messages to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from otp_bot.bot.terminal import to_rich
from otp_bot.store.db import Database, MigrationsPending
from otp_bot.store.domain.errors import DomainError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, help="OTP bot: the org chart, scorecard and human gate for a hybrid org.")
chart_app = typer.Typer(no_args_is_help=True, help="The chart as code: import and export YAML.")
db_app = typer.Typer(no_args_is_help=True, help="The database: migrations.")
kpi_app = typer.Typer(no_args_is_help=True, help="Scorecard values.")
app.add_typer(chart_app, name="chart")
app.add_typer(db_app, name="db")
app.add_typer(kpi_app, name="kpi")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", markup=True) if code else None
    raise typer.Exit(code)


def _database() -> Database:
    return Database()


def _domain_error(exc: DomainError) -> NoReturn:
    message = exc.message + (f"\n{exc.hint}" if exc.hint else "")
    err.print(message, markup=False)
    raise typer.Exit(2)


@app.command()
def ask(
    text: Annotated[str, typer.Argument(help='What you would type after /otp, e.g. "who-owns retention".')],
    as_holder: Annotated[str | None, typer.Option("--as", help="Act as this holder (for commands that write).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Slack payload (text and Block Kit).")] = False,
) -> None:
    """Answer an /otp command locally, as Slack would."""
    from otp_bot.commands import run
    from otp_bot.store.domain.actors import Actor, actor_for_holder

    with _database().session() as session:
        try:
            actor = actor_for_holder(session, as_holder) if as_holder else Actor.anonymous("cli")
        except DomainError as exc:
            _domain_error(exc)
        reply = run(session, actor, text)
    if as_json:
        out.print_json(json.dumps(reply.to_slack()))
    else:
        (out if reply.ok else err).print(to_rich(reply.text))
    if not reply.ok:
        raise typer.Exit(2)


@app.command()
def demo(
    text: Annotated[str, typer.Argument(help="The /otp command to answer.")] = "who-owns retention",
) -> None:
    """Load the example org (Acme Agency) if the store has no chart yet, then answer a command."""
    from otp_bot.bot.demo import has_chart, load_example

    db = _database()
    if not has_chart(db):
        count = load_example(db)
        err.print(f"Loaded the example org (Acme Agency, {count} values) into {db.safe_url}.", markup=False)
    err.print(f"/otp {text}", style="dim", markup=False)
    ask(text, as_holder=None, as_json=False)


@app.command()
def shell(
    example: Annotated[bool, typer.Option("--example/--no-example", help="Load the example org when the store has no chart.")] = True,
) -> None:
    """A local console: the real Slack app against a built-in stand-in for Slack."""
    from otp_bot.bot.console.shell import Shell
    from otp_bot.bot.demo import has_chart, load_example

    db = _database()
    if example and not has_chart(db):
        count = load_example(db)
        err.print(f"Loaded the example org (Acme Agency, {count} values) into {db.safe_url}.", markup=False)
    Shell(db, out).loop()


@chart_app.command("import")
def chart_import(
    file: Annotated[Path, typer.Argument(help="A chart YAML file, or an OTP platform OOS file (.json or .oos.md).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
    actor: Annotated[str, typer.Option("--actor", help="Who is importing, for the audit log.")] = "cli",
) -> None:
    """Validate a chart file and make the store match it, printing what changed."""
    from otp_bot.store.domain.chart_sync import apply_chart
    from otp_bot.store.domain.chartfile import load_chart_with_report

    try:
        chart, report = load_chart_with_report(file)
        with _database().session() as session:
            result = apply_chart(session, chart, actor=f"operator:{actor}", source=str(file), dry_run=dry_run)
    except DomainError as exc:
        _domain_error(exc)
    for line in report:
        err.print(f"note: {line}", markup=False)
    if not result.changes:
        out.print("no changes", markup=False)
        return
    for change in result.changes:
        out.print(change.describe(), markup=False)
    verb = "would change" if dry_run else f"changed (revision {result.revision})"
    out.print(f"{len(result.changes)} change{'s' if len(result.changes) != 1 else ''}: chart {verb}", markup=False)


@chart_app.command("export")
def chart_export(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the stored chart as YAML (import it back for no changes)."""
    from otp_bot.store.domain.chart_sync import export_chart
    from otp_bot.store.domain.chartfile import dump_chart

    with _database().session() as session:
        chart = export_chart(session)
    if chart is None:
        fail("there is no chart yet; import one with `otp chart import FILE`")
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
    out.print(f"{db.safe_url}: " + ("already current" if before == after else f"migrated {before or 'empty'} → {after}"), markup=False)


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision and the newest one."""
    db = Database(auto_migrate=False)
    out.print(f"{db.safe_url}: at {db.current_revision() or 'empty'}, newest {db.head_revision()}", markup=False)


@kpi_app.command("push")
def kpi_push(
    metric: Annotated[str, typer.Argument(help="Metric id.")],
    value: Annotated[str, typer.Argument(help="The value: 42, 31.5%, $1,200, yes.")],
    period: Annotated[str | None, typer.Option(help="2026-W47, 2026-11, a date, or `last` (default: the current period).")] = None,
    note: Annotated[str | None, typer.Option(help="A note shown beside the value.")] = None,
    key: Annotated[str | None, typer.Option(help="Idempotency key: pushing the same key twice records once.")] = None,
    correct: Annotated[bool, typer.Option("--correct", help="Replace the period's earlier values (kept in history).")] = False,
) -> None:
    """Record a value as an operator."""
    from otp_bot.store.domain import periods as period_math
    from otp_bot.store.domain.actors import Actor
    from otp_bot.store.domain.chart import get_metric
    from otp_bot.store.domain.goals import format_value
    from otp_bot.store.domain.metrics import record_value

    try:
        with _database().session() as session:
            r = record_value(session, Actor.cli_operator(), metric, value, period=period, source="manual", note=note,
                             key=key, correction=correct)
            m = get_metric(session, metric)
            shown, label = format_value(r.value.value, m.unit), period_math.label(r.value.period_start, m.cadence)
    except DomainError as exc:
        _domain_error(exc)
    status = "on track" if r.on_track else "off track"
    verb = "recorded" if r.created else "already recorded (same key), not recorded again:"
    out.print(f"{m.id} {label}: {verb} {shown}, {status}", markup=False)


def _log_setup() -> None:
    import logging
    import os

    logging.basicConfig(level=os.environ.get("OTP_LOG_LEVEL", "INFO").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _slack(require: tuple[str, ...]):
    """Settings, checked: a missing or malformed variable is named, exit 2."""
    from otp_bot.bot.settings import ConfigError, SlackSettings

    settings = SlackSettings()
    try:
        settings.require(*require)
    except ConfigError as exc:
        fail(str(exc))
    return settings


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
) -> None:
    """Serve Slack over HTTP: POST /slack/events, GET /healthz."""
    import uvicorn

    from otp_bot.bot.app import create_app
    from otp_bot.bot.web import create_web_app

    settings = _slack(("bot_token", "signing_secret"))
    _log_setup()
    db = _database()
    db.ensure_ready()
    bolt, deps = create_app(db, settings)
    err.print(f"OTP bot on http://{host}:{port} (Slack at /slack/events), store {db.safe_url}", markup=False)
    uvicorn.run(create_web_app(db, bolt, deps.worker), host=host, port=port, log_level="warning", access_log=False)


@app.command("run")
def run_socket_mode() -> None:
    """Connect to Slack over Socket Mode (no public URL needed; needs SLACK_APP_TOKEN)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from otp_bot.bot.app import create_app

    settings = _slack(("bot_token", "signing_secret", "app_token"))
    _log_setup()
    db = _database()
    db.ensure_ready()
    bolt, deps = create_app(db, settings)
    err.print(f"OTP bot connecting over Socket Mode, store {db.safe_url}", markup=False)
    deps.worker.start()
    try:
        SocketModeHandler(bolt, settings.secret("app_token")).start()
    finally:
        deps.worker.stop()


def main() -> None:
    try:
        app()
    except MigrationsPending as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(2)
    except DomainError as exc:
        err.print(exc.message, markup=False)
        sys.exit(2)
