"""Runs people start: `otp schedule run` (the current period, or again with force) and on-demand posts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.rhythm.run_claims import LEASE, Claim, claim_by_id, insert_run, new_run, updated_rows
from otp_bot.store.domain.rhythm.schedule_plans import DEFAULT_GRACE, Plan
from otp_bot.store.models import RUN_POSTS, ScheduleRun

ON_DEMAND = "on-demand"  # the schedule name of posts asked for in Slack


@dataclass(frozen=True)
class Taken:
    """What `run_now` did: a claim to post, or why nothing is posted."""

    claim: Claim | None
    period: str
    existing: ScheduleRun | None = None  # the run that already has the period

    @property
    def reason(self) -> str:
        run = self.existing
        if run is None:
            return ""
        when = as_utc(run.posted_at or run.claimed_at).strftime("%Y-%m-%d %H:%M UTC")
        who = "the scheduler" if run.started_by == "scheduler" else run.started_by
        if run.status == "posted":
            return f"already posted for {self.period} (at {when}, by {who})"
        if self.failing:
            retry = as_utc(run.locked_until).strftime("%H:%M UTC") if run.locked_until else "later"
            return (
                f"not posted for {self.period}: the last attempt failed ({run.note}); the scheduler retries at {retry}"
            )
        return f"being posted for {self.period} right now (claimed at {when} by {who})"

    @property
    def failing(self) -> bool:
        """The period's post has not gone out and its last attempt failed (it waits for a retry)."""
        run = self.existing
        return run is not None and run.status != "posted" and run.note is not None


def run_now(
    session: Session, plan: Plan, *, started_by: str, force: bool = False, now: dt.datetime | None = None
) -> Taken:
    """What `otp schedule run` does: claim the current period as the scheduler would.

    A period already posted (or being posted) is left alone unless `force`, which posts
    again under the next sequence number. A period skipped or failed is taken over, as is
    a claim whose lease ran out."""
    now = as_utc(now) if now else utcnow()
    period = plan.period(now)
    if force:
        return Taken(_forced(session, plan, period, now, started_by), period)
    run_id = insert_run(session, new_run(plan, period, now, now, status="claimed", started_by=started_by))
    if run_id is None:
        # The insert lost to a run of this period: it exists, and is taken over when it may be.
        existing = session.execute(
            select(ScheduleRun).where(
                ScheduleRun.schedule == plan.name, ScheduleRun.period == period, ScheduleRun.seq == 0
            )
        ).scalar_one()
        taken = updated_rows(
            session,
            update(ScheduleRun)
            .where(
                ScheduleRun.id == existing.id,
                (ScheduleRun.status.in_(("skipped", "failed")))
                | ((ScheduleRun.status == "claimed") & (ScheduleRun.locked_until < now)),
            )
            .values(
                status="claimed",
                started_by=started_by,
                claimed_at=now,
                locked_until=now + LEASE,
                attempts=ScheduleRun.attempts + 1,
                note=None,
                late=False,
            ),
        )
        session.refresh(existing)
        if not taken:
            return Taken(None, period, existing)
        run_id = existing.id
    audit.record(session, started_by, "schedule.run", f"schedule:{plan.name}", period=period, forced=False)
    return Taken(claim_by_id(session, run_id), period)


def _forced(
    session: Session, plan: Plan, period: str, now: dt.datetime, started_by: str, schedule: str | None = None
) -> Claim:
    name = schedule or plan.name
    for _ in range(5):  # two people forcing at once: the next number, again
        seq = (
            session.scalar(
                select(func.max(ScheduleRun.seq)).where(ScheduleRun.schedule == name, ScheduleRun.period == period)
            )
            or 0
        ) + 1
        values = new_run(plan, period, now, now, status="claimed", seq=seq, started_by=started_by)
        values["schedule"] = name
        run_id = insert_run(session, values)
        if run_id is not None:
            audit.record(session, started_by, "schedule.run", f"schedule:{name}", period=period, forced=True, seq=seq)
            return claim_by_id(session, run_id)
    raise Invalid("too many runs of this schedule are starting at once; try again")


def on_demand(
    session: Session,
    post: str,
    channel: str,
    *,
    started_by: str,
    zone: str | None = None,
    now: dt.datetime | None = None,
) -> Claim:
    """A post asked for in Slack (`/otp scorecard --post`): never the period's own run."""
    if post not in RUN_POSTS:
        raise Invalid(f"`{post}` is not something I post; I post {', '.join(RUN_POSTS)}")
    now = as_utc(now) if now else utcnow()
    zone = zone or get_org(session).timezone
    plan = Plan(ON_DEMAND, post, channel, "* * * * *", zone, frozenset(), frozenset(), DEFAULT_GRACE)
    return _forced(session, plan, plan.period(now), now, started_by)
