"""Looking up past runs: the last one posted, the run behind a Slack message, each schedule's latest."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otp_bot.store.models import ScheduleRun


def last_posted(session: Session, post: str, *, before_id: int | None = None) -> ScheduleRun | None:
    """The latest run of this kind that posted (the briefing's "since the last briefing")."""
    query = (
        select(ScheduleRun)
        .where(ScheduleRun.post == post, ScheduleRun.status == "posted")
        .order_by(ScheduleRun.posted_at.desc(), ScheduleRun.id.desc())
        .limit(1)
    )
    if before_id is not None:
        query = query.where(ScheduleRun.id != before_id)
    return session.scalar(query)


def run_for_message(session: Session, channel: str, ts: str) -> ScheduleRun | None:
    return session.scalar(select(ScheduleRun).where(ScheduleRun.posted_channel == channel, ScheduleRun.posted_ts == ts))


def last_runs(session: Session, names: list[str]) -> dict[str, ScheduleRun]:
    """Each schedule's most recent run, for `otp schedule list`."""
    latest = (
        select(ScheduleRun.schedule, func.max(ScheduleRun.id).label("id"))
        .where(ScheduleRun.schedule.in_(names))
        .group_by(ScheduleRun.schedule)
        .subquery()
    )
    rows = session.scalars(select(ScheduleRun).join(latest, ScheduleRun.id == latest.c.id))
    return {r.schedule: r for r in rows}
