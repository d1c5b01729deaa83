"""What a change to a draft queues for Slack: its approval message updated, and people told by DM."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from otp_bot.store.domain import outbox
from otp_bot.store.domain.chart.reading import accountable_human
from otp_bot.store.models import DRAFT_WAITING, Draft


def queue_message_update(
    session: Session, draft: Draft, now: dt.datetime, *, claim_for: dt.timedelta | None = None
) -> outbox.Claimed | None:
    """`claim_for`: queued already claimed by the caller, who sends it on commit (`outbox.enqueue`)."""
    # Every change queues a fresh update; each renders the draft as it is when sent.
    n = len(draft.decisions) + (1 if draft.status not in DRAFT_WAITING else 0)
    return outbox.enqueue(
        session,
        "approval_update",
        f"draft:{draft.id}:update:{draft.status}:{n}:{now.timestamp()}",
        {},
        draft_id=draft.id,
        now=now,
        claim_for=claim_for,
    )


def notify_people(session: Session, draft: Draft, event: str, now: dt.datetime, to: list[str] | None = None) -> None:
    """Queue a DM about `event` to people (holder ids; by default the seat's accountable human)."""
    if to is None:
        human = accountable_human(draft.drafter)
        to = [human.id] if human else []
    for holder_id in to:
        outbox.enqueue(
            session,
            "notify",
            f"draft:{draft.id}:notify:{event}:{holder_id}:{now.timestamp()}",
            {"event": event, "holder": holder_id},
            draft_id=draft.id,
            now=now,
        )
