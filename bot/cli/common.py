"""What every `otp` command shares: where output goes, how a refusal ends a command, the store.

Exit codes: 0 done, 2 bad input (the message says what to fix), 1 anything else.
Results go to stdout, messages to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from otp_bot.store.db import Database
from otp_bot.store.domain.errors import DomainError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

AsHolder = Annotated[str | None, typer.Option("--as", help="Act as this holder (default: an operator).")]

# A draft's options, the same for `otp draft submit` (operators) and `otp agent draft` (agents).
Kind = Annotated[str, typer.Option(help="What it is: retention-outreach, expansion, coaching-note, ...")]
Subject = Annotated[str, typer.Option(help="Who or what it is about, one word: client:acme.")]
Title = Annotated[str, typer.Option(help="A one-line title for the approvers.")]
BodyFile = Annotated[str, typer.Option("--body-file", help="The text (markdown) to approve; - reads stdin.")]
Key = Annotated[str | None, typer.Option(help="Idempotency key: the same key and content return the same draft.")]
Destination = Annotated[
    str | None,
    typer.Option(help="Where the approved text goes: a Slack channel or user id, or an https:// callback URL."),
]
Revises = Annotated[
    int | None,
    typer.Option(
        min=1, help="The draft this revises (its changes were requested): the revision takes its approval message."
    ),
]
NotCustomerFacing = Annotated[
    bool, typer.Option("--not-customer-facing", help="Internal text (customer-facing by default).")
]


def say(text: str, err: bool = False) -> None:
    """Plain text, as it is (no markup, no emoji codes)."""
    (sys.stderr if err else sys.stdout).write(text + "\n")


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", markup=True) if code else None
    raise typer.Exit(code)


def refused(exc: DomainError) -> NoReturn:
    say(exc.message + (f"\n{exc.hint}" if exc.hint else ""), err=True)
    raise typer.Exit(2)


def database() -> Database:
    return Database()


def acting(session, as_holder: str | None):
    """The actor a command runs as: the holder named by --as, else an operator."""
    from otp_bot.store.domain.actors import Actor, actor_for_holder

    return actor_for_holder(session, as_holder) if as_holder else Actor.cli_operator()


def read_text(path: str, what: str) -> str:
    """A file's text, or stdin's for `-`; an unreadable one ends the command."""
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {what} from {path}: {exc}")


def callback_allow():
    """OTP_CALLBACK_ALLOW (non-public callback targets an operator allows), checked: a
    malformed entry is named, exit 2."""
    from otp_bot.bot.slack.settings import ConfigError, callback_allowlist

    try:
        return callback_allowlist()
    except ConfigError as exc:
        fail(str(exc))


def slack_settings(*required: str):
    """The Slack settings, checked: a missing or malformed variable is named, exit 2."""
    from otp_bot.bot.slack.settings import ConfigError, PacingSettings, SlackSettings, load

    settings = SlackSettings()
    try:
        settings.require(*required)
        load(PacingSettings)  # OTP_SLACK_PACE, read when the client is made: a malformed one is named now
    except ConfigError as exc:
        fail(str(exc))
    return settings
