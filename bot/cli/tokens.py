"""`otp token …`: the API tokens agents sign in with (shown once, stored hashed)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from otp_bot.bot.cli.common import callback_allow, database, err, fail, out, refused
from otp_bot.store.domain.errors import DomainError

token_app = typer.Typer(no_args_is_help=True, help="API tokens: how agents sign in to the HTTP API.")


@token_app.command("create")
def token_create(
    holder: Annotated[str | None, typer.Option(help="The holder the token acts as (usually an agent).")] = None,
    seat: Annotated[
        list[str] | None, typer.Option("--seat", help="Also push values to this seat's metrics (repeat for several).")
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Act as an operator: every seat, every draft.")] = False,
    name: Annotated[str | None, typer.Option(help="A label for `otp token list` (default: the holder's id).")] = None,
) -> None:
    """Create an API token. It is shown once, as the last line of stdout; only its hash is stored."""
    from otp_bot.store.domain.actors import Actor
    from otp_bot.store.domain.agents.tokens import create_token

    try:
        with database().session() as session:
            created = create_token(
                session, Actor.cli_operator(), holder_id=holder, name=name, push_seats=seat or [], admin=admin
            )
            token = created.token
            who = f"{token.holder.name} ({token.holder_id})" if token.holder else ""
            held = sorted(Actor(label="", holder_id=token.holder_id).held_seat_ids(session))
    except DomainError as exc:
        refused(exc)
    rights = [f"acts as {who}" + (f" for {', '.join(held)}" if held else "")] if token.holder_id else []
    if token.push_seats:
        rights.append(f"also pushes values for {', '.join(token.push_seats)}")
    if admin:
        rights.append("admin: acts as an operator")
    err.print(
        f"token {token.id} `{token.name}` ({token.prefix}…): {'; '.join(rights)}.\n"
        "Store it now (OTP_TOKEN): it is not shown again.",
        markup=False,
    )
    sys.stdout.write(created.secret + "\n")


@token_app.command("list")
def token_list(
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
) -> None:
    """Tokens by id: prefix, holder, granted seats, admin, created, last used, webhook (never a secret)."""
    from otp_bot.store.domain.agents.tokens import list_tokens
    from otp_bot.store.domain.agents.webhooks import shown
    from otp_bot.store.domain.clock import as_utc

    def when(value) -> str:
        return as_utc(value).strftime("%Y-%m-%d %H:%M") if value else "never"

    with database().session(readonly=True) as session:
        rows = [
            (
                str(t.id),
                t.prefix,
                t.name,
                t.holder_id or "-",
                ",".join(t.push_seats) or "-",
                "yes" if t.admin else "no",
                when(t.created_at),
                when(t.last_used_at),
                shown(t.webhook_url) if t.webhook_url else "-",
                *((when(t.revoked_at) if t.revoked_at else "-",) if include_revoked else ()),
            )
            for t in list_tokens(session, include_revoked=include_revoked)
        ]
    if not rows:
        err.print("no tokens; create one with `otp token create --holder HOLDER`", markup=False)
        return
    head = (
        "id",
        "prefix",
        "name",
        "holder",
        "seats",
        "admin",
        "created (UTC)",
        "last used",
        "webhook",
        *(("revoked",) if include_revoked else ()),
    )
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for row in [head, *rows]:
        out.print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), markup=False)


@token_app.command("revoke")
def token_revoke(
    which: Annotated[
        str, typer.Argument(metavar="ID|PREFIX", help="The token's id or prefix, as `otp token list` shows them.")
    ],
) -> None:
    """Revoke a token: its next request is refused (401)."""
    from otp_bot.store.domain.actors import Actor
    from otp_bot.store.domain.agents.tokens import revoke_token
    from otp_bot.store.domain.clock import as_utc, utcnow

    now = utcnow()
    try:
        with database().session() as session:
            token = revoke_token(session, Actor.cli_operator(), which, now=now)
            newly = as_utc(token.revoked_at) == now
    except DomainError as exc:
        refused(exc)
    out.print(f"token {token.id} ({token.prefix}…) " + ("revoked" if newly else "was already revoked"), markup=False)


@token_app.command("webhook")
def token_webhook(
    which: Annotated[
        str, typer.Argument(metavar="ID|PREFIX", help="The token's id or prefix, as `otp token list` shows them.")
    ],
    url: Annotated[
        str | None, typer.Argument(help="Where every decision on its agent's drafts is posted (https://…).")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the webhook: nothing more is posted.")] = False,
) -> None:
    """Set a token's webhook: every decision on its agent's drafts is posted there, signed.
    The signing secret is shown once, as the last line of stdout; setting it again makes a new one."""
    from otp_bot.store.domain.actors import Actor
    from otp_bot.store.domain.agents import webhooks

    if clear == (url is not None):
        fail("give a URL to set the webhook, or --clear to remove it (not both)")
    try:
        with database().session() as session:
            if url is None:
                token, done = webhooks.clear_webhook(session, Actor.cli_operator(), which), None
            else:
                done = webhooks.set_webhook(session, Actor.cli_operator(), which, url, allow=callback_allow())
                token = done.token
            label = f"token {token.id} ({token.prefix}…)"
    except DomainError as exc:
        refused(exc)
    if done is None:
        out.print(f"{label}: no webhook; nothing more is posted", markup=False)
        return
    err.print(
        f"{label}: every decision on its agent's drafts is posted to {webhooks.shown(url or '')}, signed with "
        "the secret below (X-OTP-Signature). Store it now: it is not shown again.",
        markup=False,
    )
    sys.stdout.write(done.secret + "\n")
