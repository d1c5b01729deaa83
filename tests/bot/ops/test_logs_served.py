"""The log of a real `otp serve`: JSON lines with OTP_LOG_FORMAT=json (each naming its request,
surface, command and draft), plain text by default, and never a request body or a secret."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid

import httpx

from tests.support.approvals import settled, submit, wait_until
from tests.support.metrics import get
from tests.support.serve import BOGDAN, OTP, SECRET, TOKEN, Server, free_port
from tests.support.slack.signing import signed_headers, slash_command_body

MARKER = "body-marker-5c2e"  # put in every body sent; it must never reach the log
FAST = {"OTP_POLL_SECONDS": "0.1", "OTP_SWEEP_SECONDS": "3600", "OTP_RETRY_BACKOFF": "[0.2, 0.2, 0.2]"}


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def test_json_lines_name_the_request_and_never_hold_a_body_or_a_secret(module_db, api, tokens):
    stranger = f"U0{uuid.uuid4().hex[:9].upper()}"  # Slack is asked who they are, after the ack
    server = Server(
        module_db,
        api,
        env={**FAST, "OTP_LOG_FORMAT": "json", "OTP_LOG_LEVEL": "DEBUG", "OTP_SCHEDULER_ENABLED": "false"},
    )
    try:
        command = slash_command_body(f"who-owns retention {MARKER}", user_id=BOGDAN, response_url=api.response_url())
        status, headers, _ = server.send(command)
        assert status == 200
        request_id = lower(headers)["x-request-id"]

        status, _, _ = server.send(slash_command_body(f"who-owns {MARKER}", user_id=stranger))
        assert status == 200

        forged = slash_command_body(f"who-owns {MARKER}")
        status, headers, _ = server.send(
            forged, {**signed_headers("another-apps-secret-0000", forged), "X-Request-ID": "proxy-7.abc"}
        )
        assert status == 401 and lower(headers)["x-request-id"] == "proxy-7.abc"

        refused = httpx.post(
            f"{server.url}/api/v1/drafts",
            headers={"Authorization": f"Bearer {tokens.pulse}", "X-Request-ID": "bad id; forged=1"},
            json={"seat": "retention", "title": MARKER},
        )
        assert refused.status_code == 422
        assert re.fullmatch(r"[0-9a-f]{16}", refused.headers["x-request-id"])  # a new one: that one could not be logged

        api.outage("chat.postMessage", calls=1, kind=429)  # the approval post fails once, then lands
        draft_id = submit(module_db, title="Logs: rate limited", body=f"Hi Jo, {MARKER}")
        wait_until(lambda: settled(module_db) and api.calls_to("chat.postMessage"), timeout=30, what="the post")
    finally:
        output = server.stop()

    entries = [json.loads(line) for line in output.splitlines() if line.strip()]  # every line parses
    assert entries and all({"time", "level", "logger", "message"} <= e.keys() for e in entries)

    (answered,) = [e for e in entries if e.get("request_id") == request_id and e["logger"] == "otp_bot.requests"]
    assert answered["message"].startswith("POST /slack/events 200")
    assert (answered["surface"], answered["command"]) == ("slack_command", "who-owns")
    assert isinstance(answered["duration_ms"], float) and answered["duration_ms"] > 0

    # A line written on the work pool after the ack still names its request and command.
    (looked_up,) = [e for e in entries if f"users.info for {stranger}" in e["message"]]
    assert looked_up["request_id"] != request_id and looked_up["command"] == "who-owns"

    at_the_door = [e for e in entries if e.get("request_id") == "proxy-7.abc"]
    assert {e["logger"] for e in at_the_door} == {"otp_bot.slack.ingress", "otp_bot.requests"}
    assert all(e["surface"] == "slack" for e in at_the_door)

    (api_line,) = [e for e in entries if e.get("surface") == "api" and e["logger"] == "otp_bot.requests"]
    assert api_line["message"].startswith("POST /api/v1/drafts 422") and api_line["command"] == "POST /drafts"

    (failed,) = [e for e in entries if e.get("draft_id") == draft_id and e["level"] == "WARNING"]
    assert failed["surface"] == "outbox" and "attempt 1: Slack asked to wait" in failed["message"]

    for secret in (MARKER, SECRET, TOKEN, tokens.pulse, "forged=1"):
        assert secret not in output


def test_text_is_the_default_and_metrics_are_open_without_a_token(module_db, api):
    server = Server(module_db, api, env={"OTP_LOG_LEVEL": "INFO", "OTP_SCHEDULER_ENABLED": "false"})
    try:
        assert server.command("who-owns retention")[0] == 200
        status, _, body = get(server)
        assert status == 200 and "otp_requests_total" in body
    finally:
        output = server.stop()
    lines = [line for line in output.splitlines() if line.strip()]
    assert not any(line.startswith("{") for line in lines)
    assert any(
        re.match(r"\d{4}-\d\d-\d\d [\d:,]+ INFO otp_bot.requests: POST /slack/events 200 in \d+ ms$", line)
        for line in lines
    )
    assert any("/metrics open: no OTP_METRICS_TOKEN" in line for line in lines)


def test_an_unknown_log_format_or_level_stops_serve_naming_it(module_db):
    for variable, value in (("OTP_LOG_FORMAT", "xml"), ("OTP_LOG_LEVEL", "LOUD")):
        env = {
            **os.environ,
            "OTP_DATABASE_URL": module_db.url,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": "http://127.0.0.1:9/api/",
            variable: value,
        }
        done = subprocess.run(
            [OTP, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, done.stderr
        assert variable in done.stderr and "Traceback" not in done.stderr
