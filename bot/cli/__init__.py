"""The `otp` command line: operators, scripts and local use.

One module per command group: `chart` (chart, db, kpi), `gate` (draft, flag, audit),
`tokens`, `seats`, `schedules`, `outbox`, `agent` (the HTTP API from a shell), `upkeep`
(backup, retention), `doctor`, and `runners` (ask, demo, shell, serve, run, mcp); `common` holds what
they share. Exit codes: 0 done, 2 bad input (the message says what to fix), 1 anything
else. Results go to stdout, messages to stderr.
"""

from __future__ import annotations

import sys

import typer

from otp_bot.bot.cli import runners
from otp_bot.bot.cli.agent import agent_app
from otp_bot.bot.cli.chart import chart_app, db_app, kpi_app
from otp_bot.bot.cli.common import err
from otp_bot.bot.cli.doctor import doctor
from otp_bot.bot.cli.gate import audit_app, draft_app, flag_app
from otp_bot.bot.cli.outbox import outbox_app
from otp_bot.bot.cli.review import review_app
from otp_bot.bot.cli.schedules import schedule_app
from otp_bot.bot.cli.seats import seat_app
from otp_bot.bot.cli.tokens import token_app
from otp_bot.bot.cli.upkeep import backup, retention_app
from otp_bot.store.db import MigrationsPending
from otp_bot.store.domain.errors import DomainError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="OTP bot: the org chart, scorecard and human gate for a hybrid org.",
)
for command, name in (
    (runners.ask, None),
    (runners.demo, None),
    (runners.shell, None),
    (runners.serve, None),
    (runners.run_socket_mode, "run"),
    (runners.mcp, None),
    (backup, None),
    (doctor, None),
):
    app.command(name)(command)
for group, name in (
    (chart_app, "chart"),
    (db_app, "db"),
    (kpi_app, "kpi"),
    (draft_app, "draft"),
    (flag_app, "flag"),
    (audit_app, "audit"),
    (token_app, "token"),
    (agent_app, "agent"),
    (seat_app, "seat"),
    (schedule_app, "schedule"),
    (outbox_app, "outbox"),
    (retention_app, "retention"),
    (review_app, "review"),
):
    app.add_typer(group, name=name)


def main() -> None:
    try:
        app()
    except MigrationsPending as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(2)
    except DomainError as exc:
        err.print(exc.message, markup=False)
        sys.exit(2)
