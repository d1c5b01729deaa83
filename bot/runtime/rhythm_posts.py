"""Posting the operating rhythm: a claimed schedule run becomes its Slack post, once.

The run row is the post's own outbox entry (see store/domain/rhythm/run_claims.py): claimed under
a unique key, leased, retried when its lease runs out. Each piece goes out through
`post_once` with a key derived from the run's, so a retry after a crash finds what
landed (the main message in the channel's history, replies in its thread) and posts only
what is missing. The main message's channel and ts are recorded as soon as it lands, and
the scorecard image's file id as soon as it is uploaded, for the same reason. Right
before each post or upload the poster re-confirms its claim (renewing the lease): a run
taken over by another poster after a lease ran out is left to it, unposted here.

The scheduler, `otp schedule run` and `/otp scorecard --post` all post through here.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from otp_bot.bot.ops.metrics import count_schedule_run
from otp_bot.bot.runtime import review_posts
from otp_bot.bot.runtime.delivery import post_once
from otp_bot.bot.runtime.worker import PERMANENT
from otp_bot.bot.slack import pacing
from otp_bot.commands.briefing import briefing_message
from otp_bot.commands.views.scorecard_image import MAX_ROWS, render_png
from otp_bot.commands.views.scorecard_post import fallback_text, scorecard_message
from otp_bot.store.db import Database
from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.errors import DomainError
from otp_bot.store.domain.review.metric_issues import raiser_name
from otp_bot.store.domain.rhythm import run_claims, run_history, run_reports
from otp_bot.store.domain.rhythm.daily_briefing import daily_briefing
from otp_bot.store.domain.scorecard.review import Review, weekly_review
from otp_bot.store.models import ScheduleRun

log = logging.getLogger("otp_bot.rhythm")


@dataclass(frozen=True)
class Outcome:
    run_id: int
    status: str  # posted, retrying (the lease will bring it back), failed
    channel: str | None = None
    ts: str | None = None
    note: str | None = None


class TakenOver(Exception):
    """Another poster took the run over after this one's lease ran out."""


class RhythmPoster:
    def __init__(self, db: Database, client: WebClient) -> None:
        self.db, self.client = db, client

    def perform(self, claim: run_claims.Claim) -> Outcome:
        """Post a claimed run and record how it went; never raises."""
        outcome = self._perform(claim)
        count_schedule_run(claim.post, outcome.status)
        return outcome

    def _perform(self, claim: run_claims.Claim) -> Outcome:
        try:
            channel, ts, note = (self._briefing if claim.post == "briefing" else self._scorecard)(claim)
        except TakenOver:
            log.info("%s: taken over by another poster after its lease ran out; not posting", claim.key)
            return Outcome(claim.id, "retrying", note="taken over by another poster")
        except Exception as exc:
            permanent = isinstance(exc, DomainError) or (
                isinstance(exc, SlackApiError) and exc.response.get("error") in PERMANENT
            )
            error = describe(exc)
            log.warning("%s (attempt %d) failed: %s", claim.key, claim.attempt, error)
            with self.db.session() as session:
                failed = run_reports.mark_failed(session, claim.id, error, permanent=permanent, attempt=claim.attempt)
            return Outcome(claim.id, "failed" if failed else "retrying", note=error)
        with self.db.session() as session:
            if not run_reports.mark_posted(session, claim.id, note=note, attempt=claim.attempt):
                return Outcome(claim.id, "retrying", note="taken over by another poster")
        return Outcome(claim.id, "posted", channel, ts, note)

    def _confirm(self, claim: run_claims.Claim) -> None:
        with self.db.session() as session:
            if not run_reports.confirm(session, claim.id, claim.attempt):
                raise TakenOver(claim.key)

    # ------------------------------------------------------------------ the posts

    def _post(self, claim: run_claims.Claim, key: str, target: str, **message: Any) -> tuple[str, str]:
        return post_once(
            self.client,
            target,
            key,
            retry=claim.is_retry,
            since=claim.since.timestamp(),
            before_call=lambda: self._confirm(claim),
            unfurl_links=False,
            unfurl_media=False,
            **message,
        )

    def _main(self, claim: run_claims.Claim, message: dict[str, Any]) -> tuple[str, str]:
        if claim.posted_channel and claim.posted_ts:  # recorded before a crash: the rest of the run continues from it
            return claim.posted_channel, claim.posted_ts
        channel, ts = self._post(claim, claim.key, claim.channel, **message)
        with self.db.session() as session:
            run_reports.record_message(session, claim.id, channel, ts)
        return channel, ts

    def _replies(self, claim: run_claims.Claim, channel: str, ts: str, replies: list[dict[str, Any]]) -> None:
        for n, reply in enumerate(replies, 1):
            self._post(claim, f"{claim.key}:{n}", channel, thread_ts=ts, **reply)

    def _briefing(self, claim: run_claims.Claim) -> tuple[str, str, str | None]:
        with self.db.session(readonly=True) as session:
            last = run_history.last_posted(session, "briefing", before_id=claim.id)
            b = daily_briefing(session, since=as_utc(last.posted_at) if last else None)
        message = briefing_message(b, threaded=True, late_by=claim.late_by, due_at=claim.due_at)
        channel, ts = self._main(claim, {"text": message.text, "blocks": message.blocks})
        self._replies(claim, channel, ts, message.replies)
        return channel, ts, None

    def _review(self, session, due_at: dt.datetime) -> Review:
        zone = ZoneInfo(get_org(session).timezone)
        return weekly_review(session, today=due_at.astimezone(zone).date())

    def _scorecard(self, claim: run_claims.Claim) -> tuple[str, str, str | None]:
        with self.db.session(readonly=True) as session:
            review = self._review(session, claim.due_at)
            raisers = _raisers(session, review)
        message = scorecard_message(
            review, run_id=claim.id, raisers=raisers, late_by=claim.late_by, due_at=claim.due_at
        )
        channel, ts = self._main(claim, {"text": message.text, "blocks": message.blocks})
        note = None
        if not claim.file_id:
            error = self._upload(claim, channel, review, message.text)
            if error is not None:
                # The image is the glance; the same picture as text keeps the post whole.
                note = f"image not uploaded ({error}); text fallback posted"
                self._post(
                    claim,
                    f"{claim.key}:fallback",
                    channel,
                    thread_ts=ts,
                    reply_broadcast=True,
                    text=fallback_text(review, error),
                )
        self._replies(claim, channel, ts, message.replies)
        # The review's own schedule: its thread opens under the post (its replies go through the outbox).
        review_posts.open_after_post(self.db, claim.schedule, claim.id, channel, ts, claim.due_at)
        return channel, ts, note

    def _upload(self, claim: run_claims.Claim, channel: str, review: Review, summary: str) -> str | None:
        """Upload the chart image; the error when it could not be made or uploaded."""
        try:
            png = render_png(review)
            # Both calls' turns before the claim is confirmed, so no rate-limit wait eats the lease.
            with (
                pacing.turn(self.client, "files.getUploadURLExternal"),
                pacing.turn(self.client, "files.completeUploadExternal"),
            ):
                self._confirm(claim)
                response = self.client.files_upload_v2(
                    channel=channel,
                    file=png,
                    filename=f"scorecard-{claim.period}.png",
                    title=f"Scorecard {review.first} to {review.last}",
                    initial_comment=summary,
                    alt_txt=f"Heat-map of {min(len(review.rows), MAX_ROWS)} of {review.metrics} metrics over "
                    f"{len(review.weeks)} weeks, off track first; {review.off_track_count} off track",
                )
            file_id = response["file"]["id"]
        except TakenOver:
            raise
        except Exception as exc:
            log.warning("%s: chart image not uploaded: %s", claim.key, describe(exc))
            return describe(exc)
        with self.db.session() as session:
            run_reports.record_file(session, claim.id, file_id)
        return None

    # ------------------------------------------------------------------ after a Raise issue click

    def refresh_scorecard(self, run_id: int) -> None:
        """Rebuild a posted scorecard from the store (the issues raised now show) and update it in place."""
        with self.db.session(readonly=True) as session:
            run = session.get_one(ScheduleRun, run_id)
            review = self._review(session, as_utc(run.due_at))
            raisers = _raisers(session, review)
            late_by = as_utc(run.claimed_at) - as_utc(run.due_at) if run.late else None
            message = scorecard_message(
                review, run_id=run.id, raisers=raisers, late_by=late_by, due_at=as_utc(run.due_at)
            )
            channel, ts = run.posted_channel, run.posted_ts
        if channel is None or ts is None:
            raise ValueError(f"schedule run {run_id} has no post to update")
        self.client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)


def _raisers(session, review: Review) -> dict[int, str]:
    return {r.issue.id: raiser_name(session, r.issue) for r in review.rows if r.issue}


def describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return f"Slack said {exc.response.get('error') or exc.response.status_code}"
    return (str(exc) or type(exc).__name__)[:500]
