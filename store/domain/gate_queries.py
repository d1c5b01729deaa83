"""Read-only questions the surfaces ask about the human gate: which drafts, what a flag
holds, what happened to a draft (from the audit log, the one record of every step)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart import get_seat
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.models import DRAFT_STATUSES, AuditEntry, Draft, Flag, Holder, Policy

MAX_LIST = 500


def list_drafts(session: Session, *, status: str | None = None, seat_id: str | None = None,
                limit: int = 20) -> list[Draft]:
    """The most recent drafts first, optionally of one status or one seat."""
    if not 1 <= limit <= MAX_LIST:
        raise Invalid(f"list between 1 and {MAX_LIST} drafts")
    query = select(Draft).order_by(Draft.id.desc()).limit(limit)
    if status:
        status = status.strip().lower()
        if status not in DRAFT_STATUSES:
            raise Invalid(f"`{status[:40]}` is not a draft status", hint=f"one of {', '.join(DRAFT_STATUSES)}")
        query = query.where(Draft.status == status)
    if seat_id:
        query = query.where(Draft.seat_id == get_seat(session, seat_id).id)
    return list(session.scalars(query))


def policies_holding(session: Session, flag: Flag) -> list[Policy]:
    """The policies that hold drafts while this flag stands (the same match as `policies.hold_for`)."""
    return [p for p in session.scalars(select(Policy).order_by(Policy.position))
            if p.hold_kind and p.while_flag and p.while_flag.lower() == flag.flag
            and (not p.winner or p.winner == flag.seat_id)]


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    who: str  # a holder's name, "operator …", "policy …" or "system"
    action: str  # the audit action, e.g. draft.approve
    detail: dict[str, Any]


def history(session: Session, draft_id: int, limit: int = 50) -> list[Step]:
    """What happened to a draft, oldest first (the newest `limit` steps)."""
    entries = list(session.scalars(select(AuditEntry).where(AuditEntry.subject == f"draft:{draft_id}")
                                   .order_by(AuditEntry.id.desc()).limit(limit)))[::-1]
    ids = {e.actor.removeprefix("holder:") for e in entries if e.actor.startswith("holder:")}
    names = dict(session.execute(select(Holder.id, Holder.name).where(Holder.id.in_(ids))).all()) if ids else {}
    return [Step(e.at, _who(e.actor, names), e.action, e.detail or {}) for e in entries]


def _who(actor: str, names: dict[str, str]) -> str:
    kind, _, name = actor.partition(":")
    if kind == "holder":
        return names.get(name, name)
    if kind == "operator":
        return "an operator" if name in ("operator", "cli") else f"operator {name}"
    if kind == "policy":
        return f"policy {name}"
    return actor
