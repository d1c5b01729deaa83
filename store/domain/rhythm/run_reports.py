"""A poster reporting back on its run: still holding it, where the post landed, posted or failed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, func, update
from sqlalchemy.orm import Session

from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.rhythm.run_claims import LEASE, MAX_ATTEMPTS, updated_rows
from otp_bot.store.models import ScheduleRun

# Right before each post the poster re-confirms it holds the run (`confirm`, which renews the
# lease), and its reports count only while its attempt still matches; where the main post
# landed is recorded whoever owns the run.
RETRY_AFTER = dt.timedelta(minutes=1)


def _held(run_id: int, attempt: int | None) -> tuple[ColumnElement[bool], ...]:
    """The run, while the poster holding claim `attempt` still holds it (None: whoever holds it)."""
    held = (ScheduleRun.id == run_id, ScheduleRun.status == "claimed")
    return held if attempt is None else (*held, ScheduleRun.attempts == attempt)


def confirm(session: Session, run_id: int, attempt: int, *, now: dt.datetime | None = None) -> bool:
    """Right before a post: is the run still this poster's? Renews the lease and notes when
    the first attempt started posting. False when it was taken over: do not post."""
    now = as_utc(now) if now else utcnow()
    return bool(
        updated_rows(
            session,
            update(ScheduleRun)
            .where(*_held(run_id, attempt))
            .values(locked_until=now + LEASE, started_at=func.coalesce(ScheduleRun.started_at, now)),
        )
    )


def record_message(session: Session, run_id: int, channel: str, ts: str) -> None:
    """The main post landed: recorded at once, whoever holds the run now (the post is out),
    before its image or thread replies go out, so a retry adds only what is missing."""
    session.execute(
        update(ScheduleRun)
        .where(ScheduleRun.id == run_id, ScheduleRun.posted_ts.is_(None))
        .values(posted_channel=channel, posted_ts=ts)
        .execution_options(synchronize_session=False)
    )


def record_file(session: Session, run_id: int, file_id: str) -> None:
    """The image is uploaded: recorded at once, so a retry does not upload it again."""
    session.execute(
        update(ScheduleRun)
        .where(ScheduleRun.id == run_id)
        .values(file_id=file_id)
        .execution_options(synchronize_session=False)
    )


def mark_posted(
    session: Session,
    run_id: int,
    *,
    note: str | None = None,
    now: dt.datetime | None = None,
    attempt: int | None = None,
) -> bool:
    """The run is posted; False (nothing recorded) when it was taken over from `attempt`."""
    return bool(
        updated_rows(
            session,
            update(ScheduleRun)
            .where(*_held(run_id, attempt))
            .values(status="posted", posted_at=now or utcnow(), locked_until=None, note=note),
        )
    )


def mark_failed(
    session: Session,
    run_id: int,
    error: str,
    *,
    permanent: bool = False,
    now: dt.datetime | None = None,
    attempt: int | None = None,
) -> bool:
    """A failed attempt: retried after RETRY_AFTER (the lease is shortened to that), or,
    when permanent or out of attempts, the run is failed. True when it is failed. Nothing
    is recorded when the run was taken over from `attempt`."""
    now = as_utc(now) if now else utcnow()
    run = session.get_one(ScheduleRun, run_id, populate_existing=True)
    if run.status != "claimed" or (attempt is not None and run.attempts != attempt):
        return False
    if permanent or run.attempts >= MAX_ATTEMPTS:
        run.status, run.locked_until, run.note = "failed", None, error[:2000]
        return True
    run.locked_until, run.note = now + RETRY_AFTER, error[:2000]
    return False
