"""Read-only questions the surfaces ask about the human gate: which drafts (all, recent,
waiting for a person), what a flag holds, what happened to a draft (from the audit log,
the one record of every step), and what an approval message shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_seat
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.gate.delegation import standing_in_for
from otp_bot.store.domain.gate.reading import approvals, approver_names, outcome
from otp_bot.store.models import DRAFT_STATUSES, AuditEntry, Draft, DraftDecision, Flag, Holder, Policy, Seat

MAX_LIST = 500


def draft_status(text: str) -> str:
    """A status as a person or an agent writes it, checked against the statuses a draft can have."""
    status = text.strip().lower()
    if status not in DRAFT_STATUSES:
        raise Invalid(f"`{status[:40]}` is not a draft status", hint=f"one of {', '.join(DRAFT_STATUSES)}")
    return status


def list_drafts(
    session: Session, *, status: str | None = None, seat_id: str | None = None, limit: int = 20
) -> list[Draft]:
    """The most recent drafts first, optionally of one status or one seat."""
    if not 1 <= limit <= MAX_LIST:
        raise Invalid(f"list between 1 and {MAX_LIST} drafts")
    query = select(Draft).order_by(Draft.id.desc()).limit(limit)
    if status:
        query = query.where(Draft.status == draft_status(status))
    if seat_id:
        query = query.where(Draft.seat_id == get_seat(session, seat_id).id)
    return list(session.scalars(query))


def policies_holding(session: Session, flag: Flag) -> list[Policy]:
    """The policies that hold drafts while this flag stands (the same match as `policies.hold_for`)."""
    return [
        p
        for p in session.scalars(select(Policy).order_by(Policy.position))
        if p.hold_kind
        and p.while_flag
        and p.while_flag.lower() == flag.flag
        and (not p.winner or p.winner == flag.seat_id)
    ]


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    who: str  # a holder's name, "operator …", "policy …" or "system"
    action: str  # the audit action, e.g. draft.approve
    detail: dict[str, Any]


def history(session: Session, draft_id: int, limit: int = 50) -> list[Step]:
    """What happened to a draft, oldest first (the newest `limit` steps)."""
    entries = list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject == f"draft:{draft_id}")
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    )[::-1]
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


def waiting_for(session: Session, actor: Actor, groups: frozenset[str] = frozenset(), limit: int = 50) -> list[Draft]:
    """Pending drafts this person may decide and has not decided yet, oldest first.

    Who may decide is read from plain columns first, so thousands of pending drafts cost
    one light query; only the drafts shown are loaded whole."""
    if actor.holder_id is None:
        return []
    decided = set(
        session.scalars(
            select(DraftDecision.draft_id)
            .join(Draft)
            .where(
                Draft.status == "pending",
                or_(DraftDecision.holder_id == actor.holder_id, DraftDecision.on_behalf_of == actor.holder_id),
            )
        )
    )
    rows = session.execute(
        select(Draft.id, Draft.approvers, Draft.usergroup, Draft.escalated_to, Draft.drafted_by)
        .where(Draft.status == "pending")
        .order_by(Draft.queued_at, Draft.id)
    )
    stand_in = standing_in_for(session, actor.holder_id)  # out of office: theirs wait for this person too
    spoken: set[tuple[int, str | None]] = set()  # (draft, person) where that person has decided, or been decided for
    if stand_in:
        for row in session.execute(
            select(DraftDecision.draft_id, DraftDecision.holder_id, DraftDecision.on_behalf_of)
            .join(Draft)
            .where(Draft.status == "pending")
        ):
            spoken |= {(row.draft_id, row.holder_id), (row.draft_id, row.on_behalf_of)}
    mine = [
        r.id
        for r in rows
        if r.id not in decided
        and r.drafted_by != actor.holder_id
        and (
            actor.holder_id in r.approvers
            or actor.holder_id == r.escalated_to
            or (r.usergroup and r.usergroup in groups)
            or any(
                (r.id, person) not in spoken for person in stand_in & ({*r.approvers, r.escalated_to} - {r.drafted_by})
            )
        )
    ]
    if not mine:
        return []
    shown = mine[:limit]
    found = {d.id: d for d in session.scalars(select(Draft).where(Draft.id.in_(shown)))}
    return [found[i] for i in shown]


def recent(session: Session, limit: int = 20, seat_id: str | None = None) -> list[Draft]:
    query = select(Draft).order_by(Draft.id.desc()).limit(limit)
    if seat_id:
        query = query.where(Draft.seat_id == seat_id)
    return list(session.scalars(query))


@dataclass
class DraftContext:
    """Everything an approval message shows, loaded in one place."""

    draft: Draft
    approvers: str
    outcome: str
    flags: list  # active Flag rows on the subject
    off_track: list  # MetricRow of the seat's metrics that are off track
    approved_by: list[str]


def context_for(session: Session, draft: Draft, now: dt.datetime | None = None) -> DraftContext:
    from otp_bot.store.domain.gate.flags import active_flags
    from otp_bot.store.domain.scorecard.metrics import current_rows

    rows = current_rows(session, draft.seat.metrics) if draft.seat.metrics else []
    return DraftContext(
        draft,
        approver_names(session, draft),
        outcome(session, draft),
        active_flags(session, draft.subject, now),
        [r for r in rows if r.off_track],
        [d.holder.name for d in approvals(draft)],
    )


def drafts_of(session: Session, actor: Actor, *, status: str | None = None, limit: int = 20) -> list[Draft]:
    """The drafts an actor may read as theirs, newest first: those of the seats they hold and those
    they drafted themselves (before a seat changed hands); every draft for an operator."""
    if not 1 <= limit <= MAX_LIST:
        raise Invalid(f"list between 1 and {MAX_LIST} drafts")
    query = select(Draft).order_by(Draft.id.desc()).limit(limit)
    if status:
        query = query.where(Draft.status == draft_status(status))
    if not actor.operator:
        if actor.holder_id is None:
            return []
        held = select(Seat.id).where(Seat.holder_id == actor.holder_id)
        query = query.where(or_(Draft.drafted_by == actor.holder_id, Draft.seat_id.in_(held)))
    return list(session.scalars(query).unique())
