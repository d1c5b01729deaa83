"""What Slack would send for what the person at the console does: a slash command, a button
click, a modal submission, App Home opened. Pure builders, shaped as Slack's own payloads."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from otp_bot.bot.console.render import Button

CHANNEL = "C0CONSOLE"
TEAM = {"id": "T0LOCAL", "domain": "local"}
FORM = "application/x-www-form-urlencoded"


def _user(user_id: str, user_name: str) -> dict[str, str]:
    return {"id": user_id, "username": user_name, "team_id": TEAM["id"]}


def _interaction(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def slash_command(user_id: str, user_name: str, text: str, response_url: str) -> str:
    return urlencode(
        {
            "token": "console",
            "team_id": TEAM["id"],
            "team_domain": TEAM["domain"],
            "channel_id": CHANNEL,
            "channel_name": "console",
            "user_id": user_id,
            "user_name": user_name,
            "command": "/otp",
            "text": text,
            "api_app_id": "A0OTP",
            "response_url": response_url,
            "trigger_id": secrets.token_hex(8),
        }
    )


def button_click(user_id: str, user_name: str, button: Button, response_url: str) -> str:
    return _interaction(
        {
            "type": "block_actions",
            "user": _user(user_id, user_name),
            "api_app_id": "A0OTP",
            "team": TEAM,
            "trigger_id": secrets.token_hex(8),
            "container": {
                "type": "message",
                "channel_id": button.container.get("channel"),
                "message_ts": button.container.get("ts"),
                "is_ephemeral": not button.container.get("ts"),
            },
            "channel": {"id": button.container.get("channel") or CHANNEL, "name": "console"},
            "response_url": response_url,
            "actions": [
                {
                    "type": "button",
                    "action_id": button.action_id,
                    "block_id": button.block_id,
                    "value": button.value,
                    "text": {"type": "plain_text", "text": button.label},
                    "action_ts": str(time.time()),
                }
            ],
        }
    )


def view_submission(user_id: str, user_name: str, view: dict[str, Any], values: dict[str, Any]) -> str:
    return _interaction(
        {
            "type": "view_submission",
            "team": TEAM,
            "api_app_id": "A0OTP",
            "user": _user(user_id, user_name),
            "trigger_id": secrets.token_hex(8),
            "view": {**view, "id": "V0CONSOLE", "state": {"values": values}},
        }
    )


def home_opened(user_id: str) -> str:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM["id"],
            "api_app_id": "A0OTP",
            "event_id": "Ev" + secrets.token_hex(6),
            "event_time": int(time.time()),
            "event": {
                "type": "app_home_opened",
                "user": user_id,
                "channel": "D0HOME",
                "tab": "home",
                "event_ts": str(time.time()),
            },
        }
    )
