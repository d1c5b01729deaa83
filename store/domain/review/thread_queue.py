"""The review's Slack posts, queued in the outbox in the transaction that caused them, each
under its own key, so each is posted once: the opening reply, a reply per section, the
summary, a DM to each owner of a new to-do, and the headline prompts before the meeting.
What each shows is read from the store when it is sent (bot/runtime/review_posts.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from otp_bot.store.domain import outbox
from otp_bot.store.models import Review

KIND = "review"


def _queue(session: Session, key: str, **payload: Any) -> None:
    outbox.enqueue(session, KIND, key, payload)


def in_thread(review: Review) -> bool:
    return bool(review.channel and review.thread_ts)


def queue_opening(session: Session, review: Review) -> None:
    if in_thread(review):
        _queue(session, f"review:{review.id}:opening", event="opening", review=review.id)


def queue_section(session: Session, review: Review, section: str) -> None:
    if in_thread(review):
        _queue(session, f"review:{review.id}:section:{section}", event="section", review=review.id, section=section)


def queue_end(session: Session, review: Review, summary: dict[str, Any]) -> None:
    """The summary in the thread, and one DM per human who answers for a new to-do."""
    if in_thread(review):
        _queue(session, f"review:{review.id}:summary", event="summary", review=review.id)
    owners = sorted({t["owner"] for t in summary.get("todos", []) if t.get("owner")})
    for owner in owners:
        _queue(session, f"review:{review.id}:dm:{owner}", event="owner_dm", review=review.id, holder=owner)


def queue_headline_prompt(session: Session, week: dt.date, post_at: dt.datetime, holder_id: str) -> None:
    _queue(
        session,
        f"headlines:{week.isoformat()}:{holder_id}",
        event="headline_prompt",
        week=week.isoformat(),
        post_at=post_at.isoformat(),
        holder=holder_id,
    )
