"""Plain views of drafts and flags (data only, no Slack types): the /otp replies, the App
Home, `otp draft show` and its JSON all read the same dictionaries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from otp_bot.commands.views.describe import holder_text
from otp_bot.store.domain.chart.reading import accountable_human
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.gate import reading
from otp_bot.store.domain.gate.queries import Step, history
from otp_bot.store.models import Draft, Flag

# What each audit action means to a reader of a draft's history.
STEPS = {
    "draft.submitted": "submitted",
    "draft.held": "held",
    "draft.released": "released to approval",
    "draft.approve": "approved",
    "draft.reject": "rejected",
    "draft.on_behalf": "decided as a delegate",
    "draft.withdrawn": "withdrawn",
    "draft.changes_requested": "changes requested",
    "draft.revised": "revised",
    "draft.expired": "expired",
    "draft.reminded": "approvers reminded",
    "draft.escalated": "escalated",
    "draft.delivery.attempt": "delivery attempted",
    "draft.delivered": "delivered",
    "draft.delivery.failed": "delivery failed",
}


def stamp(value: dt.datetime | None) -> str | None:
    return as_utc(value).strftime("%Y-%m-%d %H:%M UTC") if value else None


def iso(value: dt.datetime | None) -> str | None:
    return as_utc(value).isoformat() if value else None


def age(since: dt.datetime | None, now: dt.datetime) -> str:
    """`5m ago`, `3h ago`, `2d ago`: how long ago, in its largest whole unit."""
    if since is None:
        return "at an unknown time"
    minutes = max(0, int((now - as_utc(since)).total_seconds() // 60))
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes}m ago"
    return f"{minutes // 60}h ago" if minutes < 1440 else f"{minutes // 1440}d ago"


def status_word(draft: Draft) -> str:
    return "approved with edits" if draft.status == "approved" and draft.edited else draft.status


def line(draft: Draft, now: dt.datetime) -> dict[str, Any]:
    """One draft in a list; long fields cut so a line stays short."""
    return {
        "id": draft.id,
        "status": status_word(draft),
        "seat": draft.seat.title[:60],
        "seat_id": draft.seat_id,
        "kind": draft.kind,
        "subject": draft.subject[:60],
        "title": draft.title[:80],
        "age": age(draft.queued_at or draft.created_at, now),
    }


def _step(step: Step) -> dict[str, Any]:
    what = STEPS.get(step.action, step.action)
    detail = step.detail
    if step.action == "draft.approve" and detail.get("edited"):
        what += " with edits"
    note = detail.get("reason") or detail.get("error") or detail.get("to") or detail.get("on_behalf_of") or ""
    if step.action == "draft.escalated":
        note = f"to {detail.get('to')}"
    if step.action == "draft.delivery.attempt":
        note = f"attempt {detail.get('attempt')} to {detail.get('destination')}"
    return {
        "at": iso(step.at),
        "when": stamp(step.at),
        "who": step.who,
        "action": step.action,
        "what": what,
        "note": str(note)[:300],
    }


def record(session: Session, draft: Draft) -> dict[str, Any]:
    """Everything about one draft, JSON-safe: what the drafting agent and the CLI read."""
    human = accountable_human(draft.drafter)
    return {
        "id": draft.id,
        "status": draft.status,
        "outcome": reading.outcome(session, draft),
        "seat": {"id": draft.seat_id, "title": draft.seat.title},
        "drafter": {
            "id": draft.drafted_by,
            "name": draft.drafter.name,
            "kind": draft.drafter.kind,
            "shown": holder_text(draft.drafter),
        },
        "accountable": human.name if human else None,
        "submitted_by": draft.submitted_by,
        "kind": draft.kind,
        "subject": draft.subject,
        "customer_facing": draft.customer_facing,
        "title": draft.title,
        "body": draft.body,
        "final_text": draft.final_body if draft.status == "approved" else None,
        "edited": draft.edited,
        "hold_reason": draft.hold_reason,
        "held_by_policy": draft.held_by_policy,
        "reason": draft.reason,
        "route": {
            "channel": draft.route_channel or None,
            "approvers": list(draft.approvers),
            "approver_names": reading.approver_names(session, draft),
            "usergroup": draft.usergroup,
            "required": draft.required,
            "approvals": len(reading.approvals(draft)),
            "escalated_to": draft.escalated_to,
        },
        "destination": draft.destination,
        "delivery": draft.delivery,
        "delivery_error": draft.delivery_error,
        "created_at": iso(draft.created_at),
        "queued_at": iso(draft.queued_at),
        "expires_at": iso(draft.expires_at),
        "decided_at": iso(draft.decided_at),
        "delivered_at": iso(draft.delivered_at),
        "decisions": [
            {
                "holder": d.holder_id,
                "name": d.holder.name,
                "verdict": d.verdict,
                "at": iso(d.at),
                "when": stamp(d.at),
                "reason": d.reason,
                "edited": d.edited_body is not None,
                "edited_text": d.edited_body,
            }
            for d in draft.decisions
        ],
        "messages": [{"channel": m.channel, "ts": m.ts, "purpose": m.purpose} for m in draft.messages],
        "history": [_step(s) for s in history(session, draft.id)],
    }


def flag_view(flag: Flag) -> dict[str, Any]:
    holder = flag.seat.holder
    return {
        "subject": flag.subject,
        "flag": flag.flag,
        "seat": flag.seat.title,
        "seat_id": flag.seat_id,
        "by": holder.name if holder else None,
        "reason": flag.reason,
        "set_at": stamp(flag.set_at),
        "until": stamp(flag.until),
        "lifted_at": stamp(flag.lifted_at),
    }
