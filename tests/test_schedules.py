"""Schedules: cron math in several timezones across DST, holidays and working days, period
keys, and posting exactly once: one claim per period whoever races for it (threads,
scheduler instances, processes), a crash between claim and post recovered without a
second post, and the misfire policy (late within the grace window, skipped after it)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from otp_bot.bot.runtime.delivery import post_once
from otp_bot.bot.runtime.rhythm_posts import RhythmPoster
from otp_bot.bot.runtime.scheduler import RhythmScheduler, SchedulerSettings
from otp_bot.bot.slack.client import make_client
from otp_bot.store.db import Database
from otp_bot.store.domain.chart.chartfile import ChartErrors, validate_chart
from otp_bot.store.domain.chart.sync import apply_chart, export_chart
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.rhythm import cron, due_runs, manual_runs, run_claims, run_reports, schedule_plans
from otp_bot.store.models import AuditEntry, ScheduleRun

from .serve import OTP
from .slack_api import SlackAPI

TOKEN = "xoxb-test-token"
UTC = dt.UTC


def plan(
    cron_text: str,
    zone: str = "UTC",
    post: str = "briefing",
    *,
    holidays=(),
    working_days=(),
    grace: dt.timedelta = schedule_plans.DEFAULT_GRACE,
) -> schedule_plans.Plan:
    return schedule_plans.Plan(
        "test",
        post,
        "C0TEST",
        cron_text,
        zone,
        frozenset(holidays),
        frozenset(cron.DAYS.index(d) for d in working_days),
        grace,
    )


def local(zone: str, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))


# ---------------------------------------------------------------- schedule math


def test_cron_days_of_week_count_from_sunday_as_in_cron():
    monday = local("UTC", 2026, 11, 23)
    weekdays = [d.strftime("%a") for d in plan("0 8 * * 1-5").next_runs(monday, 6)]
    assert weekdays == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]  # APScheduler alone would say Tue..Sat
    assert [d.strftime("%a") for d in plan("0 8 * * 0").next_runs(monday, 2)] == ["Sun", "Sun"]
    assert plan("0 8 * * 7").next_runs(monday, 1) == plan("0 8 * * sun").next_runs(monday, 1)
    assert cron.day_of_week("5-7") == "fri,sat,sun" and cron.day_of_week("*/2") == "tue,thu,sat,sun"
    assert cron.day_of_week("mon-fri") == "mon,tue,wed,thu,fri" and cron.day_of_week("0-6") == "*"


# zone, the day clocks go forward (02:00-03:00 does not exist), the day they go back (an hour repeats)
DST = [
    ("America/New_York", dt.date(2026, 3, 8), "30 2 * * *", dt.date(2026, 11, 1), "30 1 * * *"),
    ("Europe/Berlin", dt.date(2026, 3, 29), "30 2 * * *", dt.date(2026, 10, 25), "30 2 * * *"),
    ("Australia/Sydney", dt.date(2026, 10, 4), "30 2 * * *", dt.date(2026, 4, 5), "30 2 * * *"),
]


@pytest.mark.parametrize(("zone", "forward", "_gap_cron", "back", "_repeat_cron"), DST, ids=[d[0] for d in DST])
def test_a_morning_post_stays_at_eight_local_across_both_dst_changes(zone, forward, _gap_cron, back, _repeat_cron):
    for change in (forward, back):
        start = local(zone, change.year, change.month, change.day) - dt.timedelta(days=2)
        runs = plan("0 8 * * *", zone).next_runs(start, 4)
        assert [r.strftime("%d %H:%M") for r in runs] == [
            (change + dt.timedelta(days=d)).strftime("%d 08:00") for d in (-2, -1, 0, 1)
        ]
        offsets = {r.utcoffset() for r in runs}
        assert len(offsets) == 2  # the same local hour is a different UTC hour after the change
        gaps = [b.astimezone(UTC) - a.astimezone(UTC) for a, b in zip(runs, runs[1:], strict=False)]
        assert dt.timedelta(hours=23) in gaps or dt.timedelta(hours=25) in gaps


@pytest.mark.parametrize(("zone", "forward", "gap_cron", "_back", "_repeat_cron"), DST, ids=[d[0] for d in DST])
def test_a_time_that_does_not_exist_fires_once_just_after_the_gap(zone, forward, gap_cron, _back, _repeat_cron):
    start = local(zone, forward.year, forward.month, forward.day) - dt.timedelta(days=1)
    runs = plan(gap_cron, zone).next_runs(start, 3)
    assert [r.date() for r in runs] == [forward - dt.timedelta(days=1), forward, forward + dt.timedelta(days=1)]
    on_the_day = runs[1]
    assert on_the_day.strftime("%H:%M") == "03:30"  # 02:30 never happened; it runs as the clocks reach 03:30
    assert on_the_day.utcoffset() == runs[2].utcoffset()


@pytest.mark.parametrize(("zone", "_forward", "_gap_cron", "back", "repeat_cron"), DST, ids=[d[0] for d in DST])
def test_a_time_that_happens_twice_fires_once(zone, _forward, _gap_cron, back, repeat_cron):
    p = plan(repeat_cron, zone)
    start = local(zone, back.year, back.month, back.day) - dt.timedelta(days=1)
    runs = p.next_runs(start, 3)
    assert [r.date() for r in runs] == [back - dt.timedelta(days=1), back, back + dt.timedelta(days=1)]
    assert len({p.period(r) for r in runs}) == 3
    # Even asked from inside the repeated hour, the day has one period: the second 01:30 claims nothing new.
    first = runs[1]
    second = (first.astimezone(UTC) + dt.timedelta(hours=1)).astimezone(ZoneInfo(zone))
    assert second.astimezone(ZoneInfo(zone)).strftime("%H:%M") == first.strftime("%H:%M")
    assert p.period(second) == p.period(first)


def test_holidays_and_working_days_are_skipped():
    p = plan("0 9 * * *", "Europe/Berlin", holidays={dt.date(2026, 12, 25)}, working_days=cron.DAYS[:5])
    runs = p.next_runs(local("Europe/Berlin", 2026, 12, 23, 7), 4)
    assert [r.strftime("%a %d") for r in runs] == ["Wed 23", "Thu 24", "Mon 28", "Tue 29"]
    # The last run before Monday morning is Thursday's: the holiday and the weekend have none.
    assert p.latest_due(local("Europe/Berlin", 2026, 12, 28, 8)).strftime("%a %d %H:%M") == "Thu 24 09:00"


def test_period_keys_are_a_day_for_the_briefing_and_an_iso_week_for_the_scorecard():
    assert plan("0 8 * * *").period(local("America/New_York", 2026, 11, 24, 8)) == "2026-11-24"
    # 23:30 in New York is already the next day in UTC: the schedule's own timezone decides.
    assert plan("0 8 * * *", "America/New_York").period(dt.datetime(2026, 11, 25, 4, 30, tzinfo=UTC)) == "2026-11-24"
    weekly = plan("0 9 * * mon", "UTC", post="scorecard")
    assert weekly.period(local("UTC", 2026, 11, 23, 9)) == weekly.period(local("UTC", 2026, 11, 29, 23)) == "2026-W48"
    # Across New Year the ISO week holds: 2027-01-01 is in 2026's week 53.
    assert weekly.period(local("UTC", 2026, 12, 28, 9)) == weekly.period(local("UTC", 2027, 1, 1, 9)) == "2026-W53"


def test_the_chart_file_checks_schedules_and_round_trips_them(db):
    data = {
        "org": {"name": "X", "timezone": "Europe/Berlin"},
        "schedules": [
            {
                "post": "briefing",
                "channel": "C0X",
                "cron": "0 8 * * 1-5",
                "working_days": "mon-fri",
                "holidays": ["2026-12-25", "2026-12-24"],
                "grace": "90m",
            }
        ],
    }
    with db.session() as s:
        apply_chart(s, validate_chart(data, "chart.yaml"), actor="operator:test", source="chart.yaml")
        exported = export_chart(s)
        assert exported.schedules[0].working_days == ["mon", "tue", "wed", "thu", "fri"]
        assert exported.schedules[0].holidays == ["2026-12-24", "2026-12-25"] and exported.schedules[0].grace == "1h30m"
        assert not apply_chart(
            s, exported, actor="operator:test", source="export"
        ).changes  # export -> import: no changes
        assert schedule_plans.get_plan(s, "briefing").grace == dt.timedelta(minutes=90)
    bad = {
        "org": {"name": "X"},
        "schedules": [
            {
                "post": "newsletter",
                "channel": "C0X",
                "cron": "0 25 * * *",
                "working_days": ["mon", "fry"],
                "holidays": ["2026-13-01"],
                "grace": "soon",
            }
        ],
    }
    with pytest.raises(ChartErrors) as caught:
        validate_chart(bad, "chart.yaml")
    where = {loc for loc, _ in caught.value.problems}
    assert where == {
        "schedules[0].post",
        "schedules[0].cron",
        "schedules[0].working_days",
        "schedules[0].holidays",
        "schedules[0].grace",
    }


# ---------------------------------------------------------------- fixtures for posting


@pytest.fixture
def api() -> Iterator[SlackAPI]:
    with SlackAPI(tokens=[TOKEN]) as api:
        yield api


@pytest.fixture
def poster(example_db, api) -> RhythmPoster:
    return RhythmPoster(example_db, make_client(TOKEN, api.url))


def set_schedules(db: Database, *specs: dict) -> None:
    with db.session() as s:
        chart = export_chart(s).model_dump(mode="json", exclude_defaults=True)
        chart["schedules"] = list(specs)
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


# ---------------------------------------------------------------- claiming once


def test_a_period_is_claimed_once(example_db):
    with example_db.session() as s:
        p = schedule_plans.get_plan(s, "briefing")
        due = local("America/New_York", 2026, 11, 24, 8)
        first = run_claims.claim(s, p, due, now=due)
        assert first is not None and first.period == "2026-11-24" and not first.late
        assert run_claims.claim(s, p, due + dt.timedelta(minutes=1), now=due) is None
        assert run_claims.claim(s, p, due + dt.timedelta(days=1), now=due + dt.timedelta(days=1)) is not None


def test_concurrent_claimers_of_one_period_get_one_claim(example_db):
    with example_db.session(readonly=True) as s:
        p = schedule_plans.get_plan(s, "briefing")
    due = local("America/New_York", 2026, 11, 24, 8)
    barrier, won, errors = threading.Barrier(6), [], []

    def race() -> None:
        db = Database(example_db.url, auto_migrate=False)  # its own engine and pool: as another process
        try:
            barrier.wait()
            with db.session() as s:
                if (c := run_claims.claim(s, p, due, now=due)) is not None:
                    won.append(c.id)
        except Exception as exc:
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=race) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(won) == 1
    assert [(r.period, r.status) for r in runs(example_db)] == [("2026-11-24", "claimed")]


def test_two_scheduler_instances_post_once(example_db, api):
    every_day, now = due_now()
    set_schedules(example_db, {"post": "briefing", "channel": "C0LEADERSHIP", "cron": every_day, "timezone": "UTC"})
    instances = []
    for _ in range(2):
        db = Database(example_db.url, auto_migrate=False)
        instances.append((db, RhythmScheduler(db, make_client(TOKEN, api.url), SchedulerSettings(enabled=False))))
    barrier, outcomes = threading.Barrier(2), []

    def start(scheduler: RhythmScheduler) -> None:
        barrier.wait()
        outcomes.extend(scheduler.rebuild(now=now + dt.timedelta(seconds=5)))  # what start() does first

    threads = [threading.Thread(target=start, args=(sch,)) for _, sch in instances]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for db, _ in instances:
        db.dispose()
    assert [o.status for o in outcomes] == ["posted"]
    assert len(posts(api, "C0LEADERSHIP")) == 1
    assert [(r.status, r.late) for r in runs(example_db)] == [("posted", False)]


def test_two_processes_running_the_schedule_post_once(example_db, api):
    env = {**os.environ, "OTP_DATABASE_URL": example_db.url, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": api.url}
    procs = [
        subprocess.Popen(
            [OTP, "schedule", "run", "briefing"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    said = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], said
    outs = sorted(out for out, _ in said)
    assert "posted to C0LEADERSHIP" in outs[1] and ("already posted" in outs[0] or "being posted" in outs[0]), outs
    assert len(posts(api, "C0LEADERSHIP")) == 1


# ---------------------------------------------------------------- crashes


def test_a_crash_after_the_post_landed_is_recovered_without_a_second_post(example_db, api, poster):
    every_day, now = due_now()
    set_schedules(example_db, {"post": "briefing", "channel": "C0LEADERSHIP", "cron": every_day, "timezone": "UTC"})
    with example_db.session() as s:
        (claim,) = due_runs.catch_up(s, schedule_plans.get_plan(s, "briefing"), now + dt.timedelta(seconds=5))
    # The process that claimed it posts, then dies before recording anything.
    _, ts = post_once(
        make_client(TOKEN, api.url),
        claim.channel,
        claim.key,
        retry=False,
        since=claim.claimed_at.timestamp(),
        text="Daily briefing",
    )
    assert runs(example_db)[0].status == "claimed"

    scheduler = RhythmScheduler(example_db, poster.client, SchedulerSettings(enabled=False), poster)
    with example_db.session(readonly=True) as s:
        scheduler._etag = schedule_plans.chart_etag(s)  # jobs current: this check only looks for stale claims
    assert scheduler.check(now=utcnow()) == []  # the lease still runs: nobody takes it over yet
    (outcome,) = scheduler.check(now=past_lease(claim))
    assert outcome.status == "posted" and outcome.ts == ts
    assert len(posts(api, "C0LEADERSHIP")) == 1 and api.calls_to("conversations.history")
    assert [c for c in api.calls_to("chat.postMessage") if "thread_ts" not in c.args] == api.calls_to(
        "chat.postMessage"
    )[:1]  # the retry added only the thread's replies
    run = runs(example_db)[0]
    assert (run.status, run.posted_ts, run.attempts) == ("posted", ts, 2)


def test_a_crash_before_the_post_is_recovered_with_one_post(example_db, api, poster):
    every_day, now = due_now()
    set_schedules(example_db, {"post": "briefing", "channel": "C0LEADERSHIP", "cron": every_day, "timezone": "UTC"})
    with example_db.session() as s:
        (first,) = due_runs.catch_up(s, schedule_plans.get_plan(s, "briefing"), now + dt.timedelta(seconds=5))
    with example_db.session() as s:
        (claim,) = due_runs.take_over(s, past_lease(first))
        assert due_runs.take_over(s, past_lease(first) + dt.timedelta(seconds=1)) == []  # taken once
    assert poster.perform(claim).status == "posted"
    assert len(posts(api, "C0LEADERSHIP")) == 1


def test_a_failed_post_is_retried_when_its_short_lease_ends(example_db, api, poster):
    every_day, now = due_now()
    set_schedules(example_db, {"post": "briefing", "channel": "C0LEADERSHIP", "cron": every_day, "timezone": "UTC"})
    api.fail_next("chat.postMessage", status=500)
    with example_db.session() as s:
        (claim,) = due_runs.catch_up(s, schedule_plans.get_plan(s, "briefing"), now + dt.timedelta(seconds=5))
    assert poster.perform(claim).status == "retrying"
    with example_db.session() as s:
        (again,) = due_runs.take_over(s, utcnow() + run_reports.RETRY_AFTER + dt.timedelta(seconds=1))
    assert poster.perform(again).status == "posted"
    assert len(posts(api, "C0LEADERSHIP")) == 1


# ---------------------------------------------------------------- misfires


def misfire_plan(db: Database, **extra) -> schedule_plans.Plan:
    set_schedules(db, {"post": "briefing", "channel": "C0LEADERSHIP", "cron": "0 8 * * mon-fri", **extra})
    with db.session(readonly=True) as s:
        return schedule_plans.get_plan(s, "briefing")


def test_a_run_missed_while_down_posts_once_late_within_the_grace_window(example_db):
    p = misfire_plan(example_db)
    up = local("America/New_York", 2026, 11, 24, 9, 30)  # due 08:00, the bot came back at 09:30
    with example_db.session() as s:
        (claim,) = due_runs.catch_up(s, p, up)
        assert claim.late and claim.late_by == dt.timedelta(minutes=90) and claim.period == "2026-11-24"
        assert due_runs.catch_up(s, p, up + dt.timedelta(minutes=1)) == []  # and once only


def test_a_run_missed_beyond_the_grace_window_is_skipped_and_recorded(example_db):
    p = misfire_plan(example_db)
    with example_db.session() as s:
        assert due_runs.catch_up(s, p, local("America/New_York", 2026, 11, 24, 10, 30)) == []
    (run,) = runs(example_db)
    assert run.status == "skipped" and run.period == "2026-11-24" and "grace" in run.note


def test_the_grace_window_is_set_per_schedule(example_db):
    p = misfire_plan(example_db, grace="30m")
    with example_db.session() as s:
        assert due_runs.catch_up(s, p, local("America/New_York", 2026, 11, 24, 8, 29)) != []
        assert due_runs.catch_up(s, p, local("America/New_York", 2026, 11, 25, 8, 31)) == []
    assert [r.status for r in runs(example_db)] == ["claimed", "skipped"]


def test_days_missed_while_down_are_recorded_as_skipped_and_today_posts_late(example_db):
    p = misfire_plan(example_db)
    with example_db.session() as s:
        assert due_runs.catch_up(s, p, local("America/New_York", 2026, 11, 20, 8)) != []  # Friday, on time
        (claim,) = due_runs.catch_up(s, p, local("America/New_York", 2026, 11, 25, 9))  # back on Wednesday
    assert claim.period == "2026-11-25" and claim.late
    assert [(r.period, r.status) for r in runs(example_db)] == [
        ("2026-11-20", "claimed"),
        ("2026-11-23", "skipped"),
        ("2026-11-24", "skipped"),
        ("2026-11-25", "claimed"),
    ]


def test_a_new_schedule_records_no_misses_from_before_it_existed(example_db):
    p = misfire_plan(example_db)
    with example_db.session() as s:
        due_runs.catch_up(s, p, local("America/New_York", 2026, 11, 25, 20))
    assert [(r.period, r.status) for r in runs(example_db)] == [("2026-11-25", "skipped")]


def test_nothing_fires_on_a_holiday(example_db):
    p = misfire_plan(example_db, holidays=["2026-11-26"])  # Thanksgiving
    with example_db.session() as s:
        assert due_runs.catch_up(s, p, local("America/New_York", 2026, 11, 25, 8)) != []
        assert due_runs.catch_up(s, p, local("America/New_York", 2026, 11, 26, 8, 1)) == []
    assert [r.period for r in runs(example_db)] == ["2026-11-25"]


# ---------------------------------------------------------------- by hand


def test_run_now_claims_the_period_once_and_force_posts_again(example_db, poster, api):
    with example_db.session() as s:
        p = schedule_plans.get_plan(s, "scorecard")
        first = manual_runs.run_now(s, p, started_by="operator:test")
    assert poster.perform(first.claim).status == "posted"
    with example_db.session() as s:
        second = manual_runs.run_now(s, p, started_by="operator:test")
        assert second.claim is None and second.reason.startswith(f"already posted for {first.period}")
        forced = manual_runs.run_now(s, p, started_by="operator:test", force=True)
        assert forced.claim.seq == 1 and forced.claim.key.endswith(":1")
        assert [
            e.detail["forced"] for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "schedule.run"))
        ] == [False, True]
    assert poster.perform(forced.claim).status == "posted"
    assert len(posts(api, "C0L10")) == 2


def test_run_now_takes_over_a_skipped_period(example_db, poster):
    with example_db.session() as s:
        p = schedule_plans.get_plan(s, "briefing")
        run_claims.skip(s, p, utcnow(), "missed")
        taken = manual_runs.run_now(s, p, started_by="operator:test")
    assert taken.claim is not None and taken.claim.seq == 0
    assert poster.perform(taken.claim).status == "posted"
    assert [r.status for r in runs(example_db)] == ["posted"]


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
    from .serve import Server

    every_day, _ = due_now()
    set_schedules(example_db, {"post": "briefing", "channel": "C0LEADERSHIP", "cron": every_day, "timezone": "UTC"})
    env = {"OTP_SCHEDULER_CHECK_SECONDS": "0.5", "OTP_POLL_SECONDS": "0.2"}
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
    from .serve import free_port

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
