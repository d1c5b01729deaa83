"""Deliveries under real faults: each approved draft reaches its destination exactly once.

Every scenario counts, at the Slack stand-in, the posts carrying each draft's delivery key
in their metadata: exactly one per draft (none lost, none doubled). The scenarios with
`otp serve` run real processes on one store (tests/support/serve.py), with a slow Slack, kill -9
mid-drain, and a Slack outage.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest

from otp_bot.bot.runtime.worker import OutboxWorker
from otp_bot.bot.slack.client import make_client
from otp_bot.bot.slack.settings import WorkerSettings
from otp_bot.store.db import Database
from otp_bot.store.domain import outbox
from otp_bot.store.domain.actors import actor_for_holder
from otp_bot.store.domain.gate import decisions
from otp_bot.store.models import Draft, OutboxItem
from tests.support.deliveries import CUSTOMER, deliveries
from tests.support.drafts import submit_many
from tests.support.serve import TOKEN, Server
from tests.support.slack.api import SlackAPI

pytestmark = pytest.mark.fault


@pytest.fixture
def api() -> Iterator[SlackAPI]:
    with SlackAPI(tokens=[TOKEN]) as api:
        yield api


def worker_for(db: Database, api: SlackAPI, *, timeout: float = 10, **settings) -> OutboxWorker:
    settings.setdefault("retry_backoff", [0.0])
    settings.setdefault("callback_timeout_seconds", timeout)
    return OutboxWorker(db, make_client(TOKEN, api.url, timeout), WorkerSettings(**settings))


def drain(worker: OutboxWorker, rounds: int = 10_000) -> None:
    for _ in range(rounds):
        if not worker.run_once():
            return


def submit(db: Database, n: int, destination: str = CUSTOMER) -> list[int]:
    return submit_many(db, n, destination=destination)


def approve(db: Database, draft_id: int) -> None:
    with db.session() as s:
        decisions.decide(s, actor_for_holder(s, "bogdan"), draft_id, "approve")


def post_attempts(api: SlackAPI, channel: str = CUSTOMER) -> int:
    return sum(1 for c in api.calls_to("chat.postMessage") if c.args.get("channel") == channel)


def counts(api: SlackAPI, ids: list[int]) -> tuple[int, int]:
    """(lost, duplicated): drafts delivered no time, drafts delivered more than once."""
    found = deliveries(api)
    per = [found.get(f"draft:{i}:deliver", 0) for i in ids]
    return sum(1 for n in per if n == 0), sum(1 for n in per if n > 1)


def wait_until(predicate, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def delivered_in_store(db: Database, ids: list[int]) -> int:
    with db.session(readonly=True) as s:
        return s.query(Draft).filter(Draft.id.in_(ids), Draft.delivery == "delivered").count()


def report(name: str, api: SlackAPI, ids: list[int]) -> tuple[int, int]:
    lost, duplicated = counts(api, ids)
    print(f"\nFAULT {name}: drafts={len(ids)} attempts={post_attempts(api)} lost={lost} duplicated={duplicated}")
    return lost, duplicated


# ---------------------------------------------------------------- in one process


def test_a_worker_whose_claim_was_taken_over_does_not_call_out(example_db, api):
    """Two workers, one store: A's lease runs out while it works through its batch, B takes
    the late items over. A must not post what B now owns (the reported double delivery)."""
    [draft_id] = submit(example_db, 1)
    drain(worker_for(example_db, api))
    approve(example_db, draft_id)
    with example_db.session() as s:  # A claims the delivery, and its lease runs out at once
        stale = [c for c in outbox.claim(s, lease=dt.timedelta(0)) if c.kind == "deliver"]
    assert len(stale) == 1
    b = worker_for(example_db, api)
    drain(b)
    assert deliveries(api)[f"draft:{draft_id}:deliver"] == 1
    a = worker_for(example_db, api)
    a._run(stale[0])  # A gets round to its (stale) claim
    assert post_attempts(api) == 1 and deliveries(api)[f"draft:{draft_id}:deliver"] == 1
    with example_db.session(readonly=True) as s:  # and A did not overwrite B's outcome
        item = outbox.item_for_draft(s, draft_id)
        assert item.status == "done" and item.landed_ts and s.get(Draft, draft_id).delivery == "delivered"


def test_two_workers_with_a_slow_slack_deliver_each_draft_once(example_db, api):
    """The reported race in one process: a batch of 20 claimed for a 3 s lease while each
    post takes 0.9 s, so the tail of the batch lapses and the other worker claims it."""
    ids = submit(example_db, 8)
    drain(worker_for(example_db, api))
    for draft_id in ids:
        approve(example_db, draft_id)
    api.delay("chat.postMessage", 0.9)
    a, b = (worker_for(example_db, api, timeout=1, lease_seconds=3, outbox_batch=20) for _ in range(2))
    done = threading.Event()

    def poll(worker: OutboxWorker) -> None:  # as the worker thread does: claim, work, look again
        while not done.is_set():
            if not worker.run_once():
                time.sleep(0.1)

    threads = [threading.Thread(target=poll, args=(w,)) for w in (a, b)]
    for t in threads:
        t.start()
    try:
        assert wait_until(lambda: delivered_in_store(example_db, ids) == len(ids), 60)
        time.sleep(4)  # a lease's worth more: a stale worker would post now
    finally:
        done.set()
        for t in threads:
            t.join(30)
    assert report("in-process 2 workers x slow Slack", api, ids) == (0, 0)


def test_the_retry_finds_the_first_post_in_a_busy_channel(example_db, api):
    """The first post landed but its answer never came (the client timed out); then 2,000
    other messages arrived. The retry pages through all of them, finds it, and does not post."""
    [draft_id] = submit(example_db, 1)
    worker = worker_for(example_db, api, timeout=1, lease_seconds=3)
    drain(worker)
    approve(example_db, draft_id)
    api.fail_next("chat.postMessage", delay=2.0)
    worker.run_once()  # the post lands at Slack; the client gives up waiting for the answer
    assert len(deliveries(api)) == 1
    for n in range(2_000):
        api.add_message(CUSTOMER, f"chatter {n}")
    time.sleep(0.05)
    drain(worker)
    assert deliveries(api)[f"draft:{draft_id}:deliver"] == 1 and post_attempts(api) == 1
    assert len(api.calls_to("conversations.history")) >= 11  # 2,001 messages at 200 a page
    with example_db.session(readonly=True) as s:
        assert s.get(Draft, draft_id).delivery == "delivered"


def test_when_the_look_up_cannot_finish_nothing_is_posted_and_the_failure_says_why(example_db, api, monkeypatch):
    import otp_bot.bot.runtime.delivery as delivery

    [draft_id] = submit(example_db, 1)
    worker = worker_for(example_db, api, timeout=1, lease_seconds=3)
    drain(worker)
    approve(example_db, draft_id)
    api.fail_next("chat.postMessage", delay=2.0)
    worker.run_once()
    for n in range(450):
        api.add_message(CUSTOMER, f"chatter {n}")
    monkeypatch.setattr(delivery, "MAX_PAGES", 2)  # the safety cap, made small: 400 messages
    drain(worker)
    assert post_attempts(api) == 1
    with example_db.session(readonly=True) as s:
        d = s.get(Draft, draft_id)
        assert d.delivery == "failed" and "could not confirm whether the earlier post landed" in d.delivery_error


def test_a_history_outage_during_the_look_up_retries_later_without_posting(example_db, api):
    [draft_id] = submit(example_db, 1)
    worker = worker_for(example_db, api, timeout=1, lease_seconds=3)
    drain(worker)
    approve(example_db, draft_id)
    api.fail_next("chat.postMessage", status=500)  # Slack did not take the post
    worker.run_once()
    api.outage("conversations.history", calls=3, kind=500)  # the client retries twice, then gives up
    worker.run_once()
    with example_db.session(readonly=True) as s:
        item = outbox.item_for_draft(s, draft_id)
        assert item.status == "pending" and "could not confirm" in item.last_error
    drain(worker)
    assert post_attempts(api) == 2 and counts(api, [draft_id]) == (0, 0)


# ---------------------------------------------------------------- real `otp serve` processes


def serve_env(**extra: str) -> dict[str, str]:
    return {
        "SLACK_TIMEOUT_SECONDS": "2",
        "OTP_CALLBACK_TIMEOUT_SECONDS": "2",
        "OTP_LEASE_SECONDS": "4",
        "OTP_RETRY_BACKOFF": "[0.5, 1, 2]",
        "OTP_POLL_SECONDS": "0.3",
        **extra,
    }


def prepared(db: Database, api: SlackAPI, n: int) -> list[int]:
    """`n` drafts submitted and approved; their approval messages already posted."""
    ids = submit(db, n)
    worker = worker_for(db, api)
    drain(worker)
    for draft_id in ids:
        approve(db, draft_id)
    return ids


def stop_all(servers: list[Server]) -> None:
    for s in servers:
        if s.proc.poll() is None:
            s.stop()


def test_two_serve_processes_with_a_slow_slack_deliver_40_drafts_once_each(example_db, api):
    ids = prepared(example_db, api, 40)
    api.delay("chat.postMessage", 1.0)
    # A batch of 20 for a 4 s lease, 1 s a post: the tail of every batch lapses, as reported.
    servers = [Server(example_db, api, serve_env(OTP_OUTBOX_BATCH="20")) for _ in range(2)]
    try:
        assert wait_until(lambda: delivered_in_store(example_db, ids) == len(ids), 150, 0.5)
    finally:
        stop_all(servers)
    assert report("2 x otp serve, chat.postMessage 1 s, lease 4 s, batch 20", api, ids) == (0, 0)


def test_kill_9_mid_drain_three_times_and_200_drafts_are_each_delivered_once(example_db, api):
    ids = prepared(example_db, api, 200)
    api.delay("chat.postMessage", 0.15)  # the post lands at once; its answer comes a little later
    kills = 0
    server = Server(example_db, api, serve_env())
    try:
        for target in (30, 80, 130):
            # Killed right after a post landed, before its answer arrived: mid-call.
            assert wait_until(lambda t=target: len(deliveries(api)) >= t, 90, 0.01)
            server.kill()
            kills += 1
            server = Server(example_db, api, serve_env())
        assert wait_until(lambda: delivered_in_store(example_db, ids) == len(ids), 120, 0.5)
    finally:
        stop_all([server])
    assert kills == 3
    looked = {c.args.get("channel") for c in api.calls_to("conversations.history")}
    assert CUSTOMER in looked  # a killed attempt was retried: it looked for its post first
    assert report("kill -9 x3 mid-drain, 200 drafts", api, ids) == (0, 0)


OUTAGE_SECONDS = 60


def test_a_slack_outage_with_approvals_during_it_delivers_each_once_after(example_db, api):
    ids = prepared_pending(example_db, api, 20)
    env = serve_env(OTP_RETRY_BACKOFF="[1, 4, 10, 20, 30]")
    servers = [Server(example_db, api, env) for _ in range(2)]
    try:
        third = OUTAGE_SECONDS / 3
        started = time.monotonic()
        api.outage(seconds=third, kind=429)
        api.outage(seconds=2 * third, kind=500)  # takes over when the 429s end
        api.outage(seconds=OUTAGE_SECONDS, kind="drop")
        for n, draft_id in enumerate(ids):  # approvals spread over the outage
            time.sleep(max(0.0, started + n * (OUTAGE_SECONDS - 5) / len(ids) - time.monotonic()))
            approve(example_db, draft_id)
        assert wait_until(lambda: delivered_in_store(example_db, ids) == len(ids), OUTAGE_SECONDS + 90, 0.5)
    finally:
        stop_all(servers)
    failed = [c for c in api.calls if c.failed]
    assert failed, "the outage failed no call"
    assert report(f"{OUTAGE_SECONDS} s Slack outage (429, 500, dropped), 2 x otp serve", api, ids) == (0, 0)


def prepared_pending(db: Database, api: SlackAPI, n: int) -> list[int]:
    ids = submit(db, n)
    drain(worker_for(db, api))
    return ids


def test_deliveries_left_in_the_store_match_slack(example_db, api):
    """After a clean drain, the store's record of each delivery is where Slack holds it."""
    ids = prepared(example_db, api, 3)
    drain(worker_for(example_db, api))
    held = {m["ts"] for m in api.history(CUSTOMER)}
    with example_db.session(readonly=True) as s:
        items = s.query(OutboxItem).filter(OutboxItem.kind == "deliver", OutboxItem.draft_id.in_(ids)).all()
        assert {i.landed_ts for i in items} <= held and all(i.result["ts"] == i.landed_ts for i in items)
