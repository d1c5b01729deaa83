"""Tests of the Slack stand-ins themselves (tests/slack_api.py, tests/signing.py), driven
by the real slack-sdk and slack-bolt so they stay faithful to what the app will send."""

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
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from .blockkit import LIMITS
from .signing import (
    block_actions_body,
    event_body,
    post,
    post_signed,
    signed_headers,
    slash_command_body,
    url_verification_body,
    view_submission_body,
)
from .slack_api import SlackAPI, slack_api  # noqa: F401  (slack_api is a fixture)

SECRET = "test-signing-secret"


@pytest.fixture
def client(slack_api: SlackAPI) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack_api.url)


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


# ---- messages -------------------------------------------------------------------------


def test_post_message_then_history_returns_it_with_metadata(slack_api: SlackAPI, client: WebClient) -> None:
    meta = {"event_type": "otp_post", "event_payload": {"key": "weekly:2024-W01"}}
    first = client.chat_postMessage(channel="C1", text="first", metadata=meta)
    second = client.chat_postMessage(channel="C1", text="second", blocks=[section("*second*")])

    assert first["ok"] and first["channel"] == "C1" and first["message"]["text"] == "first"
    assert float(second["ts"]) > float(first["ts"])
    assert abs(float(first["ts"]) - time.time()) < 60

    with_meta = client.conversations_history(channel="C1", include_all_metadata=True)
    assert [m["text"] for m in with_meta["messages"]] == ["second", "first"]  # newest first
    assert with_meta["messages"][1]["metadata"] == meta
    assert with_meta["messages"][0]["blocks"] == [section("*second*")]

    without = client.conversations_history(channel="C1")
    assert all("metadata" not in m for m in without["messages"])
    assert client.conversations_history(channel="C-other")["messages"] == []


def test_calls_are_recorded_with_args_and_headers(slack_api: SlackAPI, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="hi")
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.args == {"channel": "C1", "text": "hi"}
    assert call.headers["authorization"] == "Bearer xoxb-test"
    assert call.headers["content-type"].startswith("application/json")  # chat.* goes as JSON
    assert call.token == "xoxb-test" and call.ok and call.failed is None


def test_form_encoded_json_fields_are_decoded(slack_api: SlackAPI, client: WebClient) -> None:
    blocks = [section("from a form")]
    client.api_call("chat.postMessage", params={"channel": "C1", "text": "t", "blocks": json.dumps(blocks)})
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert call.args["blocks"] == blocks


def test_booleans_in_form_bodies_arrive_as_1_and_0(slack_api: SlackAPI, client: WebClient) -> None:
    client.conversations_history(channel="C1", include_all_metadata=True, inclusive=False)
    [call] = slack_api.calls_to("conversations.history")
    assert call.args["include_all_metadata"] == "1" and call.args["inclusive"] == "0"


def test_update_permalink_and_thread_replies(slack_api: SlackAPI, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C1", text="draft")
    client.chat_postMessage(channel="C1", text="a reply", thread_ts=posted["ts"])
    updated = client.chat_update(channel="C1", ts=posted["ts"], text="final")
    assert (updated["channel"], updated["ts"], updated["text"]) == ("C1", posted["ts"], "final")
    assert [m["text"] for m in client.conversations_history(channel="C1")["messages"]] == ["final"]
    assert len(client.conversations_replies(channel="C1", ts=posted["ts"])["messages"]) == 2
    link = client.chat_getPermalink(channel="C1", message_ts=posted["ts"])["permalink"]
    assert link.endswith("/archives/C1/p" + posted["ts"].replace(".", ""))


def test_posting_to_a_user_id_lands_in_a_dm_channel(slack_api: SlackAPI, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="U01COO", text="psst")
    assert posted["channel"] == "D01COO"  # store this one for chat.update, not the user id
    assert slack_api.history("D01COO")[0]["text"] == "psst"


def test_ephemeral_answers_message_ts(client: WebClient) -> None:
    assert client.chat_postEphemeral(channel="C1", user="U1", text="only you")["message_ts"]


# ---- validation ------------------------------------------------------------------------


def test_no_text_and_missing_channel_are_rejected(slack_api: SlackAPI, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as e:
        client.api_call("chat.postMessage", json={"channel": "C1"})
    assert e.value.response["error"] == "no_text"
    with pytest.raises(SlackApiError) as e:
        client.api_call("chat.postMessage", json={"text": "hi"})
    assert e.value.response["error"] == "channel_not_found"
    assert [c.error for c in slack_api.take_rejections()] == ["no_text", "channel_not_found"]
    assert slack_api.history("C1") == []


def test_more_than_50_blocks_is_invalid_blocks(slack_api: SlackAPI, client: WebClient) -> None:
    blocks = [section(f"row {i}") for i in range(LIMITS["message_blocks"] + 1)]
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C1", text="too many", blocks=blocks)
    assert e.value.response["error"] == "invalid_blocks"
    assert e.value.response["errors"] == ["51 blocks > 50"]
    [rejected] = slack_api.take_rejections()
    assert rejected.method == "chat.postMessage" and len(rejected.args["blocks"]) == 51


def test_blocks_without_fallback_text_are_refused(slack_api: SlackAPI, client: WebClient) -> None:
    # Stricter than Slack (which only warns): the project always sets `text`.
    with pytest.warns(UserWarning), pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C1", blocks=[section("x")])
    assert e.value.response["errors"] == ["no fallback text"]
    slack_api.take_rejections()


def test_malformed_blocks_are_refused_not_crashed_on(slack_api: SlackAPI, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C1", text="t", blocks=[{"type": "header"}])
    assert e.value.response["error"] == "invalid_blocks"
    assert "malformed block" in e.value.response["errors"][0]
    slack_api.take_rejections()


def test_views_over_100_blocks_are_invalid_arguments(slack_api: SlackAPI, client: WebClient) -> None:
    blocks = [section(f"row {i}") for i in range(LIMITS["view_blocks"] + 1)]
    with pytest.raises(SlackApiError) as e:
        client.views_publish(user_id="U1", view={"type": "home", "blocks": blocks})
    assert e.value.response["error"] == "invalid_arguments"
    assert e.value.response["response_metadata"]["messages"] == ["[ERROR] 101 blocks > 100"]
    ok = client.views_publish(user_id="U1", view={"type": "home", "blocks": blocks[:100]})
    assert ok["view"]["id"] == slack_api.home["U1"]["id"]
    assert [c.error for c in slack_api.take_rejections()] == ["invalid_arguments"]


def test_views_open_update_and_reused_trigger(slack_api: SlackAPI, client: WebClient) -> None:
    modal = {
        "type": "modal",
        "callback_id": "goal",
        "title": {"type": "plain_text", "text": "Set a goal"},
        "blocks": [section("hi")],
    }
    opened = client.views_open(trigger_id="T-1", view=modal)["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "goal"
    updated = client.views_update(view_id=opened["id"], view={**modal, "blocks": [section("bye")]})["view"]
    assert updated["id"] == opened["id"] and updated["blocks"] == [section("bye")]
    with pytest.raises(SlackApiError) as e:
        client.views_open(trigger_id="T-1", view=modal)
    assert e.value.response["error"] == "exchanged_trigger_id"
    long_title = {**modal, "title": {"type": "plain_text", "text": "x" * 25}}
    with pytest.raises(SlackApiError):
        client.views_open(trigger_id="T-2", view=long_title)
    assert [c.error for c in slack_api.take_rejections()] == ["exchanged_trigger_id", "invalid_arguments"]


def test_tokens_are_checked(slack_api: SlackAPI) -> None:
    with pytest.raises(SlackApiError) as e:
        WebClient(token="xoxp-user", base_url=slack_api.url).auth_test()
    assert e.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as e:
        WebClient(base_url=slack_api.url).auth_test()
    assert e.value.response["error"] == "not_authed"
    slack_api.tokens = {"xoxb-the-one"}
    with pytest.raises(SlackApiError):
        WebClient(token="xoxb-test", base_url=slack_api.url).auth_test()
    assert WebClient(token="xoxb-the-one", base_url=slack_api.url).auth_test()["user_id"] == "U0BOT"
    assert [c.error for c in slack_api.take_rejections()] == ["invalid_auth", "not_authed", "invalid_auth"]


def test_strict_fails_the_test_on_leftover_rejections() -> None:
    api = SlackAPI()
    with pytest.raises(SlackApiError):
        WebClient(token="xoxb-t", base_url=api.url).api_call("chat.postMessage", json={"channel": "C1"})
    with pytest.raises(AssertionError, match="chat.postMessage -> 200 no_text"):
        api.close()


def test_a_wrong_path_is_a_rejection(slack_api: SlackAPI) -> None:
    status, _, body = post(f"{slack_api.root}/chat.postMessage", "channel=C1&text=x", {})
    assert status == 404 and json.loads(body)["error"] == "unknown_path"
    assert slack_api.take_rejections()[0].method == "unknown:/chat.postMessage"


# ---- lookups ---------------------------------------------------------------------------


def test_users_info(slack_api: SlackAPI, client: WebClient) -> None:
    slack_api.users["U01COO"] = {"email": "coo@acme.test", "real_name": "Cora Oduya"}
    user = client.users_info(user="U01COO")["user"]
    assert user["profile"]["email"] == "coo@acme.test"
    assert user["real_name"] == user["profile"]["real_name"] == "Cora Oduya"
    assert client.users_lookupByEmail(email="COO@acme.test")["user"]["id"] == "U01COO"
    with pytest.raises(SlackApiError) as e:
        client.users_info(user="U404")
    assert e.value.response.data == {"ok": False, "error": "user_not_found"}
    assert not slack_api.rejections  # a lookup miss is an answer, not a malformed call


def test_usergroups_users_list(slack_api: SlackAPI, client: WebClient) -> None:
    slack_api.usergroups["S1"] = ["U1", "U2"]
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U1", "U2"]


# ---- response_url ------------------------------------------------------------------------


def test_response_url_is_recorded_and_refused_after_five_uses(slack_api: SlackAPI) -> None:
    url = slack_api.response_url(token="cmd1")
    assert url == f"{slack_api.root}/response/cmd1"
    hook = WebhookClient(url)
    for i in range(5):
        assert hook.send(text=f"answer {i}", response_type="ephemeral").status_code == 200
    sixth = hook.send(text="one too many")
    assert sixth.status_code == 404 and json.loads(sixth.body)["error"] == "used_url"
    calls = slack_api.calls_to("response_url")
    assert [c.args["text"] for c in calls[:2]] == ["answer 0", "answer 1"]
    assert calls[0].args["response_type"] == "ephemeral" and calls[0].path == "/response/cmd1"
    assert [c.error for c in slack_api.take_rejections()] == ["used_url"]


def test_response_url_checks_blocks(slack_api: SlackAPI) -> None:
    hook = WebhookClient(slack_api.response_url())
    bad = hook.send(text="t", blocks=[section("x")] * 2 + [{"type": "bogus"}])
    assert bad.status_code == 400 and json.loads(bad.body)["error"] == "invalid_blocks"
    assert hook.send(delete_original=True).status_code == 200
    slack_api.take_rejections()


# ---- failure injection -------------------------------------------------------------------


def test_429_is_retried_by_the_rate_limit_handler(slack_api: SlackAPI, client: WebClient) -> None:
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    slack_api.fail_next("chat.postMessage", status=429, retry_after=1)
    posted = client.chat_postMessage(channel="C1", text="eventually")
    assert posted["ok"]
    first, second = slack_api.calls_to("chat.postMessage")
    assert (first.status, first.failed, first.error) == (429, "http 429", "ratelimited")
    assert second.ok and second.failed is None
    assert second.at - first.at >= 1.0  # Retry-After honoured (plus up to 1 s of jitter)
    assert len(slack_api.history("C1")) == 1


def test_429_without_retry_handler_surfaces(slack_api: SlackAPI, client: WebClient) -> None:
    slack_api.fail_next("users.info", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as e:
        client.users_info(user="U1")
    assert e.value.response.status_code == 429 and e.value.response.headers["Retry-After"] == "7"


def test_500_surfaces_as_slack_api_error(slack_api: SlackAPI, client: WebClient) -> None:
    slack_api.fail_next("chat.postMessage", status=500)
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C1", text="lost")
    assert e.value.response.status_code == 500
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.failed == "http 500"
    assert slack_api.history("C1") == []
    assert client.chat_postMessage(channel="C1", text="next one")["ok"]  # the queue drained


def test_error_injection_times(slack_api: SlackAPI, client: WebClient) -> None:
    slack_api.fail_next("chat.update", error="ratelimited", times=2)
    ts = client.chat_postMessage(channel="C1", text="a")["ts"]
    for _ in range(2):
        with pytest.raises(SlackApiError) as e:
            client.chat_update(channel="C1", ts=ts, text="b")
        assert e.value.response.status_code == 200 and e.value.response["error"] == "ratelimited"
    assert client.chat_update(channel="C1", ts=ts, text="b")["ok"]
    assert [c.failed for c in slack_api.calls_to("chat.update")] == ["error ratelimited"] * 2 + [None]
    assert not slack_api.rejections  # injected failures are not rejections


def test_delay_times_the_client_out_but_the_post_still_happened(slack_api: SlackAPI) -> None:
    client = WebClient(token="xoxb-test", base_url=slack_api.url, timeout=1)
    slack_api.fail_next("chat.postMessage", delay=3.0)
    with pytest.raises(TimeoutError):  # a read timeout is not retried by the default handler
        client.chat_postMessage(channel="C1", text="did it post?")
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    assert slack_api.history("C1")[0]["text"] == "did it post?"  # it did: retrying would post twice


def test_close_is_prompt_even_with_a_delayed_answer_pending() -> None:
    api = SlackAPI()
    api.fail_next("auth.test", delay=30)
    worker = threading.Thread(target=lambda: WebClient(token="xoxb-t", base_url=api.url).auth_test())
    worker.start()
    api.wait_for("auth.test")
    started = time.monotonic()
    api.close()
    worker.join(timeout=5)
    assert time.monotonic() - started < 2 and not worker.is_alive()


def test_fail_next_refuses_nonsense(slack_api: SlackAPI) -> None:
    with pytest.raises(ValueError):
        slack_api.fail_next("chat.postMessage")
    with pytest.raises(TypeError):
        slack_api.fail_next("chat.postMessage", status=429, retry_after=1.5)  # type: ignore[arg-type]


# ---- waiting, reset ----------------------------------------------------------------------


def test_wait_for_blocks_until_calls_arrive(slack_api: SlackAPI, client: WebClient) -> None:
    threading.Timer(0.2, lambda: client.chat_postMessage(channel="C1", text="later")).start()
    [call] = slack_api.wait_for("chat.postMessage", timeout=5)
    assert call.args["text"] == "later"


def test_wait_for_reports_what_it_saw(slack_api: SlackAPI, client: WebClient) -> None:
    client.auth_test()
    with pytest.raises(AssertionError, match=r"(?s)expected 1 call\(s\) to views.open.*auth.test -> ok"):
        slack_api.wait_for("views.open", timeout=0.2)


def test_reset_forgets_traffic_but_keeps_configuration(slack_api: SlackAPI, client: WebClient) -> None:
    slack_api.users["U1"] = {"email": "a@b.test"}
    client.chat_postMessage(channel="C1", text="x")
    slack_api.fail_next("auth.test", status=500)
    slack_api.reset()
    assert slack_api.calls == [] and slack_api.history("C1") == []
    assert client.auth_test()["ok"] and client.users_info(user="U1")["ok"]


# ---- files -------------------------------------------------------------------------------


def test_files_upload_v2_records_the_bytes(slack_api: SlackAPI, client: WebClient) -> None:
    png = b"\x89PNG\r\n\x1a\n fake chart"
    done = client.files_upload_v2(
        channel="C1", content=png, filename="x.png", title="Scorecard", initial_comment="This week"
    )
    assert done["file"]["name"] == "x.png"
    methods = [c.method for c in slack_api.calls]
    assert methods == ["files.getUploadURLExternal", "upload_url", "files.completeUploadExternal"]
    upload = slack_api.calls_to("upload_url")[0]
    assert upload.args["size"] == len(png) and "authorization" not in upload.headers
    f = slack_api.files[done["file"]["id"]]
    assert (f.content, f.channels, f.title, f.initial_comment) == (png, ["C1"], "Scorecard", "This week")
    complete = slack_api.calls_to("files.completeUploadExternal")[0]
    assert complete.args["files"] == [{"id": f.id, "title": "Scorecard"}]  # sent as a JSON string, decoded


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
                response = app.dispatch(BoltRequest(body=body, headers={k: v for k, v in self.headers.items()}))
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
