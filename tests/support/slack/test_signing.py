"""Tests of the signed Slack requests (tests/support/slack/signing.py): accepted by slack-sdk's
verifier, shaped like Slack's, and answered by a real Bolt app talking to the stand-in."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from tests.support.blockkit import section
from tests.support.slack.api import SlackAPI
from tests.support.slack.signing import (
    block_actions_body,
    event_body,
    post,
    post_signed,
    signed_headers,
    slash_command_body,
    url_verification_body,
    view_submission_body,
)

SECRET = "test-signing-secret"


# ---- signing helpers -----------------------------------------------------------------------


def test_signed_headers_are_accepted_by_the_verifier() -> None:
    verifier = SignatureVerifier(SECRET)
    for body in (
        slash_command_body("goals"),
        block_actions_body("U1", "approve", "42"),
        view_submission_body("U1", "goal", {"b": {"a": "7"}}),
        event_body({"type": "app_home_opened", "user": "U1", "tab": "home"}),
        url_verification_body("ch4llenge"),
    ):
        headers = signed_headers(SECRET, body)
        assert verifier.is_valid_request(body, headers)
        assert not SignatureVerifier("other").is_valid_request(body, headers)
    stale = slash_command_body("goals")
    assert not verifier.is_valid_request(stale, signed_headers(SECRET, stale, int(time.time()) - 301))


def test_bodies_look_like_slacks() -> None:
    command = {k: v[0] for k, v in parse_qs(slash_command_body("goals  Q3", response_url="http://x/r")).items()}
    assert command["command"] == "/otp" and command["text"] == "goals  Q3" and command["user_id"] == "U01COO"
    assert {
        "token",
        "team_domain",
        "channel_name",
        "user_name",
        "api_app_id",
        "is_enterprise_install",
        "trigger_id",
    } <= command.keys()

    action = json.loads(parse_qs(block_actions_body("U1", "approve", "42", response_url="http://x/r"))["payload"][0])
    assert action["type"] == "block_actions" and action["actions"][0]["value"] == "42"
    assert action["container"]["type"] == "message" and action["response_url"] == "http://x/r"

    submission = json.loads(parse_qs(view_submission_body("U1", "goal", {"b": {"a": "7"}}, "meta"))["payload"][0])
    assert submission["view"]["state"]["values"]["b"]["a"] == {"type": "plain_text_input", "value": "7"}
    assert submission["view"]["private_metadata"] == "meta"

    event = json.loads(event_body({"type": "app_home_opened", "user": "U1"}, event_id="Ev1"))
    assert event["type"] == "event_callback" and event["event_id"] == "Ev1" and event["event"]["user"] == "U1"
    assert signed_headers(SECRET, "{}")["Content-Type"] == "application/json"
    assert signed_headers(SECRET, "a=b", retry_num=1)["X-Slack-Retry-Num"] == "1"


# ---- end to end: a real Bolt app over HTTP, talking to the stand-in -------------------------


class _BoltServer:
    """A Bolt App served on 127.0.0.1:0 (Bolt's own dev server binds 0.0.0.0 and a fixed port)."""

    def __init__(self, app: App) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                response = app.dispatch(BoltRequest(body=body, headers=dict(self.headers.items())))
                payload = response.body.encode()
                self.send_response(response.status)
                for name, values in response.headers.items():
                    for value in values:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bolt(slack_api: SlackAPI) -> Iterator[str]:
    app = App(signing_secret=SECRET, client=WebClient(token="xoxb-test", base_url=slack_api.url))

    @app.command("/otp")
    def command(ack, respond, body, client) -> None:  # type: ignore[no-untyped-def]
        ack()
        client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "callback_id": "goal",
                "title": {"type": "plain_text", "text": "Goal"},
                "blocks": [section("hi")],
            },
        )
        respond(text=f"you said {body['text']}")

    @app.action("approve")
    def approve(ack, respond, body) -> None:  # type: ignore[no-untyped-def]
        ack()
        respond(replace_original=True, text=f"approved {body['actions'][0]['value']}")

    @app.view("goal")
    def submitted(ack, view) -> None:  # type: ignore[no-untyped-def]
        ack(response_action="errors", errors={"b": f"got {view['state']['values']['b']['a']['value']}"})

    @app.event("app_home_opened")
    def home(event, client) -> None:  # type: ignore[no-untyped-def]
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": [section("home")]})

    server = _BoltServer(app)
    yield server.url
    server.close()


def test_a_bolt_app_accepts_the_signed_bodies(slack_api: SlackAPI, bolt: str) -> None:
    assert post_signed(bolt, SECRET, slash_command_body("q3", response_url=slack_api.response_url()))[0] == 200
    [answer] = slack_api.wait_for("response_url")
    assert answer.args["text"] == "you said q3"
    assert slack_api.calls_to("views.open")[0].args["view"]["callback_id"] == "goal"

    assert (
        post_signed(bolt, SECRET, block_actions_body("U1", "approve", "42", response_url=slack_api.response_url()))[0]
        == 200
    )
    assert slack_api.wait_for("response_url", count=2)[1].args == {"replace_original": True, "text": "approved 42"}

    status, _, body = post_signed(bolt, SECRET, view_submission_body("U1", "goal", {"b": {"a": "7"}}))
    assert status == 200 and json.loads(body) == {"response_action": "errors", "errors": {"b": "got 7"}}

    assert post_signed(bolt, SECRET, event_body({"type": "app_home_opened", "user": "U9", "tab": "home"}))[0] == 200
    slack_api.wait_for("views.publish")
    assert slack_api.home["U9"]["blocks"] == [section("home")]

    status, _, body = post_signed(bolt, SECRET, url_verification_body("ch4llenge"))
    assert status == 200 and json.loads(body)["challenge"] == "ch4llenge"

    assert post(bolt, slash_command_body("q3"), signed_headers("wrong-secret", slash_command_body("q3")))[0] == 401
