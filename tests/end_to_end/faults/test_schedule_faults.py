"""Schedule runs under real faults: a poster whose run was taken over does not post, and a
taker finds the first attempt's post however busy the channel has been since."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from otp_bot.bot.runtime.rhythm_posts import RhythmPoster
from otp_bot.bot.slack.client import make_client
from otp_bot.store.domain.rhythm import due_runs, run_claims, schedule_plans
from tests.support.schedules import TOKEN, due_now, past_lease, posts, runs, set_schedules
from tests.support.slack.api import SlackAPI

pytestmark = pytest.mark.fault


@pytest.fixture
def api() -> Iterator[SlackAPI]:
    """A fresh stand-in per test: each test counts the posts in one channel."""
    with SlackAPI(tokens=[TOKEN]) as api:
        yield api


def briefing_claim(db) -> run_claims.Claim:
    every_day, now = due_now()
    set_schedules(db, {"post": "briefing", "channel": "C0LEADERSHIP", "cron": every_day, "timezone": "UTC"})
    with db.session() as s:
        (claim,) = due_runs.catch_up(s, schedule_plans.get_plan(s, "briefing"), now + dt.timedelta(seconds=5))
    return claim


def test_a_poster_whose_run_was_taken_over_does_not_post(example_db, api):
    stale = briefing_claim(example_db)  # this poster hung before posting; its lease ran out
    with example_db.session() as s:
        (taker,) = due_runs.take_over(s, past_lease(stale))
    poster = RhythmPoster(example_db, make_client(TOKEN, api.url))
    assert poster.perform(taker).status == "posted"
    late = poster.perform(stale)  # the hung poster wakes up
    assert late.status == "retrying" and "taken over" in late.note
    assert len(posts(api, "C0LEADERSHIP")) == 1
    run = runs(example_db)[0]
    assert (run.status, run.attempts) == ("posted", 2)


def test_a_taker_finds_the_first_post_in_a_busy_channel(example_db, api):
    claim = briefing_claim(example_db)
    poster = RhythmPoster(example_db, make_client(TOKEN, api.url, timeout=1))
    api.fail_next("chat.postMessage", delay=2.0)  # the post lands; its answer never arrives in time
    assert poster.perform(claim).status == "retrying"
    assert len(posts(api, "C0LEADERSHIP")) == 1
    for n in range(2_000):
        api.add_message("C0LEADERSHIP", f"chatter {n}")
    with example_db.session() as s:
        (taker,) = due_runs.take_over(s, past_lease(claim))
    assert RhythmPoster(example_db, make_client(TOKEN, api.url)).perform(taker).status == "posted"
    assert len(posts(api, "C0LEADERSHIP")) == 2_001  # the chatter and one briefing
    assert len([c for c in api.calls_to("chat.postMessage") if "thread_ts" not in c.args]) == 1
