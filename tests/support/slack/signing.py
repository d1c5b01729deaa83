"""Requests to the app exactly as Slack sends them: bodies, signatures, and a stdlib POST.

Bodies come back as the *raw string* Slack would send, because the signature covers the
raw body: sign and send the very same string, never a re-encoded copy.

Ids default to the workspace `tests.support.slack.api` pretends to be (team T0TEAM, app A0OTP).
The default `response_url` points at a closed local port, so an app that answers through it
fails fast instead of reaching the internet; pass `api.response_url()` to record the answer.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from tests.support.slack.web_methods import APP_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

VERIFICATION_TOKEN = "verification-token"  # the deprecated token Slack still puts in payloads
NO_RESPONSE_URL = "http://127.0.0.1:9/response/not-given"  # port 9 (discard): refused at once
DEFAULT_CHANNEL_NAME = "general"

_trigger_counter = itertools.count(1)


def new_trigger_id() -> str:
    """A fresh trigger id shaped like Slack's ("13345224609.738474920.8088930838d88f008e0")."""
    return f"{int(time.time())}.{next(_trigger_counter)}.{uuid.uuid4().hex[:20]}"


def signed_headers(
    secret: str,
    body: str,
    timestamp: int | None = None,
    *,
    content_type: str | None = None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
) -> dict[str, str]:
    """Headers Slack sends with `body`: timestamp, v0 signature, content type.

    `timestamp` defaults to now; pass an old one to test replay rejection (over 5 minutes).
    `retry_num` adds Events API redelivery headers (`X-Slack-Retry-Num`, `-Reason`).
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    headers = {
        "Content-Type": content_type
        or ("application/json" if body.lstrip().startswith("{") else "application/x-www-form-urlencoded"),
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return headers


def slash_command_body(
    text: str,
    user_id: str = "U01COO",
    channel_id: str = "C0GENERAL",
    *,
    response_url: str = NO_RESPONSE_URL,
    trigger_id: str | None = None,
    command: str = "/otp",
    team_id: str = TEAM_ID,
    user_name: str | None = None,
    channel_name: str = DEFAULT_CHANNEL_NAME,
) -> str:
    """A slash command as Slack posts it: form-encoded, every usual field present."""
    return urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name or user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or new_trigger_id(),
        }
    )


def block_actions_body(
    user_id: str,
    action_id: str,
    value: str,
    *,
    block_id: str = "actions",
    channel_id: str = "C0GENERAL",
    message_ts: str = "1700000000.000100",
    response_url: str = NO_RESPONSE_URL,
    trigger_id: str | None = None,
    message: dict[str, Any] | None = None,
    is_ephemeral: bool = False,
    team_id: str = TEAM_ID,
) -> str:
    """A button click in a message: form field `payload` holding the JSON.

    `message` is the message the button sits in (as the app posted it); by default a bare
    bot message carrying one button with this action.
    """
    now = f"{time.time():.6f}"
    if message is None:
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": "B0BOT",
            "app_id": APP_ID,
            "team": team_id,
            "ts": message_ts,
            "text": "",
            "blocks": [
                {
                    "type": "actions",
                    "block_id": block_id,
                    "elements": [
                        {
                            "type": "button",
                            "action_id": action_id,
                            "value": value,
                            "text": {"type": "plain_text", "text": "Button"},
                        }
                    ],
                }
            ],
        }
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": DEFAULT_CHANNEL_NAME},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "type": "button",
                "text": {"type": "plain_text", "text": "Button", "emoji": True},
                "action_ts": now,
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def message_action_body(
    user_id: str,
    callback_id: str,
    message: dict[str, Any],
    *,
    channel_id: str = "C0GENERAL",
    response_url: str = NO_RESPONSE_URL,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
) -> str:
    """A message shortcut, chosen from a message's menu: form field `payload` holding the JSON.

    `message` is the message it was chosen on, as Slack holds it (its `ts`, `text`, `user`).
    """
    payload = {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": f"{time.time():.6f}",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "channel": {"id": channel_id, "name": DEFAULT_CHANNEL_NAME},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
        "response_url": response_url,
        "message_ts": message["ts"],
        "message": message,
    }
    return urlencode({"payload": json.dumps(payload)})


def view_submission_body(
    user_id: str,
    callback_id: str,
    values: dict[str, dict[str, Any]],
    private_metadata: str = "",
    *,
    view_id: str = "V0TEST",
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> str:
    """A modal submission: form field `payload` holding the JSON.

    `values` is `view.state.values`: {block_id: {action_id: element_state}}; a plain string
    as element state is short for a plain_text_input holding it.
    """
    state = {
        block: {
            action: ({"type": "plain_text_input", "value": v} if isinstance(v, str) else v)
            for action, v in actions.items()
        }
        for block, actions in values.items()
    }
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": state},
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "title": {"type": "plain_text", "text": "OTP"},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": {"type": "plain_text", "text": "Cancel"},
            "submit": {"type": "plain_text", "text": "Submit"},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": APP_ID,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": "B0BOT",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)})


def event_body(event: dict[str, Any], event_id: str | None = None, team_id: str = TEAM_ID) -> str:
    """An Events API delivery (JSON `event_callback` envelope), e.g. for app_home_opened.

    Keep the `event_id` to send the same delivery again as a retry (dedupe tests).
    """
    now = int(time.time())
    return json.dumps(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "api_app_id": APP_ID,
            "event": {"event_ts": f"{now}.000100", **event},
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": now,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }
    )


def url_verification_body(challenge: str) -> str:
    """The handshake Slack sends when the Request URL is saved in the app config."""
    return json.dumps({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"})


def post(
    url: str, body: str | bytes, headers: dict[str, str], timeout: float = 10.0
) -> tuple[int, dict[str, str], str]:
    """POST like Slack does; return (status, headers, body) whatever the status."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:  # 4xx/5xx still carry a useful body
        return e.code, dict(e.headers.items()), e.read().decode("utf-8", "replace")


def post_signed(
    url: str, secret: str, body: str, timestamp: int | None = None, **header_options: Any
) -> tuple[int, dict[str, str], str]:
    """Sign `body` with `secret` and POST it to the app at `url`."""
    return post(url, body, signed_headers(secret, body, timestamp, **header_options))
