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
from otp_bot.bot.agent_cli import agent_app
from otp_bot.bot.seat_cli import seat_app
from otp_bot.bot.schedule_cli import schedule_app
from otp_bot.store.db import Database, MigrationsPending
from otp_bot.store.domain.errors import DomainError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, help="OTP bot: the org chart, scorecard and human gate for a hybrid org.")
chart_app = typer.Typer(no_args_is_help=True, help="The chart as code: import and export YAML.")
db_app = typer.Typer(no_args_is_help=True, help="The database: migrations.")
kpi_app = typer.Typer(no_args_is_help=True, help="Scorecard values.")
app.add_typer(chart_app, name="chart")
app.add_typer(db_app, name="db")
app.add_typer(kpi_app, name="kpi")
draft_app = typer.Typer(no_args_is_help=True, help="Agent drafts and the human decisions on them.")
flag_app = typer.Typer(no_args_is_help=True, help="Flags on subjects: policies hold drafts by them.")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log.")
app.add_typer(draft_app, name="draft")
app.add_typer(flag_app, name="flag")
app.add_typer(audit_app, name="audit")
token_app = typer.Typer(no_args_is_help=True, help="API tokens: how agents sign in to the HTTP API.")
app.add_typer(token_app, name="token")
app.add_typer(agent_app, name="agent")
app.add_typer(seat_app, name="seat")
app.add_typer(schedule_app, name="schedule")

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


AsHolder = Annotated[str | None, typer.Option("--as", help="Act as this holder (default: an operator).")]


def _actor(session, as_holder: str | None):
    from otp_bot.store.domain.actors import Actor, actor_for_holder

    return actor_for_holder(session, as_holder) if as_holder else Actor.cli_operator()


def _read_body(path: str) -> str:
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the body from {path}: {exc}")


@draft_app.command("submit")
def draft_submit(
    seat: Annotated[str, typer.Option(help="The drafting seat; its holder is the drafter.")],
    kind: Annotated[str, typer.Option(help="What it is: retention-outreach, expansion, coaching-note, ...")],
    subject: Annotated[str, typer.Option(help="Who or what it is about, one word: client:acme.")],
    title: Annotated[str, typer.Option(help="A one-line title for the approvers.")],
    body_file: Annotated[str, typer.Option("--body-file", help="The text (markdown) to approve; - reads stdin.")],
    key: Annotated[str | None, typer.Option(help="Idempotency key: the same key and content return the same draft.")] = None,
    destination: Annotated[str | None, typer.Option(help="Where the approved text goes: a Slack channel or user id, or an https:// callback URL.")] = None,
    not_customer_facing: Annotated[bool, typer.Option("--not-customer-facing", help="Internal text (customer-facing by default).")] = False,
    as_holder: AsHolder = None,
) -> None:
    """Submit a draft for human approval; prints its number (the last line, alone)."""
    from otp_bot.store.domain.drafts import outcome, submit_draft

    body = _read_body(body_file)
    try:
        with _database().session() as session:
            done = submit_draft(session, _actor(session, as_holder), seat_id=seat, kind=kind, subject=subject,
                                title=title, body=body, customer_facing=not not_customer_facing,
                                destination=destination, key=key)
            draft_id, state, said = done.draft.id, done.draft.status, outcome(session, done.draft)
    except DomainError as exc:
        _domain_error(exc)
    verb = "submitted" if done.created else "already submitted with this key"
    status = said if said.startswith(state) else f"{state}: {said}"  # "held: why", "pending: waiting for …"
    err.print(f"draft #{draft_id} {verb}, {status}", markup=False)
    out.print(draft_id, markup=False)


@draft_app.command("show")
def draft_show(
    draft_id: Annotated[str, typer.Argument(metavar="ID", help="The draft's number.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print it as JSON.")] = False,
) -> None:
    """One draft: status and outcome, text, route, decisions, messages, history."""
    from otp_bot.bot.draft_text import draft_text
    from otp_bot.commands.draft_views import record
    from otp_bot.store.domain.drafts import get_draft

    try:
        with _database().session(readonly=True) as session:
            shown = record(session, get_draft(session, draft_id))
    except DomainError as exc:
        _domain_error(exc)
    if as_json:
        sys.stdout.write(json.dumps(shown, indent=2, ensure_ascii=False) + "\n")
    else:
        out.print(draft_text(shown), markup=False)


@draft_app.command("list")
def draft_list(
    status: Annotated[str | None, typer.Option(help="Only drafts in this state: held, pending, approved, rejected, expired, withdrawn.")] = None,
    seat: Annotated[str | None, typer.Option(help="Only this seat's drafts.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many, newest first.")] = 20,
) -> None:
    """Recent drafts, newest first."""
    from otp_bot.bot.draft_text import draft_row
    from otp_bot.commands.draft_views import line
    from otp_bot.store.domain.clock import utcnow
    from otp_bot.store.domain.gate_queries import list_drafts

    now = utcnow()
    try:
        with _database().session(readonly=True) as session:
            rows = [draft_row(line(d, now)) for d in list_drafts(session, status=status, seat_id=seat, limit=limit)]
    except DomainError as exc:
        _domain_error(exc)
    if not rows:
        err.print("no drafts match" if status or seat else "no drafts yet", markup=False)
    for row in rows:
        out.print(row, markup=False)


@draft_app.command("withdraw")
def draft_withdraw(
    draft_id: Annotated[str, typer.Argument(metavar="ID", help="The draft's number.")],
    as_holder: AsHolder = None,
) -> None:
    """Withdraw a held or pending draft (its drafter or an operator)."""
    from otp_bot.store.domain.drafts import withdraw

    try:
        with _database().session() as session:
            draft = withdraw(session, _actor(session, as_holder), draft_id)
    except DomainError as exc:
        _domain_error(exc)
    out.print(f"draft #{draft.id} withdrawn", markup=False)


@flag_app.command("set")
def flag_set(
    subject: Annotated[str, typer.Argument(help="What the flag is on, one word: client:acme.")],
    flag: Annotated[str, typer.Argument(help="The flag: at-risk, churning, ...")],
    seat: Annotated[str | None, typer.Option(help="The flagging seat (needed unless --as holds exactly one).")] = None,
    reason: Annotated[str | None, typer.Option(help="Why, in a sentence: shown wherever the flag holds a draft.")] = None,
    until: Annotated[str | None, typer.Option(help="When it ends by itself: 3d, 12h, or a date like 2026-12-01.")] = None,
    as_holder: AsHolder = None,
) -> None:
    """Flag a subject for a seat; policies hold drafts while it stands."""
    from otp_bot.bot.draft_text import flag_row
    from otp_bot.commands.draft_views import flag_view
    from otp_bot.store.domain.flags import parse_until, set_flag
    from otp_bot.store.domain.gate_queries import policies_holding

    try:
        with _database().session() as session:
            change = set_flag(session, _actor(session, as_holder), subject, flag, seat_id=seat, reason=reason,
                              until=parse_until(until))
            shown, holds = flag_view(change.flag), policies_holding(session, change.flag)
    except DomainError as exc:
        _domain_error(exc)
    out.print(flag_row(shown), markup=False)
    if not change.created:
        err.print("note: the flag was already set; its reason and expiry are updated", markup=False)
    for policy in holds:
        err.print(f"note: while it stands, policy {policy.name} holds new {policy.hold_kind} drafts about "
                  f"{shown['subject']}", markup=False)
    if not holds:
        err.print("note: no policy holds drafts by this flag", markup=False)


@flag_app.command("lift")
def flag_lift(
    subject: Annotated[str, typer.Argument(help="What the flag is on.")],
    flag: Annotated[str, typer.Argument(help="The flag.")],
    seat: Annotated[str | None, typer.Option(help="Only this seat's flag (default: every one you may lift).")] = None,
    as_holder: AsHolder = None,
) -> None:
    """Lift a flag; drafts it held go to approval (listed)."""
    from otp_bot.store.domain.flags import lift_flag

    try:
        with _database().session() as session:
            change = lift_flag(session, _actor(session, as_holder), subject, flag, seat_id=seat)
            released = [(d.id, d.kind, d.title) for d in change.released]
    except DomainError as exc:
        _domain_error(exc)
    out.print(f"lifted {change.flag.subject} {change.flag.flag}", markup=False)
    for draft_id, kind, title in released:
        out.print(f"released draft #{draft_id} ({kind}: {title}) to approval", markup=False)
    if not released:
        err.print("no held drafts were waiting on it", markup=False)


@flag_app.command("list")
def flag_list(
    subject: Annotated[str | None, typer.Argument(help="Only flags on this subject.")] = None,
) -> None:
    """Flags in force."""
    from otp_bot.bot.draft_text import flag_row
    from otp_bot.commands.draft_views import flag_view
    from otp_bot.store.domain.flags import active_flags

    with _database().session(readonly=True) as session:
        rows = [flag_row(flag_view(f)) for f in active_flags(session, subject)]
    if not rows:
        err.print("no flags" + (f" on {subject}" if subject else ""), markup=False)
    for row in rows:
        out.print(row, markup=False)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; name the first broken entry (exit 1)."""
    from sqlalchemy import func, select

    from otp_bot.store.domain import audit
    from otp_bot.store.domain.clock import as_utc
    from otp_bot.store.models import AuditEntry

    with _database().session(readonly=True) as session:
        broken = audit.verify(session)
        if broken is None:
            count = session.scalar(select(func.count()).select_from(AuditEntry))
            out.print(f"audit log intact ({count} entries)", markup=False)
            return
        at = as_utc(broken.at).strftime("%Y-%m-%d %H:%M:%S")
        out.print(f"audit log broken at entry {broken.id} ({broken.action} {broken.subject} at {at} UTC): "
                  "it does not match its hash, so it or an entry before it was changed", markup=False)
    raise typer.Exit(1)


@token_app.command("create")
def token_create(
    holder: Annotated[str | None, typer.Option(help="The holder the token acts as (usually an agent).")] = None,
    seat: Annotated[list[str] | None, typer.Option("--seat", help="Also push values to this seat's metrics (repeat for several).")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Act as an operator: every seat, every draft.")] = False,
    name: Annotated[str | None, typer.Option(help="A label for `otp token list` (default: the holder's id).")] = None,
) -> None:
    """Create an API token. It is shown once, as the last line of stdout; only its hash is stored."""
    from otp_bot.store.domain.actors import Actor
    from otp_bot.store.domain.tokens import create_token

    try:
        with _database().session() as session:
            created = create_token(session, Actor.cli_operator(), holder_id=holder, name=name, push_seats=seat or [],
                                   admin=admin)
            token = created.token
            who = f"{token.holder.name} ({token.holder_id})" if token.holder else ""
            held = sorted(Actor(label="", holder_id=token.holder_id).held_seat_ids(session))
    except DomainError as exc:
        _domain_error(exc)
    rights = [f"acts as {who}" + (f" for {', '.join(held)}" if held else "")] if token.holder_id else []
    if token.push_seats:
        rights.append(f"also pushes values for {', '.join(token.push_seats)}")
    if admin:
        rights.append("admin: acts as an operator")
    err.print(f"token {token.id} `{token.name}` ({token.prefix}…): {'; '.join(rights)}.\n"
              "Store it now (OTP_TOKEN): it is not shown again.", markup=False)
    sys.stdout.write(created.secret + "\n")


@token_app.command("list")
def token_list(
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
) -> None:
    """Tokens by id: prefix, holder, granted seats, admin, created, last used (never the token itself)."""
    from otp_bot.store.domain.clock import as_utc
    from otp_bot.store.domain.tokens import list_tokens

    def when(value) -> str:
        return as_utc(value).strftime("%Y-%m-%d %H:%M") if value else "never"

    with _database().session(readonly=True) as session:
        rows = [(str(t.id), t.prefix, t.name, t.holder_id or "-", ",".join(t.push_seats) or "-", "yes" if t.admin else "no",
                 when(t.created_at), when(t.last_used_at), *((when(t.revoked_at) if t.revoked_at else "-",) if include_revoked else ()))
                for t in list_tokens(session, include_revoked=include_revoked)]
    if not rows:
        err.print("no tokens; create one with `otp token create --holder HOLDER`", markup=False)
        return
    head = ("id", "prefix", "name", "holder", "seats", "admin", "created (UTC)", "last used", *(("revoked",) if include_revoked else ()))
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for row in [head, *rows]:
        out.print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), markup=False)


@token_app.command("revoke")
def token_revoke(
    which: Annotated[str, typer.Argument(metavar="ID|PREFIX", help="The token's id or prefix, as `otp token list` shows them.")],
) -> None:
    """Revoke a token: its next request is refused (401)."""
    from otp_bot.store.domain.actors import Actor
    from otp_bot.store.domain.clock import as_utc, utcnow
    from otp_bot.store.domain.tokens import revoke_token

    now = utcnow()
    try:
        with _database().session() as session:
            token = revoke_token(session, Actor.cli_operator(), which, now=now)
            newly = as_utc(token.revoked_at) == now
    except DomainError as exc:
        _domain_error(exc)
    out.print(f"token {token.id} ({token.prefix}…) " + ("revoked" if newly else "was already revoked"), markup=False)


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
    """Serve Slack over HTTP (POST /slack/events), the agent API (/api/v1) and GET /healthz."""
    from otp_bot.bot.app import create_app
    from otp_bot.bot.heap import settle_heap
    from otp_bot.bot.scheduler import RhythmScheduler
    from otp_bot.bot.web import create_web_app
    from otp_bot.bot.web import serve as serve_http

    settings = _slack(("bot_token", "signing_secret"))
    _log_setup()
    db = _database()
    db.ensure_ready()
    bolt, deps = create_app(db, settings)
    settle_heap()
    err.print(f"OTP bot on http://{host}:{port} (Slack at /slack/events, the agent API at /api/v1), "
              f"store {db.safe_url}", markup=False)
    serve_http(create_web_app(db, bolt, deps.worker, scheduler=RhythmScheduler(db, deps.client)), host, port)


@app.command("run")
def run_socket_mode() -> None:
    """Connect to Slack over Socket Mode (no public URL needed; needs SLACK_APP_TOKEN)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from otp_bot.bot.app import create_app
    from otp_bot.bot.heap import settle_heap
    from otp_bot.bot.scheduler import RhythmScheduler

    settings = _slack(("bot_token", "signing_secret", "app_token"))
    _log_setup()
    db = _database()
    db.ensure_ready()
    bolt, deps = create_app(db, settings)
    settle_heap()
    err.print(f"OTP bot connecting over Socket Mode, store {db.safe_url}", markup=False)
    scheduler = RhythmScheduler(db, deps.client)  # the briefing and scorecard posts, on schedule
    deps.worker.start()
    scheduler.start()
    try:
        SocketModeHandler(bolt, settings.secret("app_token")).start()
    finally:
        scheduler.stop()
        deps.worker.stop()


@app.command()
def mcp() -> None:
    """Serve MCP over stdio for an LLM agent, acting as the agent whose API token is in OTP_TOKEN."""
    from otp_bot.bot.mcp_server import run_stdio

    run_stdio(_database())


def main() -> None:
    try:
        app()
    except MigrationsPending as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(2)
    except DomainError as exc:
        err.print(exc.message, markup=False)
        sys.exit(2)
