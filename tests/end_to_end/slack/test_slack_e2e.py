"""End to end: `otp serve` in a subprocess, Slack requests signed as Slack signs them,
and the bot's Web API calls answered by the local Slack stand-in."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time

import pytest
from sqlalchemy import func, select

from otp_bot.store.db import Database
from otp_bot.store.models import InboundEvent, MetricValue
from tests.support.blockkit import assert_valid
from tests.support.serve import BOGDAN, OTP, PULSE, SECRET, STRANGER, TOKEN, head, raw_request
from tests.support.slack.signing import block_actions_body, event_body, signed_headers, slash_command_body


@pytest.fixture(autouse=True)
def clean_api(api):
    api.reset()
    yield
    api.assert_no_rejections()


def values(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(MetricValue))


# ------------------------------------------------------------------ /otp


def test_slash_command_answers_in_the_ack(server):
    status, payload = server.command("who-owns retention")
    assert status == 200
    assert payload["response_type"] == "ephemeral"
    assert "Client Retention" in payload["text"] and "Pulse (agent)" in payload["text"]
    assert payload["blocks"][-1]["elements"][0]["action_id"] == "otp_share"
    assert_valid(payload)


def test_share_prefix_posts_in_channel(server):
    _, payload = server.command("share chart")
    assert payload["response_type"] == "in_channel" and "Acme Agency" in payload["text"]


def test_share_button_reposts_the_answer_in_the_channel(server, api):
    body = block_actions_body(BOGDAN, "otp_share", "who-owns churn", response_url=api.response_url(), is_ephemeral=True)
    status, _, _ = server.send(body)
    assert status == 200
    posted = api.wait_for("response_url", count=2)
    assert posted[0].args.get("delete_original") is True
    assert posted[1].args["response_type"] == "in_channel" and "Client Retention" in posted[1].args["text"]


def test_share_button_never_reruns_a_write(server, module_db, api):
    before = values(module_db)
    server.send(block_actions_body(PULSE, "otp_share", "kpi retention-saves 9", response_url=api.response_url()))
    reply = api.wait_for("response_url")[0]
    assert "can be shared" in reply.args["text"]
    assert values(module_db) == before


def test_known_person_records_a_value_from_slack(server, module_db):
    before = values(module_db)
    _, payload = server.command("kpi retention-saves 2 from slack", user=PULSE)
    assert "Recorded 2" in payload["text"] and "otp_share" not in json.dumps(payload)
    assert values(module_db) == before + 1


def test_unknown_person_may_read_but_not_write(server, module_db, api):
    before = values(module_db)
    _, read = server.command("who-owns retention", user=STRANGER)
    assert "Client Retention" in read["text"]
    _, write = server.command("kpi retention-saves 2", user=STRANGER)
    assert "can read but not record" in write["text"]
    assert values(module_db) == before
    # Slack was asked for the profile email once; the second command remembered there was no match.
    assert len([c for c in api.calls_to("users.info") if c.args.get("user") == STRANGER]) == 1


def test_person_matched_by_profile_email(server, module_db, api):
    api.users["U0NEWPHONE"] = {"email": "Pulse@example.invalid"}
    api.users["U0JANINE2"] = {"email": "janine@acmeagency.com", "real_name": "Janine"}
    _, payload = server.command("kpi payables-on-time 99", user="U0JANINE2")
    assert "Recorded 99" in payload["text"]
    asked = len(api.calls_to("users.info"))
    _, again = server.command("kpi payables-on-time 98", user="U0JANINE2")
    assert "Recorded 98" in again["text"]
    assert len(api.calls_to("users.info")) == asked  # the email is remembered, not looked up again


def test_bad_command_is_a_friendly_usage_line(server):
    _, payload = server.command("scorcard --weeks 99")
    assert "did you mean" in payload["text"].lower() and "Traceback" not in payload["text"]


def test_slow_answer_acks_first_then_follows_by_response_url(server, api):
    api.fail_next("users.info", delay=3.0)  # an unknown person's profile lookup hangs
    status, payload = server.command("who-owns retention", user="U0SLOWPROFILE")
    assert status == 200 and "Working on it" in payload["text"]
    follow = api.wait_for("response_url", timeout=15)[0]
    assert "Client Retention" in follow.args["text"]


def test_a_slow_listener_does_not_block_another(server, api):
    api.fail_next("users.info", delay=2.5)
    done: list[str] = []
    slow = threading.Thread(target=lambda: (server.command("chart", user="U0SLOW2"), done.append("slow")))
    slow.start()
    time.sleep(0.3)
    server.command("who-owns retention", user=BOGDAN)
    done.append("fast")
    slow.join()
    assert done == ["fast", "slow"]
    api.wait_for("response_url", timeout=10)  # the slow answer follows; let it land in this test


# ------------------------------------------------------------------ forged and replayed requests


@pytest.mark.parametrize("case", ["forged", "missing", "stale", "wrong-secret"])
def test_bad_signatures_are_refused_with_no_side_effect(server, module_db, api, case):
    body = slash_command_body("kpi retention-saves 5", user_id=PULSE, response_url=api.response_url())
    headers = signed_headers(SECRET, body)
    if case == "forged":
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
    elif case == "missing":
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    elif case == "stale":
        headers = signed_headers(SECRET, body, timestamp=int(time.time()) - 6 * 60)
    else:
        headers = signed_headers("another-secret-entirely-1234", body)
    before = values(module_db)
    status, _, _ = server.send(body, headers)
    assert status == 401
    time.sleep(0.3)
    assert values(module_db) == before and api.calls == []


def test_tampered_body_is_refused(server, module_db):
    body = slash_command_body("who-owns retention", user_id=PULSE)
    headers = signed_headers(SECRET, body)
    status, _, _ = server.send(body.replace("who-owns", "kpi+retention-saves+7"), headers)
    assert status == 401


def test_oversized_body_is_refused(server):
    # Refused on its declared length, perhaps while it is still being sent: read the answer anyway.
    status, _ = raw_request(
        server.port, head(server.port, {"Content-Type": "text/plain", "Content-Length": "1100000"}), [b"x" * 1_100_000]
    )
    assert status == 413


# ------------------------------------------------------------------ App Home and retries


def test_app_home_is_published_for_the_person(server, api):
    server.send(event_body({"type": "app_home_opened", "user": PULSE, "tab": "home", "channel": "D0HOME"}))
    publish = api.wait_for("views.publish")[0]
    view = publish.args["view"]
    assert publish.args["user_id"] == PULSE and view["type"] == "home"
    text = json.dumps(view)
    assert "Client Retention" in text and "off track" in text and "otp_home_scorecard" in text
    assert_valid({"blocks": view["blocks"], "text": "home"}, view=True)


def test_app_home_for_a_stranger_explains_how_to_join(server, api):
    server.send(event_body({"type": "app_home_opened", "user": STRANGER, "tab": "home", "channel": "D0HOME"}))
    view = api.wait_for("views.publish")[0].args["view"]
    assert "not on the chart" in json.dumps(view)


def test_a_slack_retry_of_a_handled_event_is_ignored(server, module_db, api):
    body = event_body(
        {"type": "app_home_opened", "user": BOGDAN, "tab": "home", "channel": "D0HOME"}, event_id="Ev0RETRY1"
    )
    assert server.send(body)[0] == 200
    api.wait_for("views.publish")
    retry = server.send(body, signed_headers(SECRET, body, retry_num=1))
    assert retry[0] == 200
    time.sleep(0.5)
    assert len(api.calls_to("views.publish")) == 1
    with module_db.session() as s:
        assert s.get(InboundEvent, "Ev0RETRY1") is not None


def test_home_scorecard_button_opens_a_modal_then_fills_it(server, api):
    server.send(block_actions_body(BOGDAN, "otp_home_scorecard", "retention", response_url=api.response_url()))
    opened = api.wait_for("views.open")[0]
    updated = api.wait_for("views.update")[0]
    assert "Loading" in json.dumps(opened.args["view"])
    assert "Scorecard" in json.dumps(updated.args["view"]) and "At-risk clients saved" in json.dumps(
        updated.args["view"]
    )


# ------------------------------------------------------------------ Slack failing


def test_rate_limited_publish_is_retried_after_retry_after(server, api):
    api.fail_next("views.publish", status=429, retry_after=1)
    server.send(event_body({"type": "app_home_opened", "user": BOGDAN, "tab": "home", "channel": "D0HOME"}))
    calls = api.wait_for("views.publish", count=2, timeout=10)
    assert calls[0].failed and not calls[1].failed


def test_server_error_on_an_idempotent_update_is_retried(server, api):
    api.fail_next("views.update", status=500)
    server.send(block_actions_body(BOGDAN, "otp_home_scorecard", "", response_url=api.response_url()))
    calls = api.wait_for("views.update", count=2, timeout=10)
    assert calls[0].failed and not calls[1].failed


def test_modal_that_slack_refuses_to_open_loses_nothing(server, api, module_db):
    api.fail_next("views.open", status=500)
    before = values(module_db)
    server.send(block_actions_body(BOGDAN, "otp_home_scorecard", "", response_url=api.response_url()))
    api.wait_for("views.open")
    friendly = api.wait_for("response_url")[0]  # the error handler tells the person, ephemerally
    assert "error id" in friendly.args["text"]
    assert len(api.calls_to("views.open")) == 1  # opening a modal twice is not safe: not retried
    assert values(module_db) == before


def test_serve_without_credentials_names_the_variable(module_db):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["OTP_DATABASE_URL"] = module_db.url
    result = subprocess.run([OTP, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "SLACK_BOT_TOKEN is not set" in result.stderr
    env["SLACK_BOT_TOKEN"] = TOKEN
    result = subprocess.run([OTP, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "SLACK_SIGNING_SECRET is not set" in result.stderr
    env["SLACK_SIGNING_SECRET"] = SECRET
    result = subprocess.run([OTP, "run"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "SLACK_APP_TOKEN is not set" in result.stderr


def test_url_verification_is_answered(server):
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "t"})
    status, _, text = server.send(body)
    assert status == 200 and "abc123" in text
