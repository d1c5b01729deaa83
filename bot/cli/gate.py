"""`otp draft …`, `otp flag …` and `otp audit verify`: the human gate from a terminal."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from otp_bot.bot.cli.common import (
    AsHolder,
    BodyFile,
    Destination,
    Key,
    Kind,
    NotCustomerFacing,
    Revises,
    Subject,
    Title,
    acting,
    callback_allow,
    database,
    err,
    out,
    read_text,
    refused,
)
from otp_bot.store.domain.errors import DomainError

draft_app = typer.Typer(no_args_is_help=True, help="Agent drafts and the human decisions on them.")
flag_app = typer.Typer(no_args_is_help=True, help="Flags on subjects: policies hold drafts by them.")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log.")


@draft_app.command("submit")
def draft_submit(
    seat: Annotated[str, typer.Option(help="The drafting seat; its holder is the drafter.")],
    kind: Kind,
    subject: Subject,
    title: Title,
    body_file: BodyFile,
    key: Key = None,
    destination: Destination = None,
    not_customer_facing: NotCustomerFacing = False,
    revises: Revises = None,
    as_holder: AsHolder = None,
) -> None:
    """Submit a draft for human approval (with --revises, the revision of a draft whose changes
    were requested); prints its number (the last line, alone)."""
    from otp_bot.store.domain.gate.drafts import submit_draft
    from otp_bot.store.domain.gate.reading import outcome

    body = read_text(body_file, "the body")
    allow = callback_allow()
    try:
        with database().session() as session:
            done = submit_draft(
                session,
                acting(session, as_holder),
                seat_id=seat,
                kind=kind,
                subject=subject,
                title=title,
                body=body,
                customer_facing=not not_customer_facing,
                destination=destination,
                key=key,
                callback_allow=allow,
                revises=revises,
            )
            draft_id, state, said = done.draft.id, done.draft.status, outcome(session, done.draft)
    except DomainError as exc:
        refused(exc)
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
    from otp_bot.bot.cli.draft_text import draft_text
    from otp_bot.commands.views.drafts import record
    from otp_bot.store.domain.gate.reading import get_draft

    try:
        with database().session(readonly=True) as session:
            shown = record(session, get_draft(session, draft_id))
    except DomainError as exc:
        refused(exc)
    if as_json:
        sys.stdout.write(json.dumps(shown, indent=2, ensure_ascii=False) + "\n")
    else:
        out.print(draft_text(shown), markup=False)


@draft_app.command("list")
def draft_list(
    status: Annotated[
        str | None,
        typer.Option(
            help="Only drafts in this state: held, pending, changes-requested, approved, rejected, expired, "
            "withdrawn, revised."
        ),
    ] = None,
    seat: Annotated[str | None, typer.Option(help="Only this seat's drafts.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many, newest first.")] = 20,
) -> None:
    """Recent drafts, newest first."""
    from otp_bot.bot.cli.draft_text import draft_row
    from otp_bot.commands.views.drafts import line
    from otp_bot.store.domain.clock import utcnow
    from otp_bot.store.domain.gate.queries import list_drafts

    now = utcnow()
    try:
        with database().session(readonly=True) as session:
            rows = [draft_row(line(d, now)) for d in list_drafts(session, status=status, seat_id=seat, limit=limit)]
    except DomainError as exc:
        refused(exc)
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
    from otp_bot.store.domain.gate.decisions import withdraw

    try:
        with database().session() as session:
            draft = withdraw(session, acting(session, as_holder), draft_id)
    except DomainError as exc:
        refused(exc)
    out.print(f"draft #{draft.id} withdrawn", markup=False)


@flag_app.command("set")
def flag_set(
    subject: Annotated[str, typer.Argument(help="What the flag is on, one word: client:acme.")],
    flag: Annotated[str, typer.Argument(help="The flag: at-risk, churning, ...")],
    seat: Annotated[str | None, typer.Option(help="The flagging seat (needed unless --as holds exactly one).")] = None,
    reason: Annotated[
        str | None, typer.Option(help="Why, in a sentence: shown wherever the flag holds a draft.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="When it ends by itself: 3d, 12h, or a date like 2026-12-01.")
    ] = None,
    as_holder: AsHolder = None,
) -> None:
    """Flag a subject for a seat; policies hold drafts while it stands."""
    from otp_bot.bot.cli.draft_text import flag_row
    from otp_bot.commands.views.drafts import flag_view
    from otp_bot.store.domain.gate.flags import parse_until, set_flag
    from otp_bot.store.domain.gate.queries import policies_holding

    try:
        with database().session() as session:
            change = set_flag(
                session,
                acting(session, as_holder),
                subject,
                flag,
                seat_id=seat,
                reason=reason,
                until=parse_until(until),
            )
            shown, holds = flag_view(change.flag), policies_holding(session, change.flag)
    except DomainError as exc:
        refused(exc)
    out.print(flag_row(shown), markup=False)
    if not change.created:
        err.print("note: the flag was already set; its reason and expiry are updated", markup=False)
    for policy in holds:
        err.print(
            f"note: while it stands, policy {policy.name} holds new {policy.hold_kind} drafts about {shown['subject']}",
            markup=False,
        )
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
    from otp_bot.store.domain.gate.flags import lift_flag

    try:
        with database().session() as session:
            change = lift_flag(session, acting(session, as_holder), subject, flag, seat_id=seat)
            released = [(d.id, d.kind, d.title) for d in change.released]
    except DomainError as exc:
        refused(exc)
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
    from otp_bot.bot.cli.draft_text import flag_row
    from otp_bot.commands.views.drafts import flag_view
    from otp_bot.store.domain.gate.flags import active_flags

    with database().session(readonly=True) as session:
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

    with database().session(readonly=True) as session:
        broken = audit.verify(session)
        if broken is None:
            count = session.scalar(select(func.count()).select_from(AuditEntry))
            out.print(f"audit log intact ({count} entries)", markup=False)
            return
        at = as_utc(broken.at).strftime("%Y-%m-%d %H:%M:%S")
        out.print(
            f"audit log broken at entry {broken.id} ({broken.action} {broken.subject} at {at} UTC): "
            "it does not match its hash, so it or an entry before it was changed",
            markup=False,
        )
    raise typer.Exit(1)
