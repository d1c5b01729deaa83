"""A decision through any surface, with the delegation it was made under on the record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.gate import decisions
from otp_bot.store.models import AuditEntry


def decide(session: Session, actor: Actor, draft_id: int | str, verdict: str, **kw: Any) -> decisions.Decided:
    """`decisions.decide`; when this person decided only as someone's delegate, the audit
    chain says for whom, in the same transaction as the decision."""
    decided = decisions.decide(session, actor, draft_id, verdict, **kw)
    delegator = decided.decision.on_behalf_of if decided.decision is not None else None
    if delegator is not None and not (kw.get("again") and _noted(session, decided.draft.id, actor)):
        audit.record(
            session,
            actor.audit_name,
            "draft.on_behalf",
            f"draft:{decided.draft.id}",
            verdict=verdict,
            on_behalf_of=delegator,
        )
    return decided


def _noted(session: Session, draft_id: int, actor: Actor) -> bool:
    """A retried request whose first attempt landed has its note already."""
    return (
        session.scalar(
            select(AuditEntry.id).where(
                AuditEntry.subject == f"draft:{draft_id}",
                AuditEntry.action == "draft.on_behalf",
                AuditEntry.actor == actor.audit_name,
            )
        )
        is not None
    )
