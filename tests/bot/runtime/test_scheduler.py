"""The scheduler as it runs: `otp schedule run` and `list`, jobs rebuilt when the chart changes,
two `otp serve` instances posting once and following chart imports."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from zoneinfo import ZoneInfo

from otp_bot.bot.runtime.scheduler import RhythmScheduler, SchedulerSettings
from tests.support.schedules import TOKEN, due_now, local, posts, runs, set_schedules
from tests.support.serve import OTP


def test_otp_schedule_run_and_list(example_db, api):
    env = {**os.environ, "OTP_DATABASE_URL": example_db.url, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": api.url}

    def otp(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([OTP, "schedule", *args], env=env, capture_output=True, text=True, timeout=120)

    dry = otp("run", "briefing", "--dry-run")
    assert dry.returncode == 0 and "Daily briefing" in dry.stdout and "nothing was claimed" in dry.stderr
    assert runs(example_db) == [] and not api.calls
    first = otp("run", "briefing")
    assert first.returncode == 0 and "posted to C0LEADERSHIP" in first.stdout, first.stderr
    again = otp("run", "briefing")
    assert again.returncode == 0 and "already posted" in again.stdout and "--force" in again.stdout
    assert len(posts(api, "C0LEADERSHIP")) == 1
    assert "posted to C0LEADERSHIP" in otp("run", "briefing", "--force").stdout
    assert len(posts(api, "C0LEADERSHIP")) == 2
    listed = otp("list").stdout
    assert "briefing" in listed and "America/New_York" in listed and "posted" in listed
    unknown = otp("run", "newsletter")
    assert unknown.returncode == 2 and "no schedule `newsletter`" in unknown.stderr


def test_the_scheduler_rebuilds_its_jobs_when_the_chart_changes(example_db, api, poster):
    scheduler = RhythmScheduler(example_db, poster.client, SchedulerSettings(check_seconds=3600), poster)
    scheduler._aps.start(paused=True)  # jobs are built, nothing fires by itself
    try:
        scheduler.check(now=local("America/New_York", 2026, 11, 22, 12))  # a Sunday: nothing due
        jobs = scheduler.jobs()
        assert set(jobs) == {"briefing", "scorecard"}
        set_schedules(
            example_db, {"post": "briefing", "channel": "C0LEADERSHIP", "cron": "30 7 * * *", "timezone": "Asia/Tokyo"}
        )
        scheduler.check(now=local("Asia/Tokyo", 2026, 11, 22, 12))
        (briefing,) = scheduler.jobs().values()
        assert set(scheduler.jobs()) == {"briefing"}
        assert briefing.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M") == "07:30"
    finally:
        scheduler.stop()


def test_otp_serve_posts_on_schedule_once_with_two_instances_and_follows_chart_imports(example_db, api):
    from tests.support.serve import Server

    every_day, _ = due_now()
    set_schedules(example_db, {"post": "briefing", "channel": "C0LEADERSHIP", "cron": every_day, "timezone": "UTC"})
    env = {"OTP_SCHEDULER_ENABLED": "true", "OTP_SCHEDULER_CHECK_SECONDS": "0.5", "OTP_POLL_SECONDS": "0.2"}
    servers: list[Server] = []
    threads = [threading.Thread(target=lambda: servers.append(Server(example_db, api, env=env))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert len(servers) == 2
        wait(lambda: posts(api, "C0LEADERSHIP"))
        # A chart import while they run: both rebuild their jobs, and the new schedule's run posts once.
        every_day, _ = due_now()
        set_schedules(
            example_db,
            {"post": "briefing", "channel": "C0LEADERSHIP", "cron": every_day, "timezone": "UTC"},
            {"post": "scorecard", "channel": "C0L10", "cron": every_day, "timezone": "UTC"},
        )
        wait(lambda: posts(api, "C0L10"))
        wait(lambda: all(r.status == "posted" for r in runs(example_db)) and len(runs(example_db)) == 2)
        time.sleep(1.5)  # a few more checks by both: nothing else goes out
    finally:
        outputs = [s.stop() for s in servers]
    assert len(posts(api, "C0LEADERSHIP")) == 1 and len(posts(api, "C0L10")) == 1
    assert [(r.schedule, r.status) for r in runs(example_db)] == [("briefing", "posted"), ("scorecard", "posted")]
    assert not any("Traceback" in out for out in outputs), outputs


def wait(check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_otp_schedule_run_exits_1_while_the_periods_post_has_not_gone_out(example_db, api):
    from tests.support.serve import free_port

    closed = f"http://127.0.0.1:{free_port()}/api/"  # Slack unreachable: nothing listens there
    env = {**os.environ, "OTP_DATABASE_URL": example_db.url, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": closed}

    def otp(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([OTP, "schedule", "run", *args], env=env, capture_output=True, text=True, timeout=120)

    first = otp("briefing")
    assert first.returncode == 1 and "not posted" in first.stderr
    # Run again (as a cron job would) while the failed attempt waits for its retry: still not posted.
    again = otp("briefing")
    assert again.returncode == 1, again.stdout
    assert "last attempt failed" in again.stderr and "Connection refused" in again.stderr
    env["SLACK_API_URL"] = api.url
    forced = otp("briefing", "--force")
    assert forced.returncode == 0 and "posted to C0LEADERSHIP" in forced.stdout


def test_the_schedulers_check_prompts_the_reviews_attendees_before_its_post_and_wakes_the_worker(
    example_db, api, poster
):
    from sqlalchemy import select

    from otp_bot.store.models import OutboxItem
    from tests.support.review import set_review

    set_review(example_db, ahead=120)
    woken = []
    scheduler = RhythmScheduler(
        example_db, poster.client, SchedulerSettings(check_seconds=3600), poster, on_queued=lambda: woken.append(1)
    )
    scheduler._aps.start(paused=True)
    try:
        scheduler.check(now=local("America/New_York", 2026, 11, 30, 6, 30))  # Monday, 2.5 h before the 9:00 post
        assert woken == []
        scheduler.check(now=local("America/New_York", 2026, 11, 30, 7, 30))  # within the two hours
        assert woken == [1]
        with example_db.session(readonly=True) as s:
            keys = sorted(s.scalars(select(OutboxItem.key).where(OutboxItem.kind == "review")))
        assert keys == ["headlines:2026-11-30:bogdan", "headlines:2026-11-30:david"]  # Pulse answers through MCP
    finally:
        scheduler.stop()
