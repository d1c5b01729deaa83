"""What the scheduler does at each check: claim the runs that are due, record missed ones, take over stalled ones."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.durations import format_minutes
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.rhythm.run_claims import (
    LEASE,
    MAX_ATTEMPTS,
    Claim,
    claim,
    claim_by_id,
    skip,
    updated_rows,
)
from otp_bot.store.domain.rhythm.schedule_plans import Plan
from otp_bot.store.models import ScheduleRun

LOOKBACK = dt.timedelta(days=7)  # misses older than this are not recorded


def catch_up(session: Session, plan: Plan, now: dt.datetime | None = None) -> list[Claim]:
    """Decide this schedule's due runs at `now`: claim the current period's run (late when
    it is past its time, within the grace window), record missed periods as skipped.

    A run missed while no scheduler was running posts once, marked late, if it is still within
    the grace window; otherwise it is recorded as skipped. It looks back at most LOOKBACK, and
    never before the schedule's first recorded run, so a schedule added today records no misses
    from before it existed. Every write is an insert under the unique key: instances deciding
    at once agree, whoever writes first."""
    now = as_utc(now) if now else utcnow()
    first = session.scalar(select(func.min(ScheduleRun.due_at)).where(ScheduleRun.schedule == plan.name))
    latest = plan.latest_due(now)
    if latest is None:
        return []
    since = (
        max(now - LOOKBACK, as_utc(first) - dt.timedelta(microseconds=1))
        if first
        else latest - dt.timedelta(microseconds=1)
    )
    due: dict[str, dt.datetime] = {}
    for when in plan.due_between(since, now):
        due[plan.period(when)] = when  # the latest time of each period
    if not due:
        return []
    recorded = set(
        session.scalars(
            select(ScheduleRun.period).where(
                ScheduleRun.schedule == plan.name, ScheduleRun.seq == 0, ScheduleRun.period.in_(list(due))
            )
        )
    )
    current = plan.period(latest)
    claims = []
    for period, when in due.items():
        if period in recorded:
            continue
        if period == current and now - when <= plan.grace:
            if (c := claim(session, plan, when, now=now)) is not None:
                claims.append(c)
        elif period == current:
            skip(
                session,
                plan,
                when,
                f"missed: due {_local(plan, when)}, and {_minutes(plan.grace)} of grace "
                "had passed when a scheduler ran",
                now=now,
            )
        else:
            skip(session, plan, when, f"missed: due {_local(plan, when)} while no scheduler was running", now=now)
    return claims


def _local(plan: Plan, when: dt.datetime) -> str:
    return when.astimezone(plan.zone).strftime("%a %Y-%m-%d %H:%M %Z")


def _minutes(delta: dt.timedelta) -> str:
    return format_minutes(int(delta.total_seconds() // 60))


def take_over(session: Session, now: dt.datetime | None = None) -> list[Claim]:
    """Claimed runs whose lease ran out (their poster died or hung): take each over.

    Compare-and-set on the lease, so two instances never take the same run."""
    now = as_utc(now) if now else utcnow()
    stale = session.execute(
        select(ScheduleRun.id, ScheduleRun.attempts).where(
            ScheduleRun.status == "claimed", ScheduleRun.locked_until < now
        )
    ).all()
    taken = []
    for run_id, attempts in stale:
        if attempts >= MAX_ATTEMPTS:
            session.execute(
                update(ScheduleRun)
                .where(ScheduleRun.id == run_id, ScheduleRun.status == "claimed")
                .values(status="failed", locked_until=None, note=f"gave up after {attempts} attempts")
                .execution_options(synchronize_session=False)
            )
            continue
        won = updated_rows(
            session,
            update(ScheduleRun)
            .where(ScheduleRun.id == run_id, ScheduleRun.status == "claimed", ScheduleRun.locked_until < now)
            .values(locked_until=now + LEASE, attempts=ScheduleRun.attempts + 1),
        )
        if won:
            taken.append(claim_by_id(session, run_id, populate_existing=True))
    return taken
