"""`otp outbox list [--failed]` and `otp outbox retry ID`: the outbox for operators."""

from __future__ import annotations

from typing import Annotated

import typer

from otp_bot.bot.cli.common import database, refused, say
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.errors import DomainError

outbox_app = typer.Typer(no_args_is_help=True, help="Work queued for Slack and callbacks: see it, retry what failed.")


@outbox_app.command("list")
def outbox_list(
    failed: Annotated[bool, typer.Option("--failed", help="Only items that used up their attempts.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
) -> None:
    """Outbox items, newest first: id, kind, status, attempts, draft, key, last error."""
    from otp_bot.store.domain import outbox

    with database().session(readonly=True) as session:
        found = outbox.items(session, failed=failed, limit=limit)
        lines = [
            f"{i.id}\t{i.kind}\t{i.status}\t{i.attempts}/{i.max_attempts}\t"
            f"{'draft #' + str(i.draft_id) if i.draft_id else '-'}\t{i.key}\t"
            f"{as_utc(i.created_at).strftime('%Y-%m-%d %H:%M UTC')}\t{_one_line(i.last_error)}"
            for i in found
        ]
    say("\n".join(lines) if lines else ("no failed items" if failed else "the outbox is empty"))


@outbox_app.command("retry")
def outbox_retry(
    item_id: Annotated[int, typer.Argument(metavar="ID", help="The item's id (`otp outbox list`).")],
) -> None:
    """Queue a failed item again with a fresh attempt budget (it still looks for an earlier post first)."""
    from otp_bot.store.domain.actors import Actor
    from otp_bot.store.domain.gate.delivery import retry_item

    try:
        with database().session() as session:
            item = retry_item(session, Actor.cli_operator(), item_id)
            said = f"outbox item {item.id} ({item.kind}" + (f", draft #{item.draft_id}" if item.draft_id else "")
    except DomainError as exc:
        refused(exc)
    say(f"{said}) queued again; a running `otp serve` or `otp run` sends it")


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())[:200]
