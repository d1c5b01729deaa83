"""Claiming a schedule's run for its period, so that whoever claims first posts it and nobody else does."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.rhythm.schedule_plans import Plan
from otp_bot.store.models import ScheduleRun

# Before posting, a run claims (schedule, period) by inserting a row under a unique key, so
# whichever scheduler instance (or `otp schedule run`) inserts first posts, and everyone else
# is told it is already done. A claimed run that never reported back (the process died between
# claim and post) is taken over when its lease runs out; its Slack post carries the run's key in
# message metadata, so the taker looks for it before posting again, from the first attempt's
# start. Ownership is fenced by `attempts`: every claim and take-over bumps it.
ON_TIME = dt.timedelta(minutes=2)  # claimed later than this after its time, a run is marked late
LEASE = dt.timedelta(minutes=5)  # a claimed run nobody finished is taken over after this
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Claim:
    """A run someone now holds the lease of: post it, then report back."""

    id: int
    schedule: str
    post: str
    channel: str
    period: str
    seq: int
    due_at: dt.datetime
    late: bool
    attempt: int
    claimed_at: dt.datetime
    posted_channel: str | None = None  # a post made before a crash, recorded before its image or replies
    posted_ts: str | None = None
    file_id: str | None = None  # the scorecard's image, once uploaded
    started_at: dt.datetime | None = None  # when the first attempt was about to post

    @property
    def key(self) -> str:
        return f"run:{self.schedule}:{self.period}:{self.seq}"

    @property
    def is_retry(self) -> bool:
        return self.attempt > 1 or self.started_at is not None

    @property
    def since(self) -> dt.datetime:
        """Where a look-up for an earlier attempt's posts starts."""
        return self.started_at or self.claimed_at

    @property
    def late_by(self) -> dt.timedelta | None:
        return self.claimed_at - self.due_at if self.late else None


def claim_of(run: ScheduleRun) -> Claim:
    return Claim(
        run.id,
        run.schedule,
        run.post,
        run.channel,
        run.period,
        run.seq,
        as_utc(run.due_at),
        run.late,
        run.attempts,
        as_utc(run.claimed_at),
        run.posted_channel,
        run.posted_ts,
        run.file_id,
        as_utc(run.started_at),
    )


def claim_by_id(session: Session, run_id: int, *, populate_existing: bool = False) -> Claim:
    """The claim of a run this session just inserted or won."""
    return claim_of(session.get_one(ScheduleRun, run_id, populate_existing=populate_existing))


def insert_run(session: Session, values: dict[str, Any]) -> int | None:
    """Insert a run unless its (schedule, period, seq) exists; the id when this insert won.

    On PostgreSQL a second instance inserting the same key waits for the first to commit,
    then inserts nothing: the unique key decides, not a look-up before the insert."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(ScheduleRun)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["schedule", "period", "seq"])
        .returning(ScheduleRun.id)
    )
    return session.scalar(stmt)


def new_run(
    plan: Plan,
    period: str,
    due_at: dt.datetime,
    now: dt.datetime,
    *,
    status: str,
    seq: int = 0,
    late: bool = False,
    started_by: str = "scheduler",
    note: str | None = None,
) -> dict[str, Any]:
    """The columns of a run to insert; a claimed one holds the lease from `now`."""
    held = status == "claimed"
    # Stored in UTC: SQLite keeps the wall-clock digits of whatever it is given.
    due_at, now = as_utc(due_at), as_utc(now)
    return {
        "schedule": plan.name,
        "post": plan.post,
        "channel": plan.channel,
        "period": period,
        "seq": seq,
        "due_at": due_at,
        "started_by": started_by,
        "status": status,
        "late": late,
        "attempts": 1 if held else 0,
        "claimed_at": now,
        "locked_until": now + LEASE if held else None,
        "note": note,
    }


def updated_rows(session: Session, stmt: Update) -> int:
    """How many rows a compare-and-set update changed: whether this instance won it."""
    # An UPDATE without RETURNING gives a CursorResult; the session's signature promises only a
    # Result, since it cannot know the statement's kind (SQLAlchemy's advice is this cast).
    result = cast(CursorResult[Any], session.execute(stmt.execution_options(synchronize_session=False)))
    return result.rowcount


def claim(
    session: Session, plan: Plan, due_at: dt.datetime, *, now: dt.datetime | None = None, started_by: str = "scheduler"
) -> Claim | None:
    """Claim the period of `due_at`; None when another run has it already."""
    now = as_utc(now) if now else utcnow()
    late = now - due_at > ON_TIME
    run_id = insert_run(
        session, new_run(plan, plan.period(due_at), due_at, now, status="claimed", late=late, started_by=started_by)
    )
    return claim_by_id(session, run_id) if run_id is not None else None


def skip(session: Session, plan: Plan, due_at: dt.datetime, note: str, *, now: dt.datetime | None = None) -> bool:
    """Record a period as skipped (unless a run has it); True when recorded."""
    now = as_utc(now) if now else utcnow()
    return insert_run(session, new_run(plan, plan.period(due_at), due_at, now, status="skipped", note=note)) is not None
