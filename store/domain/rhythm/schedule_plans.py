"""A schedule as the scheduler reads it from the chart: its times, days off, grace and period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.errors import Invalid, NotFound
from otp_bot.store.domain.rhythm import cron
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.models import Org, Schedule

# A schedule fires by its cron in its timezone (the org's by default), never on a holiday or
# outside its working days. Each post belongs to a period, and is posted once per period.
PERIOD_OF = {"briefing": "day", "scorecard": "week"}
DEFAULT_GRACE = dt.timedelta(hours=2)


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
    """A day for the briefing, an ISO week for the scorecard."""
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
