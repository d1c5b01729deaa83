"""/otp in Slack: the same commands/ code as `otp ask`.

The answer goes in the acknowledgement when it is ready within the ack budget (one
round trip, no response_url); otherwise the ack says "working on it" and the answer
follows through the response URL.

Over HTTP, a plain read (commands/routing.py) is answered the same way by bot/slack/door.py,
without Bolt; this listener answers it over Socket Mode and in the console, and answers
everything else that no listener of its own takes.
"""

from __future__ import annotations

import time
from concurrent.futures import TimeoutError as FutureTimeout

from slack_bolt import Ack, App, Respond

from otp_bot.bot.ops.context import note
from otp_bot.bot.ops.metrics import count_command
from otp_bot.bot.slack.app import Deps
from otp_bot.bot.slack.errors import friendly
from otp_bot.bot.slack.reply import answer_payload
from otp_bot.commands import run
from otp_bot.commands.dispatch import command_name, is_read_only
from otp_bot.commands.parser import split_share
from otp_bot.commands.reply import Reply
from otp_bot.store.domain.errors import DomainError

ACK_BUDGET_SECONDS = 2.0  # Slack allows 3; keep room for the network
WORKING_ON_IT = ":hourglass_flowing_sand: Working on it…"


def answer(deps: Deps, user_id: str, text: str, read_only: bool | None = None) -> Reply:
    """`read_only` is `is_read_only(text)`, when the caller knows it already."""
    name, started, outcome = command_name(text), time.perf_counter(), "error"
    note(command=name)
    try:
        if read_only is None:
            read_only = is_read_only(text)
        reply = _run_as(deps, user_id, text, read_only)
        outcome = "ok" if reply.ok else "refused"
        if not read_only:
            deps.kick()  # a write may have queued Slack work (a flag lifted releases held drafts)
        return reply
    except Exception as exc:
        outcome = "refused" if isinstance(exc, DomainError) else "error"
        return friendly(exc)
    finally:
        count_command(name, outcome, time.perf_counter() - started)


def _run_as(deps: Deps, user_id: str, text: str, read_only: bool) -> Reply:
    # The usual caller is on the chart: one transaction finds them and answers.
    with deps.db.session(readonly=read_only) as session:
        actor = deps.identity.actor_in(session, user_id)
        if actor is not None:
            return run(session, actor, text)
    # Otherwise Slack is asked for their profile outside any transaction, then the command runs.
    actor = deps.identity.actor(deps.db, user_id)
    with deps.db.session(readonly=read_only) as session:
        return run(session, actor, text)


def register(app: App, deps: Deps) -> None:
    @app.command("/otp")
    def otp_command(ack: Ack, command: dict, respond: Respond) -> None:
        text, share = split_share(command.get("text", ""))
        read_only = is_read_only(text)  # once: the answer and its payload both need it
        pending = deps.work.submit(answer, deps, command["user_id"], text, read_only)
        try:
            reply = pending.result(timeout=ACK_BUDGET_SECONDS)
        except FutureTimeout:
            ack(text=WORKING_ON_IT, response_type="ephemeral")
            respond(**answer_payload(pending.result(), text, share=share, read_only=read_only))
            return
        ack(**answer_payload(reply, text, share=share, read_only=read_only))
