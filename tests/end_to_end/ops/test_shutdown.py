"""SIGTERM in the middle of a drain: the item in hand finishes, the claims not started are
released at once (not after the lease), and a second process sends the rest. Counted where
Slack holds them: every approval message and every delivery exactly once."""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections.abc import Iterator

import pytest

from otp_bot.bot.runtime.worker import OutboxWorker
from otp_bot.bot.slack.client import make_client
from otp_bot.bot.slack.settings import WorkerSettings
from otp_bot.store.db import Database
from otp_bot.store.domain.actors import actor_for_holder
from otp_bot.store.domain.gate import decisions, drafts
from otp_bot.store.models import OutboxItem
from tests.support.approvals import click, draft_row, posted
from tests.support.deliveries import CUSTOMER, deliveries
from tests.support.drafts import submit_many
from tests.support.serve import TOKEN, Server
from tests.support.slack.api import SlackAPI

pytestmark = pytest.mark.fault

APPROVALS = "C0APPROVALS"
LEASE = 120  # seconds: a claim left to run out would hold the second process up far past the test's wait
# uvicorn stops cleanly, then raises the signal again so the process ends as terminated by it.
STOPPED = (0, -signal.SIGTERM)


@pytest.fixture
def api() -> Iterator[SlackAPI]:
    with SlackAPI(tokens=[TOKEN]) as api:
        yield api


def submit(db: Database, n: int) -> list[int]:
    return submit_many(db, n, destination=CUSTOMER)


def wait_until(predicate, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def posts(api: SlackAPI) -> int:
    return len(api.calls_to("chat.postMessage"))


def held_claims(db: Database) -> int:
    """Pending items some worker still holds a lease on."""
    now = dt.datetime.now(dt.UTC)
    with db.session(readonly=True) as s:
        return sum(
            1
            for (locked,) in s.query(OutboxItem.locked_until).filter(OutboxItem.status == "pending")
            if locked is not None and (locked if locked.tzinfo else locked.replace(tzinfo=dt.UTC)) > now
        )


def test_sigterm_mid_drain_finishes_the_item_in_hand_and_releases_the_rest(example_db, api):
    # 16 approved drafts waiting for delivery, 16 new ones waiting for their approval message.
    approved = submit(example_db, 16)
    worker = OutboxWorker(example_db, make_client(TOKEN, api.url), WorkerSettings(retry_backoff=[0.0]))
    while worker.run_once():
        pass
    with example_db.session() as s:
        bogdan = actor_for_holder(s, "bogdan")
        for draft_id in approved:
            decisions.decide(s, bogdan, draft_id, "approve")
    waiting = submit(example_db, 16)
    before = posts(api)
    api.delay("chat.postMessage", 0.5)  # the post lands at once; Slack's answer takes half a second
    env = {
        "SLACK_TIMEOUT_SECONDS": "5",
        "OTP_CALLBACK_TIMEOUT_SECONDS": "5",
        "OTP_LEASE_SECONDS": str(LEASE),
        "OTP_OUTBOX_BATCH": "20",  # most of the queue claimed at once: the release is what frees it
        "OTP_POLL_SECONDS": "0.3",
        "OTP_SCHEDULER_ENABLED": "false",  # only the outbox posts here
    }
    first = Server(example_db, api, env)
    try:
        assert wait_until(lambda: posts(api) - before >= 5, 60)
        first.proc.send_signal(signal.SIGTERM)
        landed_at_signal = posts(api)
        stopped = time.monotonic()
        out, _ = first.proc.communicate(timeout=30)
        took = time.monotonic() - stopped
    finally:
        if first.proc.poll() is None:
            first.proc.kill()
    assert first.proc.returncode in STOPPED and "Traceback" not in out, out
    # One worker thread: at most the item in hand lands after the signal, then nothing new starts.
    assert posts(api) <= landed_at_signal + 1
    assert took < 10  # the item in hand (half a second), not the lease
    assert held_claims(example_db) == 0  # every claim not started went back
    assert posts(api) - before < 32  # the stop came mid-drain

    second = Server(example_db, api, env)
    try:
        # Far inside the lease: the second process needs no claim of the first to run out.
        assert wait_until(lambda: len(deliveries(api)) == 16 and len(deliveries(api, APPROVALS)) == 32, LEASE / 3, 0.2)
        time.sleep(1)  # anything posted twice would show by now
    finally:
        output = second.stop()
    assert "Traceback" not in output, output
    assert dict(deliveries(api)) == {f"draft:{i}:deliver": 1 for i in approved}
    assert dict(deliveries(api, APPROVALS)) == {f"draft:{i}:post:{APPROVALS}": 1 for i in approved + waiting}


def test_sigterm_right_after_a_click_is_acked_still_records_the_decision(example_db, api):
    """The click is acked at once and decided on the work pool; the stop waits for that work
    instead of ending the process under it (the person saw their click taken)."""
    draft_id = submit_one(example_db)
    srv = Server(example_db, api, {"OTP_SCHEDULER_ENABLED": "false", "OTP_POLL_SECONDS": "0.1"})
    try:
        message = posted(api, draft_id)
        # Bogdan clicks from a Slack account the chart knows only by its profile email: the
        # work after the ack asks Slack who it is, and Slack takes two seconds to answer.
        api.users["U0BOGDAN2"] = {"email": "bogdan@acmeagency.com"}
        api.delay("users.info", 2.0)
        click(srv, "U0BOGDAN2", "otp_draft_approve", draft_id, message)
        assert wait_until(lambda: api.calls_to("users.info"), 10)
        srv.proc.send_signal(signal.SIGTERM)
        out, _ = srv.proc.communicate(timeout=30)
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()
    assert srv.proc.returncode in STOPPED and "Traceback" not in out, out
    row = draft_row(example_db, draft_id)
    assert row.status == "approved" and [d.holder_id for d in row.decisions] == ["bogdan"]


def submit_one(db: Database) -> int:
    with db.session() as s:
        return drafts.submit_draft(
            s,
            actor_for_holder(s, "pulse"),
            seat_id="retention",
            kind="retention-outreach",
            subject="client:acme",
            title="Check in",
            body="Hi Jo",
        ).draft.id
