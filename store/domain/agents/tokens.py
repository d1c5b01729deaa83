"""API tokens: an agent's credential for the HTTP API and MCP.

A token acts as its holder: it may do what that holder may do (push values to the
metrics of seats they hold, submit drafts and set flags for them, send and read their
seats' messages, read the chart), plus pushing values for seats granted to it (the
KPI-tracking agent pushes for everyone). An admin token acts as an operator.

Tokens are random (256 bits), so a plain SHA-256 is the right hash: there is nothing
to brute-force, and a lookup by hash is one indexed read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_holder, get_seat
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.errors import DomainError, Invalid, NotFound
from otp_bot.store.models import ApiToken

PREFIX = "otp_"
USE_RESOLUTION = dt.timedelta(minutes=1)  # last_used_at is refreshed at most this often


class Unauthenticated(DomainError):
    """No token, or one that is not (or no longer) valid: the caller is nobody."""


@dataclass
class Created:
    token: ApiToken
    secret: str  # the token itself: shown once, never stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: Session,
    actor: Actor,
    *,
    holder_id: str | None,
    name: str | None = None,
    push_seats: list[str] | None = None,
    admin: bool = False,
    now: dt.datetime | None = None,
) -> Created:
    if not actor.operator:
        raise Invalid("only an operator creates tokens")
    holder = get_holder(session, holder_id) if holder_id else None
    if holder is None and not admin:
        raise Invalid("a token acts as a holder: name one with --holder, or make an --admin token")
    seats = sorted({get_seat(session, s).id for s in push_seats or []})
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        holder_id=holder.id if holder else None,
        name=(name or (holder.id if holder else "admin"))[:100],
        prefix=secret[:12],
        hash=digest(secret),
        push_seats=seats,
        admin=admin,
        created_by=actor.audit_name,
        created_at=now or utcnow(),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor.audit_name,
        "token.created",
        f"token:{token.id}",
        holder=token.holder_id,
        push_seats=seats,
        admin=admin,
        prefix=token.prefix,
    )
    return Created(token, secret)


def list_tokens(session: Session, *, include_revoked: bool = False) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(session.scalars(query))


def find_token(session: Session, which: str) -> ApiToken:
    """A token by id or by the prefix `token list` shows."""
    which = which.strip()
    query = (
        select(ApiToken).where(ApiToken.id == int(which))
        if which.isdigit() and len(which) < 10  # an id fits an INTEGER column
        else select(ApiToken).where(ApiToken.prefix == which[:12])
    )
    token = session.scalar(query)
    if token is None:
        raise NotFound(f"there is no token `{which[:20]}`", hint="`otp token list` shows ids and prefixes")
    return token


def revoke_token(session: Session, actor: Actor, which: str, now: dt.datetime | None = None) -> ApiToken:
    """Revoke by id or by the prefix `token list` shows. Its webhook hears nothing more."""
    token = find_token(session, which)
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        audit.record(session, actor.audit_name, "token.revoked", f"token:{token.id}", prefix=token.prefix)
    return token


@dataclass(frozen=True)
class Identity:
    actor: Actor
    token_id: int
    stale: bool  # its last use is older than USE_RESOLUTION: worth writing down


def identify(session: Session, secret: str | None, now: dt.datetime | None = None) -> Identity:
    """Who a bearer token stands for, reading only (a read-only transaction will do);
    Unauthenticated for anything that is not a valid token."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 200:
        raise Unauthenticated("a valid API token is required", hint="send `Authorization: Bearer otp_…`")
    token = session.scalar(select(ApiToken).where(ApiToken.hash == digest(secret)))
    if token is None or token.revoked_at is not None:
        raise Unauthenticated("this API token is not valid (unknown or revoked)")
    now = now or utcnow()
    stale = token.last_used_at is None or as_utc(token.last_used_at) < now - USE_RESOLUTION
    label = f"{token.holder.name if token.holder else 'admin'} (token {token.prefix})"
    actor = Actor(
        label=label,
        holder_id=token.holder_id,
        operator=token.admin,
        push_seats=frozenset(token.push_seats),
        token_id=token.id,
    )
    return Identity(actor, token.id, stale)


def mark_used(session: Session, token_id: int, now: dt.datetime | None = None) -> None:
    # One column updated, not the loaded row flushed: nothing else about the token is written.
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now or utcnow()))


def authenticate(session: Session, secret: str | None, now: dt.datetime | None = None) -> Actor:
    """The Actor a bearer token stands for; Unauthenticated for anything else. Notes the
    token's use (at most once a USE_RESOLUTION), so the session must be able to write."""
    now = now or utcnow()
    who = identify(session, secret, now)
    if who.stale:
        mark_used(session, who.token_id, now)
    return who.actor
