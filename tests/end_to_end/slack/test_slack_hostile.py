"""Hostile requests to /slack/events of a real `otp serve`: oversized and endless bodies, forged
and malformed signatures, bodies cut short, replays of a genuinely signed request."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import time
import urllib.request

import pytest
from sqlalchemy import func, select

from otp_bot.store.db import Database
from otp_bot.store.models import AuditEntry, InboundEvent, MetricValue
from tests.support.serve import OTP, PULSE, SECRET, TOKEN, Server, free_port, head, raw_request
from tests.support.slack.signing import post, signed_headers, slash_command_body


@pytest.fixture(autouse=True)
def clean_api(api):
    api.reset()
    return


def count(db: Database, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


# ------------------------------------------------------------------ size


def test_a_declared_huge_body_is_refused_before_it_is_sent(server):
    # 100 MB declared, nothing sent: answered at once, not after waiting for (and holding) the body.
    status, took = raw_request(
        server.port, head(server.port, {"Content-Type": "application/json", "Content-Length": "100000000"})
    )
    assert status == 413 and took < 5


def test_a_chunked_body_is_cut_at_the_limit(server):
    # Chunked: no length up front. 2 MB of a body that would go on: refused once 1 MB was read.
    chunk = b"x" * 65536
    parts = [f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(32)]
    status, took = raw_request(
        server.port, head(server.port, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}), parts
    )
    assert status == 413 and took < 5


def test_a_body_shorter_than_its_content_length_leaves_no_traceback(server):
    body = slash_command_body("who-owns retention", user_id=PULSE)
    headers = {**signed_headers(SECRET, body), "Content-Length": str(len(body) + 500)}
    status, _ = raw_request(server.port, head(server.port, headers), [body.encode()], half_close=True)
    assert status in (0, 400)  # the client is gone; no answer is owed, and no crash is logged
    # (the module's server is checked for tracebacks when it stops)


def test_a_non_numeric_content_length_is_a_bad_request(server):
    status, _ = raw_request(server.port, head(server.port, {"Content-Length": "12abc"}))
    assert status == 400


# ------------------------------------------------------------------ malformed signatures


@pytest.mark.parametrize(
    "timestamp", ["abc", "", "NaN", "1e9", "1700000000.5", "-1", " 1700000000", "1_700_000_000", "9" * 40]
)
def test_a_malformed_timestamp_is_401_not_a_crash(server, module_db, timestamp):
    body = slash_command_body("kpi retention-saves 5", user_id=PULSE)
    headers = signed_headers(SECRET, body)
    headers["X-Slack-Request-Timestamp"] = timestamp
    before = count(module_db, MetricValue)
    status, _, text = server.send(body, headers)
    assert status == 401 and "Traceback" not in text
    assert count(module_db, MetricValue) == before


@pytest.mark.parametrize("signature", ["", "v0=", "v1=" + "0" * 64, "v0=" + "g" * 64, "v0=" + "0" * 640])
def test_a_malformed_signature_is_401(server, signature):
    body = slash_command_body("who-owns retention", user_id=PULSE)
    headers = {**signed_headers(SECRET, body), "X-Slack-Signature": signature}
    assert server.send(body, headers)[0] == 401


def test_a_body_that_is_not_utf8_is_401(server):
    body = b"payload=%7B%7D\xff\xfe"  # signed correctly, but Slack only ever sends UTF-8
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    status, _, _ = post(
        f"{server.url}/slack/events",
        body,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        },
    )
    assert status == 401


# ------------------------------------------------------------------ replays


def test_a_replayed_command_runs_once(server, module_db, api):
    body = slash_command_body("kpi retention-saves 6 replayed", user_id=PULSE, response_url=api.response_url())
    headers = signed_headers(SECRET, body)  # captured once, sent twice: the same signature
    values, audits = count(module_db, MetricValue), count(module_db, AuditEntry)
    first = server.send(body, headers)
    assert first[0] == 200 and "Recorded 6" in json.loads(first[2])["text"]
    again = server.send(body, headers)
    assert again[0] == 200 and "already handled" in json.loads(again[2])["text"]
    assert count(module_db, MetricValue) == values + 1
    assert count(module_db, AuditEntry) == audits + 1
    with module_db.session() as s:
        assert s.get(InboundEvent, "sig:" + headers["X-Slack-Signature"][3:63]) is not None


def test_the_same_command_signed_again_is_a_new_request(server, module_db, api):
    # Not a replay: Slack sends a fresh request (a new trigger id, a new signature) each time.
    values = count(module_db, MetricValue)
    for _ in range(2):
        _, payload = server.command("kpi retention-saves 3 twice", user=PULSE)
        assert "Recorded 3" in payload["text"]
    assert count(module_db, MetricValue) == values + 2


# ------------------------------------------------------------------ what is logged


def test_a_forged_request_is_one_bounded_log_line_without_its_body(module_db, api):
    srv = Server(module_db, api, env={"OTP_LOG_LEVEL": "INFO"})
    forged_line = "2026-01-01 00:00:00,000 CRITICAL otp_bot.slack: database wiped by admin"
    body = slash_command_body("kpi retention-saves 5\n" + forged_line + "\n" + "A" * 200_000, user_id=PULSE)
    headers = {**signed_headers(SECRET, body), "X-Slack-Signature": "v0=" + "0" * 64}
    try:
        assert srv.send(body, headers)[0] == 401
        bad_ts = {**signed_headers(SECRET, "x"), "X-Slack-Request-Timestamp": "FAKE" + "B" * 500}
        assert srv.send("x", bad_ts)[0] == 401
    finally:
        output = srv.stop()
    assert "CRITICAL" not in output and "AAAA" not in output and "retention-saves" not in output
    assert "B" * 100 not in output
    refusals = [line for line in output.splitlines() if "refused a request to /slack/events" in line]
    assert len(refusals) == 2, output[-3000:]
    assert all(len(line) < 400 for line in refusals)
    assert "does not match the body" in refusals[0] and "not a Unix time" in refusals[1]
    assert "Traceback" not in output


# ------------------------------------------------------------------ Slack unreachable at start


def test_serve_starts_degraded_when_slack_is_unreachable(module_db, api):
    closed = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    srv = Server(module_db, api, env={"SLACK_API_URL": closed})  # returns once /healthz answers 200
    try:
        with urllib.request.urlopen(f"{srv.url}/healthz", timeout=5) as r:
            assert json.loads(r.read())["status"] == "ok"
        status, _, _ = post(f"{srv.url}/api/v1/drafts", "{}", {"Content-Type": "application/json"})
        assert status == 401  # the agent API is up: it asks for a token
    finally:
        output = srv.stop()
    assert "Traceback" not in output, output
    said = [line for line in output.splitlines() if "Slack could not be reached" in line]
    assert len(said) == 1 and closed in said[0] and "retrying Slack in the background" in said[0]


def test_serve_says_when_slack_is_back_and_then_answers_slack(module_db, api):
    api.fail_next("auth.test", status=503)  # the probe at start fails; the watch's next one succeeds
    srv = Server(module_db, api)
    try:
        deadline = time.monotonic() + 15
        while len(api.calls_to("auth.test")) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        _, payload = srv.command("who-owns retention")
        assert "Client Retention" in payload["text"]
    finally:
        output = srv.stop()
    assert "Slack could not be reached" in output and "Slack is reachable again" in output
    assert "Traceback" not in output


def test_socket_mode_without_slack_is_one_line_exit_2(module_db):
    env = {
        **os.environ,
        "OTP_DATABASE_URL": module_db.url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_APP_TOKEN": "xapp-1-A0OTP-1-" + "a" * 64,
        "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",
        "OTP_LOG_LEVEL": "WARNING",
    }
    result = subprocess.run([OTP, "run"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Slack could not be reached" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
