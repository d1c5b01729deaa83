"""Pick the subcommand for a line of /otp text and map domain errors to replies.

This is the one place a command's `DomainError` becomes a friendly message; any other
exception is a bug and goes up to the surface, which logs it with an id to quote.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

from rapidfuzz import process
from sqlalchemy.orm import Session

from otp_bot.commands.parser import Usage, strip_prefix, tokenize
from otp_bot.commands.reply import Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.render import render
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.errors import DomainError

Handler = Callable[[Session, Actor, list[str]], Reply]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary: str
    handler: Handler
    aliases: tuple[str, ...] = ()
    writes: bool = False  # a command that changes the store is never re-run by a Share button


COMMANDS: dict[str, Command] = {}


def command(
    name: str, usage: str, summary: str, aliases: tuple[str, ...] = (), writes: bool = False
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = Command(name, usage, summary, handler, aliases, writes)
        return handler

    return register


def _lookup(word: str) -> Command | None:
    word = word.lower()
    for cmd in COMMANDS.values():
        if word == cmd.name or word in cmd.aliases:
            return cmd
    return None


def command_of(tokens: list[str]) -> Command | None:
    """The command a tokenized line names (`help` for none), or None when it names none."""
    _load()
    return _lookup(tokens[0]) if tokens else COMMANDS["help"]


def is_read_only(text: str) -> bool:
    """True when the text names a command that only reads (safe to run again to share it)."""
    cmd = command_of(tokenize(strip_prefix(text)))
    return cmd is not None and not cmd.writes


def command_name(text: str) -> str:
    """The name of the subcommand `text` runs (`help` for none, `unknown` when it names none):
    a label for metrics and logs that never carries what was typed."""
    cmd = command_of(tokenize(strip_prefix(text)))
    return cmd.name if cmd is not None else "unknown"


def closest_command(word: str) -> Command | None:
    names = {alias: cmd for cmd in COMMANDS.values() for alias in (cmd.name, *cmd.aliases)}
    found = process.extractOne(word.lower(), list(names), score_cutoff=55)
    return names[found[0]] if found else None


def error_reply(message: str, hint: str | None = None, usage: str | None = None) -> Reply:
    text = render("error.j2", message=message, hint=hint, usage=usage)
    return Reply(text=text, blocks=[blocks.section(text)], ok=False)


def _load() -> None:
    from otp_bot.commands import (  # noqa: F401  (registers)
        autonomy,
        briefing,
        chart,
        delegate,
        drafts,
        flags,
        help,
        inbox,
        issues,
        kpi,
        lifecycle,
        review,
        rocks,
        rules,
        scorecard,
        seat,
        todos,
        who_owns,
    )


def run(session: Session, actor: Actor, text: str) -> Reply:
    _load()
    tokens = tokenize(strip_prefix(text))
    if not tokens:
        return COMMANDS["help"].handler(session, actor, [])
    cmd = _lookup(tokens[0])
    if cmd is None:
        close = closest_command(tokens[0])
        hint = f"did you mean `/otp {close.usage}`?" if close else None
        return error_reply(f"`{tokens[0][:40]}` is not a command I know", hint or "`/otp help` lists every command")
    # A failed write is undone to its savepoint; a read has nothing to undo (and on
    # PostgreSQL the savepoint would cost two round trips).
    undo = session.begin_nested() if cmd.writes else nullcontext()
    try:
        with undo:
            return cmd.handler(session, actor, tokens[1:])
    except Usage as exc:
        return error_reply(exc.message, exc.hint, usage=f"/otp {cmd.usage}")
    except DomainError as exc:
        return error_reply(exc.message, exc.hint)
