"""Callback targets in `otp serve` with no allow-list: non-public destinations refused at
submission over the API and the CLI, a name that resolves to loopback refused at delivery
(the receiver gets nothing), and a malformed OTP_CALLBACK_ALLOW stopping `otp serve` at start."""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import Any

import pytest

from otp_bot.store.domain import outbox
from otp_bot.store.domain.actors import actor_for_holder
from otp_bot.store.domain.gate import drafts
from otp_bot.store.domain.gate.callback_targets import Allowlist
from otp_bot.store.models import Draft
from tests.support.agents import decide, problem, wait_until
from tests.support.serve import OTP, free_port

SECRET = "callback-secret-for-tests"
# No OTP_CALLBACK_ALLOW: the defaults, as an operator who set nothing gets them.
STRICT = {
    "OTP_POLL_SECONDS": "0.1",
    "OTP_SWEEP_SECONDS": "3600",
    "OTP_LEASE_SECONDS": "5",
    "SLACK_TIMEOUT_SECONDS": "3",
    "OTP_CALLBACK_TIMEOUT_SECONDS": "3",
    "OTP_RETRY_BACKOFF": "[0.2]",
    "OTP_CALLBACK_SECRET": SECRET,
    "OTP_CALLBACK_ALLOW": "",
}


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return STRICT


def draft_payload(destination: str) -> dict[str, Any]:
    return {
        "seat": "retention",
        "kind": "retention-outreach",
        "subject": "client:acme",
        "title": "Check in with Acme",
        "body": "Hi Jo, can we help?",
        "destination": destination,
    }


@pytest.mark.parametrize(
    ("destination", "words"),
    [
        (f"http://127.0.0.1:{free_port()}/hook", "callback target 127.0.0.1 is a loopback address"),
        ("http://10.0.0.1/", "callback target 10.0.0.1 is a private address"),
        ("http://[::1]/", "callback target ::1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data", "callback target 169.254.169.254 is a link-local address"),
        ("http://localhost/", "callback target localhost is 127.0.0.1, a loopback address"),
        ("http://127.1:8080/", "callback target 127.1 is 127.0.0.1, a loopback address"),
    ],
)
def test_a_non_public_destination_is_refused_at_submission_over_the_api(module_db, as_agent, destination, words):
    with module_db.session(readonly=True) as s:
        before = s.query(Draft).count()
    body = problem(as_agent("pulse").post("/drafts", json=draft_payload(destination)), 422)
    assert body["code"] == "invalid" and words in body["detail"] and "OTP_CALLBACK_ALLOW" in body["detail"]
    assert body["hint"] == "give a callback URL on a public address"
    with module_db.session(readonly=True) as s:
        assert s.query(Draft).count() == before  # nothing recorded


def test_a_public_name_is_accepted_at_submission_without_a_look_up(as_agent):
    r = as_agent("pulse").post("/drafts", json=draft_payload("https://hooks.example.invalid/in"))
    assert r.status_code == 201, r.text  # .invalid never resolves: names are judged at delivery


def test_a_name_that_resolves_to_loopback_is_refused_at_delivery(server, module_db, api, receiver):
    # Accepted where it was submitted (an allow-list that named it), refused where it is delivered:
    # the delivering process judges the name by what it resolves to now, by its own allow-list.
    with module_db.session() as s:
        draft_id = drafts.submit_draft(
            s,
            actor_for_holder(s, "pulse"),
            seat_id="retention",
            kind="retention-outreach",
            subject="client:acme",
            title="Check in",
            body="Hi Jo",
            destination=f"http://localhost:{receiver.port}/hook",
            callback_allow=Allowlist.parse("localhost"),
        ).draft.id
    message = wait_until(lambda: approval_post(api, draft_id), what="the approval post")
    decide(module_db, draft_id)
    wait_until(lambda: failed(module_db, draft_id), timeout=20, what="the delivery to fail")
    error = failed(module_db, draft_id)
    assert re.search(r"localhost resolves to \S+, a loopback address", error) and "OTP_CALLBACK_ALLOW" in error
    assert receiver.requests == []
    with module_db.session(readonly=True) as s:
        item = outbox.item_for_draft(s, draft_id)
        assert item.attempts == 1 and item.status == "failed"  # permanent: not retried
    wait_until(
        lambda: any(
            "loopback" in json.dumps(c.args.get("blocks"))
            for c in api.calls_to("chat.update")
            if c.ok and c.args["ts"] == message.response["ts"]
        ),
        what="the failure on the approval message",
    )


def approval_post(api, draft_id: int):
    for call in api.calls_to("chat.postMessage"):
        values = [
            e.get("value")
            for b in call.args.get("blocks") or []
            if b.get("type") == "actions"
            for e in b.get("elements", [])
        ]
        if call.ok and str(draft_id) in values:
            return call
    return None


def failed(db, draft_id: int) -> str | None:
    with db.session(readonly=True) as s:
        draft = s.get(Draft, draft_id)
        return draft.delivery_error if draft.delivery == "failed" else None


def test_the_cli_refuses_a_private_destination(module_db, tmp_path):
    body = tmp_path / "body.md"
    body.write_text("Hi Jo")
    env = {**os.environ, "OTP_DATABASE_URL": module_db.url, "OTP_CALLBACK_ALLOW": ""}
    done = subprocess.run(
        [
            OTP,
            "draft",
            "submit",
            "--seat",
            "retention",
            "--kind",
            "retention-outreach",
            "--subject",
            "client:acme",
            "--title",
            "Hi",
            "--body-file",
            str(body),
            "--destination",
            "http://192.168.0.10/hook",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "192.168.0.10 is a private address" in done.stderr, done.stderr
    allowed = subprocess.run(
        [
            OTP,
            "draft",
            "submit",
            "--seat",
            "retention",
            "--kind",
            "retention-outreach",
            "--subject",
            "client:acme",
            "--title",
            "Hi",
            "--body-file",
            str(body),
            "--destination",
            "http://192.168.0.10/hook",
        ],
        env={**env, "OTP_CALLBACK_ALLOW": "192.168.0.0/24"},
        capture_output=True,
        text=True,
    )
    assert allowed.returncode == 0, allowed.stderr


@pytest.mark.parametrize("value", ["10.0.0.0/33", "hooks internal", "http://hooks.internal"])
def test_a_malformed_allow_list_stops_otp_serve_at_start(module_db, api, value):
    env = {
        **os.environ,
        "OTP_DATABASE_URL": module_db.url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
        "SLACK_API_URL": api.url,
        "OTP_CALLBACK_ALLOW": f"127.0.0.1,{value}",
    }
    done = subprocess.run(
        [OTP, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "OTP_CALLBACK_ALLOW is malformed" in done.stderr and value in done.stderr
