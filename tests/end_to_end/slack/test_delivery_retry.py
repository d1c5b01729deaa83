"""Retrying a delivery that used up its attempts: the **Retry delivery** button (signed
clicks to a real `otp serve`), for the accountable human only, and `otp outbox list/retry`
for operators. A retry still delivers once."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from otp_bot.store.domain import outbox
from otp_bot.store.models import AuditEntry
from tests.support.approvals import DAVID, all_actions, click, draft_row, ephemeral, posted, submit, updates, wait_until
from tests.support.deliveries import deliveries
from tests.support.serve import BOGDAN, OTP, STRANGER, Server

FAST = {
    "OTP_POLL_SECONDS": "0.1",
    "OTP_SWEEP_SECONDS": "3600",
    "OTP_LEASE_SECONDS": "5",
    "SLACK_TIMEOUT_SECONDS": "3",
    "OTP_CALLBACK_TIMEOUT_SECONDS": "3",
    "OTP_RETRY_BACKOFF": "[0.2]",
}
RETRY = "otp_draft_retry_delivery"


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return FAST


def failed_delivery(server: Server, db, api, channel: str):
    """A draft approved by Bogdan whose delivery Slack refused: failed for good."""
    draft_id = submit(db, destination=channel)
    message = posted(api, draft_id)
    api.fail_next("chat.postMessage", error="channel_not_found")
    click(server, BOGDAN, "otp_draft_approve", draft_id, message)
    wait_until(lambda: draft_row(db, draft_id).delivery == "failed", what="the delivery to fail")
    return draft_id, message


def test_only_the_accountable_human_can_retry_a_failed_delivery_and_it_delivers_once(server, module_db, api):
    draft_id, message = failed_delivery(server, module_db, api, "C0RETRYBUTTON")
    shown = wait_until(
        lambda: [u for u in updates(api, message) if RETRY in all_actions(u.args["blocks"])],
        what="the Retry delivery button",
    )[-1]
    assert "Delivery failed" in json.dumps(shown.args["blocks"])

    for stranger in (DAVID, STRANGER):  # the CEO is not accountable for Pulse; a stranger is nobody here
        api.reset(keep_messages=True)
        click(server, stranger, RETRY, draft_id, message)
        assert "only Bogdan" in ephemeral(api) and draft_row(module_db, draft_id).delivery == "failed"

    api.reset(keep_messages=True)
    click(server, BOGDAN, RETRY, draft_id, message)  # Pulse's supervisor: accountable for what it drafts
    assert "Retrying the delivery" in ephemeral(api)
    wait_until(lambda: draft_row(module_db, draft_id).delivery == "delivered", what="the retried delivery")
    said = [
        json.dumps(u.args["blocks"])
        for u in wait_until(
            lambda: [u for u in updates(api, message) if "Delivered" in json.dumps(u.args["blocks"])], what="delivered"
        )
    ]
    retrying = [json.dumps(u.args["blocks"]) for u in updates(api, message)]
    assert any("Retrying delivery" in b for b in retrying) and RETRY not in said[-1]
    assert deliveries(api, "C0RETRYBUTTON") == {f"draft:{draft_id}:deliver": 1}
    with module_db.session(readonly=True) as s:
        entry = s.query(AuditEntry).filter(AuditEntry.action == "draft.delivery.retry").one()
        assert entry.actor.endswith("bogdan") and entry.subject == f"draft:{draft_id}"


def otp(db, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OTP_DATABASE_URL": db.url}
    return subprocess.run([OTP, *args], env=env, capture_output=True, text=True, timeout=60)


def test_operators_list_failed_items_and_retry_them(server, module_db, api):
    draft_id, _ = failed_delivery(server, module_db, api, "C0RETRYCLI")
    with module_db.session(readonly=True) as s:
        item = outbox.item_for_draft(s, draft_id)
    listed = otp(module_db, "outbox", "list", "--failed")
    assert listed.returncode == 0
    line = next(row for row in listed.stdout.splitlines() if row.startswith(f"{item.id}\t"))
    assert "deliver\tfailed" in line and f"draft #{draft_id}" in line and "channel_not_found" in line

    done = otp(module_db, "outbox", "retry", str(item.id))
    assert done.returncode == 0 and "queued again" in done.stdout, done.stderr
    wait_until(lambda: draft_row(module_db, draft_id).delivery == "delivered", what="the retried delivery")
    assert deliveries(api, "C0RETRYCLI") == {f"draft:{draft_id}:deliver": 1}

    again = otp(module_db, "outbox", "retry", str(item.id))  # done now: nothing to retry
    assert again.returncode == 2 and "not failed" in again.stderr
    missing = otp(module_db, "outbox", "retry", "999999")
    assert missing.returncode == 2 and "no outbox item 999999" in missing.stderr
    assert str(item.id) not in [
        r.split("\t")[0] for r in otp(module_db, "outbox", "list", "--failed").stdout.splitlines()
    ]
