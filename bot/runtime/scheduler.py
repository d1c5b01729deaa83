"""The scheduler inside `otp serve` and `otp run`: APScheduler 3 fires each schedule's cron
in its timezone; the store decides what to post.

APScheduler keeps its jobs in memory only: they are rebuilt from the `schedules` table at
start and whenever the chart changes (its etag, checked every few seconds). Several
processes may each run a scheduler: they all fire, and the run claimed under a unique key
per (schedule, period) makes one of them post. At every check, runs whose poster died are
taken over, and at start a run missed while nothing was running posts late (within the
schedule's grace window) or is recorded as skipped.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from pydantic_settings import BaseSettings, SettingsConfigDict
from slack_sdk import WebClient

from otp_bot.bot.runtime import review_posts
from otp_bot.bot.runtime.rhythm_posts import Outcome, RhythmPoster
from otp_bot.store.db import Database
from otp_bot.store.domain.chart import cache as chart_cache
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.rhythm import due_runs, schedule_plans

log = logging.getLogger("otp_bot.scheduler")
JOB_PREFIX = "schedule:"


class SchedulerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OTP_SCHEDULER_", env_file=".env", extra="ignore")

    enabled: bool = True  # OTP_SCHEDULER_ENABLED=false: this process posts nothing on schedule
    check_seconds: float = 30.0  # how often chart changes, missed runs and stale claims are checked


class RhythmScheduler:
    def __init__(
        self,
        db: Database,
        client: WebClient,
        settings: SchedulerSettings | None = None,
        poster: RhythmPoster | None = None,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.on_queued = on_queued  # wakes the outbox worker when the scheduler queued posts
        self.settings = settings or SchedulerSettings()
        self.poster = poster or RhythmPoster(db, client)
        self._aps = BackgroundScheduler(
            timezone=dt.UTC,
            job_defaults={
                # Late or coalesced fires all lead to the same decision: the store's, in `fire`.
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": None,
            },
        )
        self._plans: dict[str, schedule_plans.Plan] = {}
        self._etag: str | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        if not self.settings.enabled or self._aps.running:
            return
        self._aps.start()
        # The first check runs at once: jobs built, missed runs caught up, stale claims taken over.
        self._aps.add_job(
            self.check,
            IntervalTrigger(seconds=self.settings.check_seconds),
            id="otp-check",
            next_run_time=dt.datetime.now(dt.UTC),
        )

    def stop(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=True)

    def jobs(self) -> dict[str, dt.datetime | None]:
        """Schedule name -> its next fire time, as APScheduler has it."""
        return {
            j.id.removeprefix(JOB_PREFIX): j.next_run_time for j in self._aps.get_jobs() if j.id.startswith(JOB_PREFIX)
        }

    # ------------------------------------------------------------------ the work

    def check(self, now: dt.datetime | None = None) -> list[Outcome]:
        """Rebuild the jobs if the chart changed, then take over runs whose poster died."""
        try:
            with self.db.session(readonly=True) as session:
                etag = schedule_plans.chart_etag(session)
            if etag != self._etag:
                chart_cache.warm(self.db)  # the new chart's who-owns index and directory, built before anyone asks
            outcomes = self.rebuild(now) if etag != self._etag else []
            with self.db.session() as session:
                stale = due_runs.take_over(session, now)
            outcomes += [self.poster.perform(c) for c in stale]
            if review_posts.check(self.db, now) and self.on_queued is not None:
                self.on_queued()  # headline prompts queued: the worker sends them now
            return outcomes
        except Exception:
            log.exception("schedule check failed; trying again at the next check")
            return []

    def rebuild(self, now: dt.datetime | None = None) -> list[Outcome]:
        with self._lock:
            with self.db.session(readonly=True) as session:
                self._etag = schedule_plans.chart_etag(session)
                plans = {p.name: p for p in schedule_plans.plans(session)} if self._etag else {}
            for job in self._aps.get_jobs():
                if job.id.startswith(JOB_PREFIX):
                    job.remove()
            for name, plan in plans.items():
                self._aps.add_job(self.fire, plan.trigger(), args=[name], id=JOB_PREFIX + name, name=name)
            self._plans = plans
        log.info("schedules: %s", ", ".join(plans) or "none")
        # Whatever fell due while the jobs were missing (or the process was down).
        return [o for name in plans for o in self.fire(name, now)]

    def fire(self, name: str, now: dt.datetime | None = None) -> list[Outcome]:
        plan = self._plans.get(name)
        if plan is None:
            return []
        with self.db.session() as session:
            claims = due_runs.catch_up(session, plan, now or utcnow())
        return [self.poster.perform(c) for c in claims]
