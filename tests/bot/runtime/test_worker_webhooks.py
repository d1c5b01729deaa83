"""The outbox worker sending decision webhooks: what changed between the decision and the send
counts (a token revoked, a webhook cleared, a secret set anew, an address no longer allowed)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from otp_bot.bot.runtime.worker import OutboxWorker
from otp_bot.bot.slack.client import make_client
from otp_bot.bot.slack.settings import WorkerSettings
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents import webhooks
from otp_bot.store.domain.agents.tokens import create_token, revoke_token
from otp_bot.store.domain.gate import delivery as draft_delivery
from otp_bot.store.domain.gate.callback_targets import Allowlist
from otp_bot.store.models import AuditEntry, OutboxItem
from tests.support.drafts import BOGDAN, OPERATOR, decide, submit
from tests.support.receivers import Callbacks

LOOPBACK = "127.0.0.1"


@pytest.fixture
def receiver() -> Iterator[Callbacks]:
    c = Callbacks()
    yield c
    c.close()


def worker(db, api, allow: str = LOOPBACK) -> OutboxWorker:
    return OutboxWorker(
        db, make_client("xoxb-test-token", api.url), WorkerSettings(retry_backoff=[0.0], callback_allow=allow)
    )


def hooked(db, url: str) -> tuple[int, str]:
    """A token of Pulse's with its webhook at `url` (loopback: allowed when set)."""
    with db.session() as s:
        token = create_token(s, OPERATOR, holder_id="pulse").token
        done = webhooks.set_webhook(s, OPERATOR, token.id, url, allow=Allowlist.parse(LOOPBACK))
        return token.id, done.secret


def approved(db) -> int:
    draft_id = submit(db)
    decide(db, BOGDAN, draft_id)
    return draft_id


def item(db, draft_id: int) -> OutboxItem:
    with db.session(readonly=True) as s:
        return s.scalars(select(OutboxItem).where(OutboxItem.draft_id == draft_id, OutboxItem.kind == "webhook")).one()


def test_a_token_revoked_after_the_decision_hears_nothing(example_db, api, receiver):
    token_id, _ = hooked(example_db, receiver.url)
    draft_id = approved(example_db)
    with example_db.session() as s:
        revoke_token(s, Actor.cli_operator("t"), str(token_id))
    worker(example_db, api).run_once()
    done = item(example_db, draft_id)
    assert done.status == "done" and "revoked" in done.result["skipped"] and receiver.requests == []


def test_a_webhook_cleared_after_the_decision_sends_nothing(example_db, api, receiver):
    token_id, _ = hooked(example_db, receiver.url)
    draft_id = approved(example_db)
    with example_db.session() as s:
        webhooks.clear_webhook(s, OPERATOR, token_id)
    worker(example_db, api).run_once()
    assert "no webhook" in item(example_db, draft_id).result["skipped"] and receiver.requests == []


def test_a_secret_set_anew_signs_what_is_still_queued(example_db, api, receiver):
    token_id, old = hooked(example_db, receiver.url)
    draft_id = approved(example_db)
    with example_db.session() as s:
        new = webhooks.set_webhook(s, OPERATOR, token_id, receiver.url, allow=Allowlist.parse(LOOPBACK)).secret
    worker(example_db, api).run_once()
    [request] = receiver.requests
    ts, body = request["headers"]["x-otp-request-timestamp"], request["body"]
    signed = {
        s: "v0=" + hmac.new(s.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest() for s in (old, new)
    }
    assert request["headers"]["x-otp-signature"] == signed[new] != signed[old]
    assert item(example_db, draft_id).status == "done"


def test_an_address_no_longer_allowed_when_sent_is_refused_at_once(example_db, api, receiver):
    token_id, secret = hooked(example_db, receiver.url)
    draft_id = approved(example_db)
    worker(example_db, api, allow="").run_once()  # the operator took loopback off OTP_CALLBACK_ALLOW
    failed = item(example_db, draft_id)
    assert failed.status == "failed" and failed.attempts == 1 and "loopback" in failed.last_error
    assert receiver.requests == []
    with example_db.session(readonly=True) as s:
        [entry] = s.scalars(select(AuditEntry).where(AuditEntry.action == "token.webhook.failed")).all()
    assert entry.subject == f"token:{token_id}" and entry.detail["draft"] == draft_id
    assert secret not in (failed.last_error or "") and secret not in str(failed.payload)


def test_a_failed_webhook_is_sent_once_an_operator_retries_it(example_db, api, receiver):
    _, secret = hooked(example_db, receiver.url)
    draft_id = approved(example_db)
    worker(example_db, api, allow="").run_once()
    assert item(example_db, draft_id).status == "failed"
    with example_db.session() as s:
        draft_delivery.retry_item(s, OPERATOR, item(example_db, draft_id).id)
    worker(example_db, api).run_once()  # loopback allowed again
    assert item(example_db, draft_id).status == "done"
    [request] = receiver.requests
    assert request["headers"]["idempotency-key"] == item(example_db, draft_id).key
    assert json.loads(request["body"])["event"] == "approved" and secret not in request["body"].decode()
