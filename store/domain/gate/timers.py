"""Time passing for pending drafts: approvers reminded, the draft escalated to the next
human up, and expired when nobody decided in time (run by the worker's sweep)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit, outbox
from otp_bot.store.domain.agents import webhooks
from otp_bot.store.domain.chart.locks import hold_chart_if_any
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.gate.notices import notify_people, queue_message_update
from otp_bot.store.domain.gate.routing import next_human_up
from otp_bot.store.models import Draft


@dataclass
class Swept:
    reminded: int = 0
    escalated: int = 0
    expired: int = 0


def sweep_drafts(session: Session, now: dt.datetime | None = None) -> Swept:
    """Remind, escalate and expire pending drafts whose time has come."""
    now = now or utcnow()
    done = Swept()
    hold_chart_if_any(session)  # before the drafts: an import locks the chart, then the drafts (chart/locks.py)
    due = session.scalars(
        select(Draft)
        .where(
            Draft.status == "pending",
            or_(
                and_(Draft.reminded_at.is_(None), Draft.remind_at <= now),
                and_(Draft.escalated_to.is_(None), Draft.escalate_at <= now),
                Draft.expires_at <= now,
            ),
        )
        .order_by(Draft.id)
        .with_for_update(skip_locked=True, of=Draft)
    ).all()
    for draft in due:
        # A time not set is never due, as in the query above (NULL <= now is not true).
        if draft.expires_at is not None and as_utc(draft.expires_at) <= now:
            draft.status, draft.decided_at = "expired", now
            audit.record(session, "system", "draft.expired", f"draft:{draft.id}")
            queue_message_update(session, draft, now)
            notify_people(session, draft, "expired", now)
            webhooks.queue_decision(session, draft, "expired", now)
            done.expired += 1
            continue
        if draft.reminded_at is None and draft.remind_at is not None and as_utc(draft.remind_at) <= now:
            draft.reminded_at = now
            outbox.enqueue(
                session,
                "notify",
                f"draft:{draft.id}:remind",
                {"event": "reminder", "thread": True},
                draft_id=draft.id,
                now=now,
            )
            audit.record(session, "system", "draft.reminded", f"draft:{draft.id}")
            done.reminded += 1
        if draft.escalated_to is None and draft.escalate_at is not None and as_utc(draft.escalate_at) <= now:
            decided = {d.holder_id for d in draft.decisions}
            target = next_human_up(session, draft.seat, exclude={draft.drafted_by, *draft.approvers, *decided})
            if target is None or not target.slack_user:
                draft.escalate_at = None  # nobody above to escalate to: stop looking
            else:
                draft.escalated_to = target.id
                outbox.enqueue(
                    session,
                    "approval_post",
                    f"draft:{draft.id}:post:{target.slack_user}",
                    {"channel": target.slack_user, "purpose": "escalation"},
                    draft_id=draft.id,
                    now=now,
                )
                audit.record(session, "system", "draft.escalated", f"draft:{draft.id}", to=target.id)
                done.escalated += 1
    return done
