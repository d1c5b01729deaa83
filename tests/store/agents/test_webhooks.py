"""A token's webhook in the store: who may set it, the URLs refused (nothing stored), and the
decisions queued for it: one item per event and live token of the drafting agent, never a
secret in the outbox or the audit log."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import pytest
import yaml
from sqlalchemy import select

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents import webhooks
from otp_bot.store.domain.agents.tokens import create_token, revoke_token
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid, NotFound
from otp_bot.store.domain.gate import decisions
from otp_bot.store.domain.gate import timers as draft_timers
from otp_bot.store.domain.gate.callback_targets import Allowlist, TargetRefused
from otp_bot.store.models import ApiToken, AuditEntry, Draft, OutboxItem
from tests.support.drafts import BOGDAN, OPERATOR, PULSE, decide, submit

URL = "https://agents.example.com/otp/decisions?k=abc"


def token(db, holder: str | None = "pulse", **kw) -> int:
    with db.session() as s:
        return create_token(s, OPERATOR, holder_id=holder, admin=holder is None, **kw).token.id


def through(token_id: int, holder: str | None = "pulse") -> Actor:
    """The actor a request with this token stands for."""
    return Actor(label="agent", holder_id=holder, operator=holder is None, token_id=token_id)


def hook(db, token_id: int, url: str = URL, actor: Actor | None = None, **kw) -> str:
    with db.session() as s:
        return webhooks.set_webhook(s, actor or through(token_id), token_id, url, **kw).secret


def row(db, token_id: int) -> ApiToken:
    with db.session(readonly=True) as s:
        return s.get_one(ApiToken, token_id)


def queued(db, draft_id: int) -> list[OutboxItem]:
    with db.session(readonly=True) as s:
        return list(
            s.scalars(
                select(OutboxItem)
                .where(OutboxItem.draft_id == draft_id, OutboxItem.kind == "webhook")
                .order_by(OutboxItem.id)
            )
        )


# ------------------------------------------------------------------ setting it


def test_a_token_sets_its_own_webhook_and_gets_a_secret_once(example_db):
    mine = token(example_db)
    secret = hook(example_db, mine)
    assert secret.startswith("whsec_") and len(secret) > 40
    stored = row(example_db, mine)
    assert stored.webhook_url == URL and stored.webhook_secret == secret and stored.webhook_set_at is not None
    again = hook(example_db, mine)  # setting it again rotates the secret
    assert again != secret and row(example_db, mine).webhook_secret == again
    with example_db.session(readonly=True) as s:
        logged = json.dumps([e.detail for e in s.scalars(select(AuditEntry))])
    assert secret not in logged and again not in logged and "k=abc" not in logged  # nor the URL's query
    assert "https://agents.example.com/otp/decisions" in logged


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://10.0.0.5/hook", "10.0.0.5 is a private address"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://127.1:8080/hook", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://[::ffff:192.168.1.1]/hook", "private"),
        ("https://user:pw@hooks.example.com/", "user name or password"),
        ("ftp://hooks.example.com/", "https:// or http://"),
        ("https://hooks.example.com/a b", "one word"),
        ("https://hooks.example.com/" + "a" * 500, "at most 500"),
        ("   ", "give the webhook's URL"),
    ],
)
def test_a_url_the_callback_rule_refuses_changes_nothing(example_db, url, words):
    mine = token(example_db)
    before = hook(example_db, mine)
    with pytest.raises(Invalid, match=words):
        hook(example_db, mine, url)
    assert row(example_db, mine).webhook_url == URL and row(example_db, mine).webhook_secret == before


def test_a_private_address_an_operator_allowed_is_accepted(example_db):
    mine = token(example_db)
    with pytest.raises(TargetRefused, match="OTP_CALLBACK_ALLOW"):
        hook(example_db, mine, "http://10.20.0.7/hook")
    assert row(example_db, mine).webhook_url is None  # nothing stored
    hook(example_db, mine, "http://10.20.0.7/hook", allow=Allowlist.parse("10.20.0.0/16"))
    assert row(example_db, mine).webhook_url == "http://10.20.0.7/hook"


def test_only_the_token_itself_or_an_operator_sets_it(example_db):
    mine, other = token(example_db), token(example_db, "dirk")
    with pytest.raises(Forbidden, match="only its own webhook"):
        hook(example_db, mine, actor=through(other, "dirk"))
    with pytest.raises(Forbidden, match="only an operator or the token itself"):
        hook(example_db, mine, actor=PULSE)  # a person in Slack, not the token
    hook(example_db, mine, actor=OPERATOR)
    with example_db.session() as s, pytest.raises(Forbidden):
        webhooks.clear_webhook(s, through(other, "dirk"), mine)
    assert row(example_db, mine).webhook_url == URL
    with pytest.raises(NotFound, match="no token `999999`"):
        hook(example_db, 999999, actor=OPERATOR)


def test_an_admin_token_or_a_revoked_one_has_no_webhook(example_db):
    admin = token(example_db, None, name="ops")
    with pytest.raises(Invalid, match="admin token"):
        hook(example_db, admin, actor=through(admin, None))
    gone = token(example_db)
    with example_db.session() as s:
        revoke_token(s, OPERATOR, str(gone))
    with pytest.raises(Conflict, match="revoked"):
        hook(example_db, gone, actor=OPERATOR)
    assert row(example_db, admin).webhook_url is None and row(example_db, gone).webhook_url is None


def test_clearing_removes_url_and_secret(example_db):
    mine = token(example_db)
    hook(example_db, mine)
    with example_db.session() as s:
        webhooks.clear_webhook(s, through(mine), mine)
    stored = row(example_db, mine)
    assert (stored.webhook_url, stored.webhook_secret, stored.webhook_set_at) == (None, None, None)


# ------------------------------------------------------------------ decisions queued


def test_an_approval_is_queued_once_for_each_live_token_of_the_drafting_agent(example_db):
    pulse, pulse_too, quiet, gone = (token(example_db) for _ in range(4))
    dirk = token(example_db, "dirk")
    secrets_ = [hook(example_db, t) for t in (pulse, pulse_too, gone, dirk)]
    with example_db.session() as s:
        revoke_token(s, OPERATOR, str(gone))
    draft_id = submit(example_db, destination="C0CLIENTS")
    decide(example_db, BOGDAN, draft_id)
    items = queued(example_db, draft_id)
    assert [i.key for i in items] == [
        f"draft:{draft_id}:webhook:approved:{pulse}",
        f"draft:{draft_id}:webhook:approved:{pulse_too}",
    ]  # not the token without a webhook (quiet), the revoked one, nor another agent's
    body = items[0].payload["body"]
    assert body["event"] == "approved" and body["status"] == "approved" and body["draft_id"] == draft_id
    assert body["final_text"] == "Hi Acme, how are the new ads doing?" and body["reason"] is None
    assert body["decided_by"] == {"id": "bogdan", "name": "Bogdan"} and body["outcome"].startswith("approved by Bogdan")
    assert (body["seat"], body["kind"], body["subject"]) == ("retention", "retention-outreach", "client:acme")
    assert body["at"].endswith("Z")
    assert not any(s in json.dumps([i.payload for i in items]) for s in secrets_)
    assert quiet  # a live token of the agent, without a webhook: nothing for it
    with example_db.session() as s:  # the same event queued again (a retried decision) is the same item
        assert webhooks.queue_decision(s, s.get_one(Draft, draft_id), "approved", utcnow())
    assert len(queued(example_db, draft_id)) == 2


def test_rejection_withdrawal_and_expiry_are_queued_with_their_event(example_db):
    mine = token(example_db)
    hook(example_db, mine)
    rejected = submit(example_db)
    decide(example_db, BOGDAN, rejected, "reject", reason="Too pushy; ask about their goals first.")
    body = queued(example_db, rejected)[0].payload["body"]
    assert (body["event"], body["reason"], body["final_text"]) == (
        "rejected",
        "Too pushy; ask about their goals first.",
        None,
    )
    withdrawn = submit(example_db, subject="client:initech")
    with example_db.session() as s:
        decisions.withdraw(s, through(mine), withdrawn)
    body = queued(example_db, withdrawn)[0].payload["body"]
    assert body["event"] == "withdrawn" and body["decided_by"] == {"id": "pulse", "name": "Pulse"}
    expired = submit(example_db, subject="client:globex")
    with example_db.session() as s:
        draft_timers.sweep_drafts(s, utcnow() + dt.timedelta(days=2))
    body = queued(example_db, expired)[0].payload["body"]
    assert body["event"] == "expired" and body["outcome"].endswith("nobody decided it in time")


def test_a_draft_the_chart_withdraws_is_queued_with_the_reason(example_db):
    mine = token(example_db)
    hook(example_db, mine)
    draft_id = submit(example_db)
    chart = yaml.safe_load((resources.files("otp_bot.examples") / "acme-agency.yaml").read_text(encoding="utf-8"))
    retention = next(seat for seat in chart["seats"] if seat["id"] == "retention")
    retention.pop("holder")
    retention["status"] = "retired"
    with example_db.session() as s:
        apply_chart(s, validate_chart(chart, "t"), actor="operator:test", source="t")
    [item] = queued(example_db, draft_id)
    assert item.payload["body"]["event"] == "withdrawn" and "retired" in item.payload["body"]["reason"]


def test_an_unknown_event_is_a_programming_error(example_db):
    draft_id = submit(example_db)
    with example_db.session() as s, pytest.raises(ValueError, match="not a webhook event"):
        webhooks.queue_decision(s, s.get_one(Draft, draft_id), "approve", utcnow())
