"""Schedules: when the briefing and the scorecard are posted, and posting each exactly once.

A schedule fires by its cron in its timezone (the org's by default), never on a holiday
or outside its working days. Each post belongs to a period: a day for the briefing, an
ISO week for the scorecard. Before posting, a run claims (schedule, period) by inserting
a row under a unique key, so whichever scheduler instance (or `otp schedule run`) inserts
first posts, and everyone else is told it is already done.

A claimed run that never reported back (the process died between claim and post) is
taken over when its lease runs out; its Slack post carries the run's key in message
metadata, so the taker looks for it before posting again, from the first attempt's start.
Ownership is fenced by `attempts` (every claim and take-over bumps it): right before each
post the poster re-confirms it (`confirm`, which renews the lease), and its reports count
only while it still matches; where the main post landed is recorded whoever owns the run.

A run missed while no scheduler was running posts once, marked late, if it is still
within the schedule's grace window; otherwise it is recorded as skipped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.chart.durations import format_minutes
from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.errors import Invalid, NotFound
from otp_bot.store.domain.rhythm import cron
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.models import RUN_POSTS, Org, Schedule, ScheduleRun

PERIOD_OF = {"briefing": "day", "scorecard": "week"}  # one post per period
DEFAULT_GRACE = dt.timedelta(hours=2)
ON_TIME = dt.timedelta(minutes=2)  # claimed later than this after its time, a run is marked late
LEASE = dt.timedelta(minutes=5)  # a claimed run nobody finished is taken over after this
MAX_ATTEMPTS = 5
RETRY_AFTER = dt.timedelta(minutes=1)
LOOKBACK = dt.timedelta(days=7)  # misses older than this are not recorded
ON_DEMAND = "on-demand"  # the schedule name of posts asked for in Slack


@dataclass(frozen=True)
class Plan:
    """A schedule as the scheduler reads it: detached from any session."""

    name: str
    post: str
    channel: str
    cron: str
    timezone: str
    holidays: frozenset[dt.date]
    working_days: frozenset[int]  # Python weekdays; empty: every day
    grace: dt.timedelta

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def trigger(self) -> CronTrigger:
        return cron.trigger(self.cron, self.timezone)

    def is_off(self, day: dt.date) -> bool:
        return day in self.holidays or (bool(self.working_days) and day.weekday() not in self.working_days)

    def next_runs(self, after: dt.datetime, count: int = 1) -> list[dt.datetime]:
        out: list[dt.datetime] = []
        for when in cron.fires(self.trigger(), self.zone, after, after + dt.timedelta(days=400), skip=self.is_off):
            out.append(when)
            if len(out) == count:
                break
        return out

    def due_between(self, after: dt.datetime, until: dt.datetime) -> list[dt.datetime]:
        return list(cron.fires(self.trigger(), self.zone, after, until, skip=self.is_off))

    def latest_due(self, now: dt.datetime) -> dt.datetime | None:
        return cron.latest(self.trigger(), self.zone, now, skip=self.is_off)

    def period(self, when: dt.datetime) -> str:
        return period_key(self.post, when.astimezone(self.zone).date())


def period_key(post: str, day: dt.date) -> str:
    if PERIOD_OF[post] == "week":
        return periods.label(periods.period_start(day, "weekly"), "weekly")
    return day.isoformat()


def _plan(row: Schedule, org_zone: str) -> Plan:
    return Plan(
        row.name,
        row.post,
        row.channel,
        row.cron,
        row.timezone or org_zone,
        frozenset(dt.date.fromisoformat(d) for d in row.holidays),
        frozenset(cron.DAYS.index(d) for d in row.working_days),
        dt.timedelta(minutes=row.grace) if row.grace else DEFAULT_GRACE,
    )


def plans(session: Session) -> list[Plan]:
    zone = get_org(session).timezone
    return [_plan(s, zone) for s in session.scalars(select(Schedule).order_by(Schedule.position, Schedule.name))]


def get_plan(session: Session, which: str) -> Plan:
    """A schedule by name, or by what it posts when only one schedule posts that."""
    wanted = (which or "").strip().lower()
    found = plans(session)
    named = [p for p in found if p.name == wanted] or [p for p in found if p.post == wanted]
    if len(named) == 1:
        return named[0]
    names = ", ".join(p.name for p in found) or "none"
    if named:
        raise Invalid(f"{len(named)} schedules post the {wanted}: {', '.join(p.name for p in named)}; name one")
    raise NotFound(
        f"there is no schedule `{which}` (schedules: {names})",
        hint="add it under `schedules:` in the chart file" if not found else None,
    )


def chart_etag(session: Session) -> str | None:
    """Changes with every chart import: the scheduler rebuilds its jobs when it does."""
    return session.scalar(select(Org.etag).where(Org.id == 1))


# ---------------------------------------------------------------- claiming


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


def _claim_of(run: ScheduleRun) -> Claim:
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
        as_utc(run.started_at) if run.started_at else None,
    )


def _insert(session: Session, values: dict) -> int | None:
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


def _new_run(
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
) -> dict:
    held = status == "claimed"
    # Stored in UTC: SQLite keeps the wall-clock digits of whatever it is given.
    due_at, now = as_utc(due_at), as_utc(now)
    return dict(
        schedule=plan.name,
        post=plan.post,
        channel=plan.channel,
        period=period,
        seq=seq,
        due_at=due_at,
        started_by=started_by,
        status=status,
        late=late,
        attempts=1 if held else 0,
        claimed_at=now,
        locked_until=now + LEASE if held else None,
        note=note,
    )


def claim(
    session: Session, plan: Plan, due_at: dt.datetime, *, now: dt.datetime | None = None, started_by: str = "scheduler"
) -> Claim | None:
    """Claim the period of `due_at`; None when another run has it already."""
    now = as_utc(now) if now else utcnow()
    late = now - due_at > ON_TIME
    run_id = _insert(
        session, _new_run(plan, plan.period(due_at), due_at, now, status="claimed", late=late, started_by=started_by)
    )
    return _claim_of(session.get(ScheduleRun, run_id)) if run_id is not None else None


def skip(session: Session, plan: Plan, due_at: dt.datetime, note: str, *, now: dt.datetime | None = None) -> bool:
    """Record a period as skipped (unless a run has it); True when recorded."""
    now = as_utc(now) if now else utcnow()
    return _insert(session, _new_run(plan, plan.period(due_at), due_at, now, status="skipped", note=note)) is not None


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
    run_id = _insert(session, _new_run(plan, period, now, now, status="claimed", started_by=started_by))
    if run_id is None:
        existing = session.scalar(
            select(ScheduleRun).where(
                ScheduleRun.schedule == plan.name, ScheduleRun.period == period, ScheduleRun.seq == 0
            )
        )
        taken = session.execute(
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
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        session.refresh(existing)
        if not taken:
            return Taken(None, period, existing)
        run_id = existing.id
    audit.record(session, started_by, "schedule.run", f"schedule:{plan.name}", period=period, forced=False)
    return Taken(_claim_of(session.get(ScheduleRun, run_id)), period)


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
        values = _new_run(plan, period, now, now, status="claimed", seq=seq, started_by=started_by)
        values["schedule"] = name
        run_id = _insert(session, values)
        if run_id is not None:
            audit.record(session, started_by, "schedule.run", f"schedule:{name}", period=period, forced=True, seq=seq)
            return _claim_of(session.get(ScheduleRun, run_id))
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


# ---------------------------------------------------------------- what the scheduler does


def catch_up(session: Session, plan: Plan, now: dt.datetime | None = None) -> list[Claim]:
    """Decide this schedule's due runs at `now`: claim the current period's run (late when
    it is past its time, within the grace window), record missed periods as skipped.

    It looks back at most LOOKBACK, and never before the schedule's first recorded run, so
    a schedule added today records no misses from before it existed. Every write is an
    insert under the unique key: instances deciding at once agree, whoever writes first."""
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
        won = session.execute(
            update(ScheduleRun)
            .where(ScheduleRun.id == run_id, ScheduleRun.status == "claimed", ScheduleRun.locked_until < now)
            .values(locked_until=now + LEASE, attempts=ScheduleRun.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won:
            run = session.get(ScheduleRun, run_id, populate_existing=True)
            taken.append(_claim_of(run))
    return taken


# ---------------------------------------------------------------- reporting back


def _held(run_id: int, attempt: int | None):
    """The run, while the poster holding claim `attempt` still holds it (None: whoever holds it)."""
    held = (ScheduleRun.id == run_id, ScheduleRun.status == "claimed")
    return held if attempt is None else (*held, ScheduleRun.attempts == attempt)


def confirm(session: Session, run_id: int, attempt: int, *, now: dt.datetime | None = None) -> bool:
    """Right before a post: is the run still this poster's? Renews the lease and notes when
    the first attempt started posting. False when it was taken over: do not post."""
    now = as_utc(now) if now else utcnow()
    return bool(
        session.execute(
            update(ScheduleRun)
            .where(*_held(run_id, attempt))
            .values(locked_until=now + LEASE, started_at=func.coalesce(ScheduleRun.started_at, now))
            .execution_options(synchronize_session=False)
        ).rowcount
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
        session.execute(
            update(ScheduleRun)
            .where(*_held(run_id, attempt))
            .values(status="posted", posted_at=now or utcnow(), locked_until=None, note=note)
            .execution_options(synchronize_session=False)
        ).rowcount
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
    run = session.get(ScheduleRun, run_id, populate_existing=True)
    if run.status != "claimed" or (attempt is not None and run.attempts != attempt):
        return False
    if permanent or run.attempts >= MAX_ATTEMPTS:
        run.status, run.locked_until, run.note = "failed", None, error[:2000]
        return True
    run.locked_until, run.note = now + RETRY_AFTER, error[:2000]
    return False


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
