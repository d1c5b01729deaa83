"""A burst of approvals against a Slack that enforces its posting limit (one post a second per
channel, a short burst of 2; `SlackAPI.enforce_post_rate`): the real path, drafts submitted, the
outbox worker posting their approval messages. Paced, no post meets a 429 and each is posted
once; unpaced, the same burst meets 429s and the outbox still posts each once.

500 posts at Slack's real rate would take over 8 minutes, so the big burst runs with both
sides 20 times faster (a pace of 20 against a stand-in enforcing 20 a second, about 25 s):
the pacer's arithmetic is the same at any rate. What is not the same is the timing noise
between the pacer's clock and a post's arrival (threads of the workers and of the stand-in
share one interpreter on a loaded machine): one interval is 50 ms there, and a post delayed
by more than that behind the next was seen refused once in several runs. So the stand-in
tolerates a burst of 3 at that rate (100 ms of noise) while enforcing 20 a second; at the
real rate its usual burst of 2 tolerates a second. A smaller burst runs at the real rate.
"""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from otp_bot.bot.runtime.worker import OutboxWorker
from otp_bot.bot.slack.client import make_client
from otp_bot.bot.slack.pacing import Pacer
from otp_bot.bot.slack.settings import WorkerSettings
from otp_bot.store.db import Database
from otp_bot.store.models import DraftMessage
from tests.support.deliveries import deliveries
from tests.support.drafts import submit_many
from tests.support.serve import TOKEN
from tests.support.slack.api import SlackAPI

pytestmark = pytest.mark.fault

APPROVALS = "C0APPROVALS"  # where the example org's retention drafts go for a decision


def submit(db: Database, n: int) -> list[int]:
    return submit_many(db, n, subject="client:c{i}", body="Hi ({i})")


def drain_with(db: Database, api: SlackAPI, pace: float, workers: int, ids: list[int], timeout: float) -> float:
    """`workers` outbox workers in threads of one process, sharing one client (and so one
    pacer), until every draft's approval message is recorded; returns the seconds it took."""
    client = make_client(TOKEN, api.url, pacer=Pacer(pace))
    pool = [OutboxWorker(db, client, WorkerSettings(retry_backoff=[1.0])) for _ in range(workers)]
    done = threading.Event()

    def work(worker: OutboxWorker) -> None:
        while not done.is_set():
            if not worker.run_once():
                time.sleep(0.05)

    threads = [threading.Thread(target=work, args=(w,)) for w in pool]
    started = time.monotonic()
    for t in threads:
        t.start()
    try:
        deadline = started + timeout
        while time.monotonic() < deadline and recorded(db) < len(ids):
            time.sleep(0.2)
        took = time.monotonic() - started
    finally:
        done.set()
        for t in threads:
            t.join(30)
    assert recorded(db) == len(ids), f"{recorded(db)} of {len(ids)} approval messages after {timeout} s"
    return took


def recorded(db: Database) -> int:
    with db.session(readonly=True) as s:
        return s.query(DraftMessage).count()


def refused(api: SlackAPI) -> int:
    return sum(1 for c in api.calls_to("chat.postMessage") if c.status == 429)


def once_each(api: SlackAPI, ids: list[int]) -> bool:
    posted = deliveries(api, APPROVALS)
    return all(posted[f"draft:{i}:post:{APPROVALS}"] == 1 for i in ids) and sum(posted.values()) == len(ids)


def test_500_approvals_paced_meet_no_429_and_each_is_posted_once(example_db):
    ids = submit(example_db, 500)
    with SlackAPI(tokens=[TOKEN]) as api:
        api.enforce_post_rate(per_second=20.0, burst=3)
        took = drain_with(example_db, api, pace=20.0, workers=2, ids=ids, timeout=120)
        assert refused(api) == 0
        assert once_each(api, ids)
        assert len(api.calls_to("chat.postMessage")) == 500  # not one retry
        assert took >= 499 / 20 * 0.95  # the rate held: about 25 s, however fast the workers could go


def test_at_slacks_real_rate_posts_to_one_channel_go_one_a_second(example_db):
    ids = submit(example_db, 5)
    with SlackAPI(tokens=[TOKEN]) as api:
        api.enforce_post_rate(per_second=1.0)
        drain_with(example_db, api, pace=1.0, workers=2, ids=ids, timeout=30)
        posts = api.calls_to("chat.postMessage")
        assert refused(api) == 0 and once_each(api, ids) and len(posts) == 5
        gaps = [b.at - a.at for a, b in itertools.pairwise(posts)]
        assert min(gaps) >= 0.9, gaps  # one a second, not a burst of two


def test_unpaced_the_burst_meets_429s_and_the_outbox_still_posts_each_once(example_db):
    """Why pacing: the same kind of burst with pacing off. The stand-in refuses what comes too
    fast, and each refused post is retried by the outbox (after looking for it), never doubled."""
    ids = submit(example_db, 30)
    with SlackAPI(tokens=[TOKEN]) as api:
        api.enforce_post_rate(per_second=20.0)
        drain_with(example_db, api, pace=0, workers=2, ids=ids, timeout=60)
        assert refused(api) > 0
        assert once_each(api, ids)
