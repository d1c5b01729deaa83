"""`otp backup FILE` and `otp retention purge`: keeping a running install safe and small."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from otp_bot.bot.cli.common import database, fail, say

retention_app = typer.Typer(no_args_is_help=True, help="Old inbound events and finished outbox items: purge them.")


def backup(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the copy (a new file).")],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
) -> None:
    """Copy the SQLite store consistently while it is in use; for PostgreSQL, say how to run pg_dump."""
    from otp_bot.bot.ops.backup import BackupRefused
    from otp_bot.bot.ops.backup import backup as make_backup
    from otp_bot.store.db import StoreSettings

    try:
        done = make_backup(StoreSettings().resolved_url(), file, force=force)
    except BackupRefused as exc:
        say(str(exc), err=True)
        raise typer.Exit(2) from None
    say(
        f"backed up {done.source} to {done.target}: {done.size / 1_000_000:.1f} MB, {done.pages} pages, "
        f"integrity ok, in {done.seconds:.1f} s"
    )


@retention_app.command("purge")
def retention_purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")] = False,
    days: Annotated[
        int | None, typer.Option(min=0, help="Keep finished outbox items this many days (default: OTP_RETENTION_DAYS).")
    ] = None,
) -> None:
    """Purge inbound events the replay guard no longer needs and finished outbox items older than the retention."""
    from otp_bot.bot.ops.retention import RetentionSettings, purge
    from otp_bot.bot.slack.settings import ConfigError, load

    try:
        keep = load(RetentionSettings).days if days is None else days
    except ConfigError as exc:
        fail(str(exc))
    purged = purge(database(), keep, dry_run=dry_run)
    verb = "would purge" if dry_run else "purged"
    kept = f"older than {keep} days" if keep else "(none: a retention of 0 days keeps them)"
    say(
        f"inbound events past the replay guard's window: {purged.inbound_events}\n"
        f"finished outbox items {kept}: {purged.outbox_items}\n"
        f"{verb} {purged.total} records; pending and failed items, waiting drafts and the audit log are kept"
    )
