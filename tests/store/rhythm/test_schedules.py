"""Schedules posting exactly once: one claim per period whoever races for it (threads,
scheduler instances, processes), a crash between claim and post recovered without a second
post, the misfire policy (late within the grace window, skipped after it), and runs by hand."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading

from sqlalchemy import select

from otp_bot.bot.runtime.delivery import post_once
from otp_bot.bot.runtime.scheduler import RhythmScheduler, SchedulerSettings
from otp_bot.bot.slack.client import make_client
from otp_bot.store.db import Database
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.rhythm import due_runs, manual_runs, run_claims, run_reports, schedule_plans
from otp_bot.store.models import AuditEntry
from tests.support.schedules import TOKEN, due_now, local, past_lease, posts, runs, set_schedules
from tests.support.serve import OTP

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
