"""Tests of the Slack stand-in itself (tests/support/slack), driven by the real slack-sdk so
it stays faithful to what the app will send: messages, validation, look-ups, response_url."""

from __future__ import annotations

import json
import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from tests.support.blockkit import LIMITS, section
from tests.support.slack.api import SlackAPI
from tests.support.slack.signing import (
    post,
)

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
    with pytest.warns(UserWarning, match="`text` argument is missing"), pytest.raises(SlackApiError) as e:
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
    with pytest.raises(AssertionError, match=r"chat.postMessage -> 200 no_text"):
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


# ---- the workspace: scopes and channel membership -------------------------------------------


def test_answers_carry_the_granted_scopes_and_a_missing_one_is_refused(slack_api: SlackAPI, client: WebClient) -> None:
    granted = client.auth_test().headers["x-oauth-scopes"].split(",")
    assert "chat:write" in granted and "channels:read" in granted  # manifest.yml's, by default
    slack_api.scopes.discard("channels:read")
    assert "channels:read" not in client.auth_test().headers["x-oauth-scopes"].split(",")
    with pytest.raises(SlackApiError) as e:
        client.conversations_info(channel="C1")
    assert (e.value.response["error"], e.value.response["needed"]) == ("missing_scope", "channels:read")
    assert client.conversations_info(channel="G1")["channel"]["is_private"]  # groups:read still granted
    assert not slack_api.rejections  # set up by the test, not a malformed request


def test_membership_decides_info_posts_and_history(slack_api: SlackAPI, client: WebClient) -> None:
    assert client.conversations_info(channel="C1")["channel"]["is_member"]  # in every channel by default
    slack_api.member_of = {"C1", "G1"}
    slack_api.channels["C2"] = {"name": "approvals"}
    info = client.conversations_info(channel="C2")["channel"]
    assert (info["name"], info["is_member"], info["is_private"]) == ("approvals", False, False)
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C2", text="not in it")
    assert e.value.response["error"] == "not_in_channel"
    with pytest.raises(SlackApiError) as e:
        client.conversations_info(channel="G2")  # a private channel the bot is not in: invisible
    assert e.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="U01COO", text="a DM needs no invite")["ok"]
    assert slack_api.history("C2") == [] and not slack_api.rejections


def test_an_app_level_token_opens_socket_mode_and_nothing_else(slack_api: SlackAPI) -> None:
    client = WebClient(base_url=slack_api.url)
    assert client.apps_connections_open(app_token="xapp-1-test")["url"].startswith("wss://")
    with pytest.raises(SlackApiError) as e:
        client.auth_test(token="xapp-1-test")
    assert e.value.response["error"] == "not_allowed_token_type"
    slack_api.app_tokens = {"xapp-1-other"}
    with pytest.raises(SlackApiError) as e:
        client.apps_connections_open(app_token="xapp-1-test")
    assert e.value.response["error"] == "invalid_auth"
    slack_api.take_rejections()
