"""Schedules set through the chart, and what they leave behind: runs in the store, posts at the stand-in."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from otp_bot.store.db import Database
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.rhythm import run_claims
from otp_bot.store.models import ScheduleRun
from tests.support.slack.api import SlackAPI

TOKEN = "xoxb-test-token"


def local(zone: str, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))


def set_schedules(db: Database, *specs: dict) -> None:
    with db.session() as s:
        chart = export_chart(s).model_dump(mode="json", exclude_defaults=True)
        chart["schedules"] = list(specs)
        # The review opens on a scorecard schedule: without one among these, the chart runs no review.
        if not any(spec.get("post") == "scorecard" for spec in specs):
            chart.pop("review", None)
        apply_chart(s, validate_chart(chart, "test"), actor="operator:test", source="test")


def due_now() -> tuple[str, dt.datetime]:
    """A cron firing every day at the current UTC minute, and that minute: tests that post
    use real time, so the stand-in's message timestamps line up with the runs'."""
    now = utcnow().replace(second=0, microsecond=0)
    return f"{now.minute} {now.hour} * * *", now


def past_lease(claim: run_claims.Claim) -> dt.datetime:
    """A moment after the claim's lease ran out. Claims here are made at a given time (the
    due minute plus a few seconds), which may be ahead of the clock, so not `utcnow() + LEASE`."""
    return max(utcnow(), claim.claimed_at) + run_claims.LEASE + dt.timedelta(seconds=1)


def runs(db: Database) -> list[ScheduleRun]:
    with db.session(readonly=True) as s:
        return list(s.scalars(select(ScheduleRun).order_by(ScheduleRun.id)))


def posts(api: SlackAPI, channel: str) -> list[dict]:
    return [m for m in api.messages[channel] if "thread_ts" not in m]
