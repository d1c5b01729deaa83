"""Decision webhooks end to end: an agent sets its token's webhook over the HTTP API, a person
decides its draft in Slack (signed clicks against `otp serve`), or the agent withdraws it, or
nobody decides in time; a local receiver gets exactly one signed POST per decision. A receiver
that fails gets it again under the same key until it answers; a private URL is refused; a
revoked token and another agent's token receive nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents.tokens import create_token, digest, revoke_token
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.models import ApiToken, AuditEntry, Draft
from tests.support.agents import draft_payload, problem, unique
from tests.support.approvals import FAST, click, draft_row, posted, wait_until
from tests.support.receivers import Callbacks
from tests.support.serve import BOGDAN
from tests.support.slack.signing import view_submission_body


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {**FAST, "OTP_SWEEP_SECONDS": "0.3"}  # expiry is the worker's sweep: let it look often


@pytest.fixture
def others() -> Iterator[Callbacks]:
    """Another agent's receiver."""
    c = Callbacks()
    yield c
    c.close()


def token_id(db, secret: str) -> int:
    with db.session(readonly=True) as s:
        return s.scalars(select(ApiToken.id).where(ApiToken.hash == digest(secret))).one()


def set_hook(agent, url: str) -> str:
    r = agent.put("/tokens/me/webhook", json={"url": url})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["url"] == url and "approved" in body["events"] and body["secret"].startswith("whsec_")
    return body["secret"]


def verified(request: dict[str, Any], secret: str) -> dict[str, Any]:
    """The body of a webhook POST, once its signature checks out as a receiver checks it."""
    headers = request["headers"]
    timestamp, signature = headers["x-otp-request-timestamp"], headers["x-otp-signature"]
    assert abs(time.time() - int(timestamp)) < 300  # a receiver refuses stale timestamps (replays)
    base = b"v0:" + timestamp.encode() + b":" + request["body"]
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert headers["content-type"] == "application/json"
    return json.loads(request["body"])


def exactly_one(receiver: Callbacks, what: str) -> dict[str, Any]:
    wait_until(lambda: receiver.requests, what=what)
    time.sleep(0.5)  # anything doubled would have come by now: the worker polls every 0.1 s
    assert len(receiver.requests) == 1, receiver.keys()
    return receiver.requests[0]


def submitted(agent, api, **fields) -> tuple[int, Any]:
    r = agent.post("/drafts", json=draft_payload(key=unique(), **fields))
    assert r.status_code == 201, r.text
    draft_id = r.json()["id"]
    return draft_id, posted(api, draft_id)


# ------------------------------------------------------------------ each decision, once, signed


def test_an_approval_clicked_in_slack_reaches_the_agents_webhook_once_signed(
    server, module_db, api, tokens, as_agent, callbacks, others
):
    pulse, dirk = as_agent("pulse"), as_agent("dirk")
    secret = set_hook(pulse, callbacks.url)
    set_hook(dirk, others.url)  # another agent's webhook hears nothing of Pulse's drafts
    shown = pulse.get("/tokens/me/webhook").json()
    assert shown["url"] == callbacks.url and "secret" not in shown and secret not in json.dumps(shown)
    assert shown["set_at"].endswith("Z")  # in UTC, as the answer to setting it says, on every backend

    draft_id, message = submitted(pulse, api, destination="C0CLIENTACME")
    click(server, BOGDAN, "otp_draft_approve", draft_id, message)
    request = exactly_one(callbacks, "the approval at the webhook")
    body = verified(request, secret)
    assert (
        request["headers"]["idempotency-key"]
        == f"draft:{draft_id}:webhook:approved:{token_id(module_db, tokens.pulse)}"
    )
    assert body["event"] == "approved" and body["status"] == "approved" and body["draft_id"] == draft_id
    assert body["final_text"] == "Hi Jo,\nwe noticed fewer logins this month. Can we help?"
    assert body["decided_by"] == {"id": "bogdan", "name": "Bogdan"} and body["reason"] is None
    assert (body["seat"], body["kind"], body["subject"]) == ("retention", "retention-outreach", "client:acme")
    assert body["outcome"].startswith("approved by Bogdan at ")
    decided = as_utc(draft_row(module_db, draft_id).decided_at)
    assert dt.datetime.fromisoformat(body["at"]) == decided
    assert others.requests == []


def test_a_rejection_reaches_it_with_the_reason(server, module_db, api, as_agent, callbacks):
    pulse = as_agent("pulse")
    secret = set_hook(pulse, callbacks.url)
    draft_id, message = submitted(pulse, api)
    click(server, BOGDAN, "otp_draft_reject", draft_id, message)
    modal = wait_until(lambda: api.calls_to("views.open"), what="the reject modal")[-1].args["view"]
    server.send(
        view_submission_body(
            BOGDAN,
            modal["callback_id"],
            {"reason": {"reason": "Ask about their goals first."}},
            modal["private_metadata"],
        )
    )
    body = verified(exactly_one(callbacks, "the rejection at the webhook"), secret)
    assert (body["event"], body["status"], body["reason"], body["final_text"]) == (
        "rejected",
        "rejected",
        "Ask about their goals first.",
        None,
    )
    assert body["outcome"].endswith(": Ask about their goals first.")


def test_a_withdrawal_by_the_agent_reaches_it(server, module_db, api, as_agent, callbacks):
    pulse = as_agent("pulse")
    secret = set_hook(pulse, callbacks.url)
    draft_id, _ = submitted(pulse, api)
    assert pulse.post(f"/drafts/{draft_id}/withdraw").status_code == 200
    body = verified(exactly_one(callbacks, "the withdrawal at the webhook"), secret)
    assert body["event"] == "withdrawn" and body["decided_by"] == {"id": "pulse", "name": "Pulse"}


def test_an_expiry_reaches_it(server, module_db, api, as_agent, callbacks):
    pulse = as_agent("pulse")
    secret = set_hook(pulse, callbacks.url)
    draft_id, _ = submitted(pulse, api)
    with module_db.session() as s:  # nobody decided in time: the worker's sweep expires it
        s.execute(update(Draft).where(Draft.id == draft_id).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    body = verified(exactly_one(callbacks, "the expiry at the webhook"), secret)
    assert body["event"] == "expired" and body["decided_by"] is None
    assert body["outcome"].endswith("nobody decided it in time")


# ------------------------------------------------------------------ failures, refusals, revocation


def test_a_receiver_that_fails_gets_it_again_under_the_same_key_until_it_answers(
    server, module_db, api, as_agent, callbacks
):
    pulse = as_agent("pulse")
    secret = set_hook(pulse, callbacks.url)
    callbacks.answers = [503, 500]
    draft_id, message = submitted(pulse, api)
    click(server, BOGDAN, "otp_draft_approve", draft_id, message)
    wait_until(lambda: len(callbacks.requests) == 3, what="two failures, then the answer")
    time.sleep(0.5)
    assert len(callbacks.requests) == 3 and len(set(callbacks.keys())) == 1  # one event, however often tried
    assert all(verified(r, secret)["event"] == "approved" for r in callbacks.requests)


def test_a_private_url_is_refused_and_nothing_changes(server, module_db, as_agent, callbacks):
    pulse = as_agent("pulse")
    set_hook(pulse, callbacks.url)
    for url, words in (
        ("http://10.0.0.5/hook", "10.0.0.5 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]:8080/hook", "loopback"),
        ("https://user:pw@hooks.example.com/", "user name or password"),
    ):
        body = problem(pulse.put("/tokens/me/webhook", json={"url": url}), 422)
        assert words in body["detail"], body
    assert (
        "OTP_CALLBACK_ALLOW"
        in problem(pulse.put("/tokens/me/webhook", json={"url": "http://10.1.1.1/"}), 422)["detail"]
    )
    problem(pulse.put("/tokens/me/webhook", json={"url": callbacks.url, "secret": "mine"}), 422)  # no such field
    assert pulse.get("/tokens/me/webhook").json()["url"] == callbacks.url  # nothing stored
    cleared = pulse.delete("/tokens/me/webhook")
    assert cleared.status_code == 200 and cleared.json()["url"] is None
    assert pulse.get("/tokens/me/webhook").json() == {"url": None, "set_at": None, "events": cleared.json()["events"]}
    problem(as_agent("admin").put("/tokens/me/webhook", json={"url": callbacks.url}), 422)  # no drafts, no decisions
    problem(as_agent(None).get("/tokens/me/webhook"), 401)


def test_a_revoked_token_receives_nothing(server, module_db, api, as_agent, callbacks, others):
    with module_db.session() as s:
        spare = create_token(s, Actor.cli_operator("tests"), holder_id="pulse", name="spare")
        spare_id, spare_secret = spare.token.id, spare.secret
    old = as_agent(None)
    old.http.headers["Authorization"] = f"Bearer {spare_secret}"
    set_hook(old, others.url)
    secret = set_hook(as_agent("pulse"), callbacks.url)
    with module_db.session() as s:
        revoke_token(s, Actor.cli_operator("tests"), str(spare_id))
    problem(old.put("/tokens/me/webhook", json={"url": others.url}), 401)

    draft_id, message = submitted(as_agent("pulse"), api)
    click(server, BOGDAN, "otp_draft_approve", draft_id, message)
    verified(exactly_one(callbacks, "the approval at the live token's webhook"), secret)
    assert others.requests == []


def test_a_webhook_that_stays_down_fails_on_the_record(server, module_db, api, as_agent, callbacks):
    pulse = as_agent("pulse")
    set_hook(pulse, callbacks.url)
    callbacks.answers = [503] * 10
    draft_id, message = submitted(pulse, api)
    click(server, BOGDAN, "otp_draft_approve", draft_id, message)

    def failed() -> list:
        with module_db.session(readonly=True) as s:
            entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "token.webhook.failed")).all()
            return [e for e in entries if e.detail.get("draft") == draft_id]

    [entry] = wait_until(failed, timeout=20, what="the failure on the record")
    assert "HTTP 503" in entry.detail["error"] and len(callbacks.requests) == 6  # every attempt, then it stops
    assert len(set(callbacks.keys())) == 1
    assert draft_row(module_db, draft_id).status == "approved"  # the decision stands
    pulse.delete("/tokens/me/webhook")
