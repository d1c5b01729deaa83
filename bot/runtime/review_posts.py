"""The weekly review's Slack posts, as the outbox worker sends them (kind `review`), and what
the scheduler does for the review: open it under the week's scorecard post, prompt the
attendees for headlines before it, record a review nobody ran as not held.

Each post is built when it is sent, from the store as it is then; each goes out once
(its outbox key, looked for in Slack before a retry posts again)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.bot.runtime.delivery import Permanent
from otp_bot.bot.slack.views import review_forms as forms
from otp_bot.bot.slack.views import review_thread as views
from otp_bot.store.db import Database
from otp_bot.store.domain import outbox
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.review import agenda, meetings, thread_queue
from otp_bot.store.domain.review.headlines import headlines_for
from otp_bot.store.domain.scorecard.review import weekly_review
from otp_bot.store.models import Holder, Review, Seat

if TYPE_CHECKING:  # the worker calls these with itself
    from otp_bot.bot.runtime.worker import OutboxWorker

log = logging.getLogger("otp_bot.review")


def perform(worker: OutboxWorker, item: outbox.Claimed) -> dict[str, Any]:
    event = item.payload.get("event")
    with worker.db.session(readonly=True) as session:
        if event == "headline_prompt":
            target, message = _prompt(session, item.payload)
            thread_ts = None
        else:
            review = meetings.get_review(session, item.payload["review"])
            if event == "owner_dm":
                target, message = _owner_dm(session, review, item.payload["holder"])
                thread_ts = None
            else:
                target, thread_ts = review.channel, review.thread_ts
                message = thread_message(session, review, event, item.payload.get("section"))
    if not target:
        return {"skipped": "nobody to send it to on Slack"}
    extra = {"thread_ts": thread_ts} if thread_ts else {}
    channel, ts = worker._post(item, target, unfurl_links=False, unfurl_media=False, **extra, **message)
    return {"channel": channel, "ts": ts}


def thread_message(session: Session, review: Review, event: str | None, section: str | None) -> dict[str, Any]:
    if event == "opening":
        return views.opening_message(review)
    if event == "summary":
        return views.summary_message(review, review.summary, slack_users(session))
    if event == "section" and section in meetings.SECTIONS:
        return section_message(session, review, section)
    raise Permanent(f"a review item of unknown event {event!r}")


def opening_reply(session: Session, review_id: int) -> tuple[str, str] | None:
    """Where the review's opening reply landed (channel, ts), once it was posted."""
    from otp_bot.store.models import OutboxItem

    result = session.scalar(select(OutboxItem.result).where(OutboxItem.key == f"review:{review_id}:opening"))
    if result and result.get("channel") and result.get("ts"):
        return result["channel"], result["ts"]
    return None


def slack_users(session: Session) -> dict[str, str]:
    return {h.id: h.slack_user for h in session.scalars(select(Holder)) if h.slack_user}


def _seats(session: Session) -> dict[str, Seat]:
    return {s.id: s for s in session.scalars(select(Seat))}


def checkers(session: Session) -> dict[str, str]:
    """Audit names (`holder:bogdan`) as mentions, for "checked by"."""
    return {f"holder:{h}": f"<@{u}>" for h, u in slack_users(session).items()}


def section_message(session: Session, review: Review, section: str, *, controls: bool | None = None) -> dict[str, Any]:
    """A section's reply as it reads now; its controls only while it is the review's current section."""
    show = review.section == section if controls is None else controls
    if section == "scorecard":
        from zoneinfo import ZoneInfo

        from otp_bot.store.domain.chart.reading import get_org

        started = (as_utc(review.started_at) or utcnow()).astimezone(ZoneInfo(get_org(session).timezone)).date()
        # The week reviewed, as its post showed it: a review run late still reads its own week.
        today = min(started, review.week + dt.timedelta(days=6))
        message = views.scorecard_section(review, weekly_review(session, today=today).off_track)
    elif section == "rocks":
        message = views.rocks_section(review, agenda.rocks_by_seat(session, review))
    elif section == "headlines":
        names = {h.id: h for h in session.scalars(select(Holder))}
        message = views.headlines_section(review, headlines_for(session, review.week), names)
    elif section == "todos":
        return views.todos_section(
            review, agenda.todos_due(session, review), _seats(session), checkers(session), controls=show
        )
    else:
        return views.issues_section(review, agenda.issues_ranked(session, review), _seats(session), controls=show)
    if not show:
        message["blocks"] = [b for b in message["blocks"] if not b.get("block_id", "").endswith("_controls")]
    return message


def _owner_dm(session: Session, review: Review, holder_id: str) -> tuple[str | None, dict]:
    holder = session.get(Holder, holder_id)
    todos = [t for t in review.summary.get("todos", []) if t.get("owner") == holder_id]
    return (holder.slack_user if holder else None), views.owner_dm(review, todos)


def _prompt(session: Session, payload: dict[str, Any]) -> tuple[str | None, dict]:
    holder = session.get(Holder, payload["holder"])
    if holder is None:
        return None, {}
    week = dt.date.fromisoformat(payload["week"])
    post_at = dt.datetime.fromisoformat(payload["post_at"])
    missing = agenda.missing_values(session, holder.id, agenda.values_day(week))
    return holder.slack_user, forms.headline_prompt(week, post_at, len(missing))


# ---------------------------------------------------------------- the scheduler's part


def open_after_post(db: Database, schedule: str, run_id: int, channel: str, ts: str, due_at: dt.datetime) -> None:
    """The review's scorecard schedule posted: the week's review opens in the post's thread."""
    with db.session() as session:
        setup = meetings.review_setup(session)
        if setup is None or setup.schedule != schedule:
            return
        from zoneinfo import ZoneInfo

        from otp_bot.store.domain.chart.reading import get_org

        day = due_at.astimezone(ZoneInfo(get_org(session).timezone)).date()
        meetings.open_review(session, week=day, channel=channel, thread_ts=ts, run_id=run_id)


def check(db: Database, now: dt.datetime | None = None) -> int:
    """At each scheduler check: headline prompts that fell due, and reviews nobody ran."""
    queued = 0
    with db.session() as session:
        meetings.mark_not_held(session, now)
        due = agenda.prompt_week(session, now)
        if due is not None:
            week, post_at = due
            for holder in agenda.attendees(session):
                thread_queue.queue_headline_prompt(session, week, post_at, holder.id)
                queued += 1
    return queued
