"""The example org's people and agents as the gate sees them, and the gate's steps done
directly against the store: submit, decide, load, flag."""

from __future__ import annotations

from sqlalchemy import func, select

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.gate import decisions, drafts, flags, reading
from otp_bot.store.models import Draft, OutboxItem

PULSE = Actor(label="Pulse", holder_id="pulse")  # holds retention (supervisor Bogdan)
DIRK = Actor(label="Dirk", holder_id="dirk")  # holds sales (supervisor David)
PEPPER = Actor(label="Pepper", holder_id="pepper")  # holds inbox: two approvals needed
DASH = Actor(label="Dash", holder_id="dash")  # holds analytics: no approval route
BOGDAN = Actor(label="Bogdan", holder_id="bogdan")  # approves retention and sales; holds coo
DAVID = Actor(label="David", holder_id="david")
OPERATOR = Actor.cli_operator("test")
BOGDAN_SLACK, DAVID_SLACK = "U02BGD4N8RM", "U02DSTL7K1Q"
HELD = (
    "client:acme is flagged at-risk by Client Retention (Pulse): two missed calls; "
    "policy retention-wins: retention wins over expansion"
)


def submit(db, actor=PULSE, now=None, **fields) -> int:
    values = {
        "seat_id": "retention",
        "kind": "retention-outreach",
        "subject": "client:acme",
        "title": "Check in",
        "body": "Hi Acme, how are the new ads doing?",
        **fields,
    }
    with db.session() as s:
        return drafts.submit_draft(s, actor, now=now, **values).draft.id


def submit_many(db, n: int, actor=PULSE, **fields) -> list[int]:
    """`n` drafts in one transaction, numbered: `{i}` in a text field is the draft's number."""
    values = {
        "seat_id": "retention",
        "kind": "retention-outreach",
        "subject": "client:acme",
        "title": "Check in {i}",
        "body": "Hi Jo ({i})",
        **fields,
    }
    with db.session() as s:
        return [
            drafts.submit_draft(
                s, actor, **{k: v.format(i=i) if isinstance(v, str) else v for k, v in values.items()}
            ).draft.id
            for i in range(n)
        ]


def decide(db, actor, draft_id, verdict="approve", **kwargs) -> decisions.Decided:
    with db.session() as s:
        return decisions.decide(s, actor, draft_id, verdict, **kwargs)


def load(db, draft_id) -> Draft:
    with db.session() as s:
        draft = reading.get_draft(s, draft_id)
        draft.outcome_now = reading.outcome(s, draft)
        return draft


def work(db, draft_id) -> list[tuple[str, dict]]:
    with db.session() as s:
        return [
            (o.kind, o.payload)
            for o in s.scalars(select(OutboxItem).where(OutboxItem.draft_id == draft_id).order_by(OutboxItem.id))
        ]


def count(db, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def flag_acme(db, actor=PULSE, **kwargs) -> flags.FlagChange:
    with db.session() as s:
        return flags.set_flag(s, actor, "client:acme", "at-risk", reason="two missed calls", **kwargs)
