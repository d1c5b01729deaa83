"""The outbox worker against the local Slack stand-in: time passing (reminders, escalation,
expiry) and Slack failing (a 500 on a post, a 429 on an update), with nothing lost or doubled."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from slack_sdk import WebClient

from otp_bot.bot.runtime.worker import OutboxWorker
from otp_bot.bot.slack.client import make_client
from otp_bot.bot.slack.pacing import Pacer
from otp_bot.bot.slack.settings import WorkerSettings
from otp_bot.store.domain import outbox
from otp_bot.store.domain.actors import actor_for_holder
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.errors import Conflict
from otp_bot.store.domain.gate import decisions, drafts
from otp_bot.store.models import Draft, OutboxItem

BOGDAN, DAVID = "U02BGD4N8RM", "U02DSTL7K1Q"


@pytest.fixture
def worker(example_db, api) -> OutboxWorker:
    client: WebClient = make_client("xoxb-test-token", api.url)
    return OutboxWorker(example_db, client, WorkerSettings(retry_backoff=[0.0]))


def submit(db, **fields) -> int:
    with db.session() as s:
        return drafts.submit_draft(
            s,
            actor_for_holder(s, "pulse"),
            seat_id="retention",
            kind="retention-outreach",
            subject="client:acme",
            title="Check in",
            body="Hi Jo",
            **fields,
        ).draft.id


def later(hours: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)


def draft(db, draft_id: int) -> Draft:
    with db.session(readonly=True) as s:
        d = s.get(Draft, draft_id)
        d.messages  # noqa: B018 - loaded while the session is open
        return d


def test_approvers_are_reminded_in_the_thread(example_db, api, worker):
    draft_id = submit(example_db)
    worker.run_once()
    approval = api.calls_to("chat.postMessage")[0]
    worker.sweep(now=later(5))
    worker.run_once(now=later(5))
    reminder = api.calls_to("chat.postMessage")[-1]
    assert reminder.args["thread_ts"] == approval.response["ts"] and reminder.args["channel"] == "C0APPROVALS"
    assert f"<@{BOGDAN}>" in reminder.args["text"] and f"#{draft_id}" in reminder.args["text"]
    worker.sweep(now=later(6))
    assert worker.run_once(now=later(6)) == 0  # reminded once, not at every sweep


def test_a_draft_nobody_decides_escalates_up_the_line_then_expires(example_db, api, worker):
    draft_id = submit(example_db)
    worker.run_once()
    worker.sweep(now=later(13))
    worker.run_once(now=later(13))
    # retention -> coo (Bogdan, already an approver) -> ceo: David gets the draft by DM, with its buttons
    escalation = [c for c in api.calls_to("chat.postMessage") if c.response.get("channel") == "D" + DAVID[1:]]
    assert len(escalation) == 1 and "escalated to you" in json.dumps(escalation[0].args["blocks"])
    d = draft(example_db, draft_id)
    assert d.escalated_to == "david" and {m.purpose for m in d.messages} == {"approval", "escalation"}
    with example_db.session() as s:  # David may now decide, from his DM
        decisions.decide(
            s,
            actor_for_holder(s, "david"),
            draft_id,
            "reject",
            reason="not now",
            message=(escalation[0].response["channel"], escalation[0].response["ts"]),
        )
    worker.run_once(now=later(13))
    assert len(api.calls_to("chat.update")) == 2  # both messages show the decision


def test_an_undecided_draft_expires_and_its_message_says_so(example_db, api, worker):
    draft_id = submit(example_db)
    worker.run_once()
    worker.sweep(now=later(25))
    worker.run_once(now=later(25))
    assert draft(example_db, draft_id).status == "expired"
    update = api.calls_to("chat.update")[-1]
    assert "Expired" in json.dumps(update.args["blocks"])
    assert not [b for b in update.args["blocks"] if b["type"] == "actions"]
    with example_db.session() as s, pytest.raises(Conflict):
        decisions.decide(s, actor_for_holder(s, "bogdan"), draft_id, "approve")


def test_a_slack_outage_on_the_approval_post_is_retried_and_posts_once(example_db, api, worker):
    api.fail_next("chat.postMessage", status=500)
    draft_id = submit(example_db)
    worker.run_once()
    assert api.calls_to("chat.postMessage")[0].status == 500 and not draft(example_db, draft_id).messages
    worker.run_once(now=later(0.01))
    assert len(api.messages["C0APPROVALS"]) == 1 and len(draft(example_db, draft_id).messages) == 1
    assert api.calls_to("conversations.history")  # the retry looked before posting


def test_a_rate_limited_update_waits_and_goes_through(example_db, api, worker):
    draft_id = submit(example_db)
    worker.run_once()
    api.fail_next("chat.update", status=429, retry_after=1)
    with example_db.session() as s:
        decisions.decide(s, actor_for_holder(s, "bogdan"), draft_id, "approve")
    worker.run_once()
    assert [c.status for c in api.calls_to("chat.update")] == [429, 200]


def test_a_post_slack_keeps_rate_limiting_is_slowed_never_given_up(example_db, api):
    """A 429 is Slack saying "wait", not a failed attempt: more of them than the item has
    attempts still ends in one post, each retry no sooner than Retry-After. (Pacing off, so the
    client does not also hold the lane in real time: the outbox's own wait is what is shown.)"""
    worker = OutboxWorker(example_db, make_client("xoxb-test-token", api.url, pacer=Pacer(0)), WorkerSettings())
    api.fail_next("chat.postMessage", status=429, retry_after=2, times=outbox.MAX_ATTEMPTS + 2)
    draft_id = submit(example_db)
    moment = dt.datetime.now(dt.UTC)
    for _ in range(outbox.MAX_ATTEMPTS + 3):
        refused_at = dt.datetime.now(dt.UTC)
        worker.run_once(now=moment)
        with example_db.session(readonly=True) as s:
            item = s.query(OutboxItem).filter(OutboxItem.draft_id == draft_id).one()
            assert item.status in ("pending", "done") and item.attempts <= 1
            if item.status == "pending":
                assert as_utc(item.next_attempt_at) >= refused_at + dt.timedelta(seconds=2)
                moment = as_utc(item.next_attempt_at)
    assert [c.status for c in api.calls_to("chat.postMessage")].count(429) == outbox.MAX_ATTEMPTS + 2
    assert len(api.messages["C0APPROVALS"]) == 1 and len(draft(example_db, draft_id).messages) == 1


def test_a_channel_slack_refuses_fails_at_once_and_visibly(example_db, api, worker):
    draft_id = submit(example_db, destination="C0GONE")
    worker.run_once()
    api.fail_next("chat.postMessage", error="channel_not_found")
    with example_db.session() as s:
        decisions.decide(s, actor_for_holder(s, "bogdan"), draft_id, "approve")
    worker.run_once()
    worker.run_once()
    d = draft(example_db, draft_id)
    assert d.delivery == "failed" and "channel_not_found" in d.delivery_error
    api.take_rejections()


def test_an_update_claimed_with_its_decision_is_sent_by_the_decider_with_no_claim_or_confirm(example_db, api, worker):
    from sqlalchemy import event

    draft_id = submit(example_db)
    worker.run_once()  # the approval message
    with example_db.session() as s:
        decided = decisions.decide(s, actor_for_holder(s, "bogdan"), draft_id, "approve", claim_update=worker.lease)
    assert decided.update is not None and decided.update.fence == 1
    with example_db.session() as s:  # claimed for a whole lease: another worker does not take it
        assert all(c.id != decided.update.id for c in outbox.claim(s))
    writes: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        writes.append(statement.split()[0].upper())

    event.listen(example_db.engine, "before_cursor_execute", note)
    try:
        worker.perform(decided.update, time.monotonic())
    finally:
        event.remove(example_db.engine, "before_cursor_execute", note)
    assert len(api.calls_to("chat.update")) == 1
    assert writes.count("UPDATE") == 1  # its success, recorded once; no claim, no re-confirm


def test_an_update_claimed_with_its_decision_is_not_sent_by_its_decider_once_taken_over(example_db, api, worker):
    draft_id = submit(example_db)
    worker.run_once()
    with example_db.session() as s:
        decided = decisions.decide(s, actor_for_holder(s, "bogdan"), draft_id, "approve", claim_update=worker.lease)
    assert decided.update is not None
    with example_db.session() as s:  # the lease ran out: another worker owns it now (fence 2)
        taken = [c for c in outbox.claim(s, now=later(1)) if c.id == decided.update.id]
    assert taken and taken[0].fence == 2
    worker.perform(decided.update, time.monotonic() - worker.lease.total_seconds())  # its lease is long gone
    assert api.calls_to("chat.update") == []  # the stale claim re-confirmed, found it lost, and did not call
    with example_db.session() as s:
        assert not outbox.succeed(s, decided.update.id, decided.update.fence)
