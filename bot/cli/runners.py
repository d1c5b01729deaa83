"""The commands that run OTP bot: answer one command (`ask`, `demo`), the console (`shell`),
Slack over HTTP (`serve`) or Socket Mode (`run`), and MCP over stdio (`mcp`)."""

from __future__ import annotations

import json
import re
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from otp_bot.bot.cli.common import callback_allow, database, err, fail, out, refused, slack_settings
from otp_bot.bot.console.terminal import to_rich
from otp_bot.commands.reply import Attachment
from otp_bot.store.domain.errors import DomainError


def ask(
    text: Annotated[str, typer.Argument(help='What you would type after /otp, e.g. "who-owns retention".')],
    as_holder: Annotated[str | None, typer.Option("--as", help="Act as this holder (default: the operator).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Slack payload (text and Block Kit).")] = False,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Where a picture the answer comes with is written (default: its name, here)."),
    ] = None,
) -> None:
    """Answer an /otp command locally, as Slack would; whoever runs it is the operator unless --as says otherwise."""
    from otp_bot.commands import run
    from otp_bot.commands.parser import split_share
    from otp_bot.store.domain.actors import Actor, actor_for_holder

    command, share = split_share(text)
    with database().session() as session:
        try:
            actor = actor_for_holder(session, as_holder) if as_holder else Actor.cli_operator("cli")
        except DomainError as exc:
            refused(exc)
        reply = run(session, actor, command)
    if as_json:
        reply.in_channel = share and reply.ok
        out.print_json(json.dumps(reply.to_slack()))
    else:
        (out if reply.ok else err).print(to_rich(for_terminal(reply.text)))
        if reply.ok and reply.cli_step:
            err.print(f"In Slack this opens a form; in a terminal: {reply.cli_step}", markup=False)
        if reply.ok and share:
            err.print(
                "(`share` posts the answer in the Slack channel it is typed in; here it is printed)", markup=False
            )
    if reply.ok and reply.attachment is not None:
        _write_attachment(reply.attachment, out_file)
    if not reply.ok:
        raise typer.Exit(2)


def _write_attachment(attachment: Attachment, out_file: Path | None) -> None:
    """In Slack the picture is uploaded; here it is written to a file, named on stderr."""
    path = out_file or Path(attachment.filename)
    data = attachment.render()
    try:
        path.write_bytes(data)
    except OSError as exc:
        from rich.markup import escape

        fail(escape(f"could not write {path}: {exc.strerror or exc}"))
    err.print(f"{attachment.title}: written to {path} ({len(data):,} bytes)", markup=False)


_SLASH = re.compile(r"`/otp ([^`]*)`")


def for_terminal(text: str) -> str:
    """Hints name what to type where the answer is read: `/otp chart` is `otp ask "chart"` here."""
    return _SLASH.sub(lambda m: f'`otp ask "{m[1]}"`', text)


def demo(
    text: Annotated[str, typer.Argument(help="The /otp command to answer.")] = "who-owns retention",
) -> None:
    """Load the example org (Acme Agency) if the store has no chart yet, then answer a command."""
    from otp_bot.bot.cli.demo import has_chart, load_example

    db = database()
    if not has_chart(db):
        count = load_example(db)
        err.print(f"Loaded the example org (Acme Agency, {count} values) into {db.safe_url}.", markup=False)
    err.print(f"/otp {text}", style="dim", markup=False)
    ask(text, as_holder=None, as_json=False)


def shell(
    example: Annotated[
        bool, typer.Option("--example/--no-example", help="Load the example org when the store has no chart.")
    ] = True,
) -> None:
    """A local console: the real Slack app against a built-in stand-in for Slack."""
    from otp_bot.bot.cli.demo import has_chart, load_example
    from otp_bot.bot.console.shell import Shell

    db = database()
    if example and not has_chart(db):
        count = load_example(db)
        err.print(f"Loaded the example org (Acme Agency, {count} values) into {db.safe_url}.", markup=False)
    Shell(db, out).loop()


def _start(*required: str, degraded: bool = False):
    """What both Slack runners do first: checked settings, logging, a ready store, Slack
    asked whether it is there, the Bolt app, what is kept per chart version built (the
    who-owns index, the directory), the heap settled (after those: they live until the
    chart changes, out of the collector's way).

    Slack unreachable: with `degraded` (serve) one warning and a background watch, and the
    rest starts; without (Socket Mode, which is nothing without Slack) one line, exit 2."""
    import logging

    from rich.markup import escape

    from otp_bot.bot.ops import logs
    from otp_bot.bot.ops.health import HealthSettings
    from otp_bot.bot.runtime.heap import limit_arenas, settle_heap
    from otp_bot.bot.slack.app import create_app
    from otp_bot.bot.slack.reach import Reachability, SlackWatch, TokenRefused, probe
    from otp_bot.bot.slack.settings import ConfigError, load
    from otp_bot.store.domain.chart.cache import warm

    limit_arenas()  # before any thread starts
    settings = slack_settings(*required)
    callback_allow()  # checked before anything starts: the worker and the API read it
    try:
        health = load(HealthSettings)
    except ConfigError as exc:
        fail(escape(str(exc)))
    try:
        logs.setup()  # OTP_LOG_LEVEL, OTP_LOG_FORMAT
    except ValueError as exc:
        fail(escape(str(exc)))
    db = database()
    db.ensure_ready()
    token, base_url = settings.secret("bot_token"), settings.base_url
    try:
        unreachable = probe(token, base_url)
    except TokenRefused as exc:
        fail(escape(str(exc)))
    if unreachable and not degraded:
        fail(escape(f"Slack could not be reached at {base_url} ({unreachable})"))
    reach = Reachability(token, base_url, fresh_for=health.slack_seconds)  # what /readyz says of Slack
    reach.record(unreachable)
    if unreachable:
        logging.getLogger("otp_bot.slack").warning(
            "Slack could not be reached at %s (%s); serving the agent API now and retrying Slack in the background",
            base_url,
            unreachable,
        )
        SlackWatch(token, base_url, reach).start()
    # The token was checked just now (or will be, by the watch); Bolt asks again lazily.
    try:
        bolt, deps = create_app(db, settings, verify_token=False)
    except ConfigError as exc:  # the worker's settings (OTP_LEASE_SECONDS, OTP_RETENTION_*)
        fail(escape(str(exc)))
    warm(db)
    settle_heap()
    return settings, db, bolt, deps, reach


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
) -> None:
    """Serve Slack over HTTP (POST /slack/events), the agent API (/api/v1), /healthz, /readyz and /metrics."""
    from otp_bot.bot.ops.exposition import MetricsSettings
    from otp_bot.bot.ops.logs import announce
    from otp_bot.bot.runtime.scheduler import RhythmScheduler
    from otp_bot.bot.runtime.web import create_web_app
    from otp_bot.bot.runtime.web import serve as serve_http
    from otp_bot.bot.slack.door import Door

    try:
        metrics = MetricsSettings()
    except ValueError:
        fail("OTP_METRICS_STORE_SECONDS must be a number of seconds, 0 or more")
    settings, db, bolt, deps, reach = _start("bot_token", "signing_secret", degraded=True)
    announce(
        f"OTP bot on http://{host}:{port} (Slack at /slack/events, the agent API at /api/v1, "
        f"/metrics{'' if metrics.token else ' open: no OTP_METRICS_TOKEN'}), store {db.safe_url}",
        lambda line: err.print(line, markup=False),
    )
    serve_http(
        create_web_app(
            db,
            bolt,
            deps.worker,
            scheduler=RhythmScheduler(db, deps.client, on_queued=deps.kick),
            signing_secret=settings.secret("signing_secret"),
            slack=reach,
            pools=(deps.listeners, deps.work),
            metrics=metrics,
            door=Door(deps, bolt),
        ),
        host,
        port,
    )


def run_socket_mode() -> None:
    """Connect to Slack over Socket Mode (no public URL needed; needs SLACK_APP_TOKEN)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from otp_bot.bot.ops.logs import announce
    from otp_bot.bot.runtime.scheduler import RhythmScheduler

    settings, db, bolt, deps, _ = _start("bot_token", "signing_secret", "app_token")
    announce(f"OTP bot connecting over Socket Mode, store {db.safe_url}", lambda line: err.print(line, markup=False))
    scheduler = RhythmScheduler(db, deps.client, on_queued=deps.kick)  # the briefing and scorecard posts, on schedule
    handler = SocketModeHandler(bolt, settings.secret("app_token"))
    # SIGTERM ends the wait as Ctrl-C does, so the stop below runs instead of the process just ending.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    deps.worker.start()
    scheduler.start()
    try:
        handler.start()
    finally:
        deps.worker.request_stop()
        handler.close()  # no new events
        for pool in (deps.listeners, deps.work):  # what listeners acked is finished
            pool.shutdown(wait=True)
        scheduler.stop()
        deps.worker.stop()  # the item in hand finishes; claims not started are released
        db.dispose()


def mcp() -> None:
    """Serve MCP over stdio for an LLM agent, acting as the agent whose API token is in OTP_TOKEN."""
    from otp_bot.bot.agents.mcp.server import run_stdio

    callback_allow()
    run_stdio(database())
