"""Getting things out exactly once: Slack posts that survive a retry, and signed callbacks.

A Slack post carries its outbox key in message metadata. When an earlier attempt may
have landed (a timeout, a 5xx, a worker killed mid-call), the channel is searched for
that key before posting again. A callback carries the key in `Idempotency-Key` on every
attempt, so the receiver can drop repeats; it is signed like Slack signs its requests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

EVENT_TYPE = "otp_outbox"
HISTORY_PAGES = 5


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def dm_channel(client: WebClient, target: str) -> str:
    """A user id becomes the id of the DM with them, so history can be searched."""
    if target[:1] in ("U", "W"):
        return client.conversations_open(users=target)["channel"]["id"]
    return target


def _find(client: WebClient, channel: str, key: str, since: float, thread_ts: str | None) -> str | None:
    cursor = None
    for _ in range(HISTORY_PAGES):
        if thread_ts:
            page = client.conversations_replies(channel=channel, ts=thread_ts, include_all_metadata=True,
                                                cursor=cursor, limit=200)
        else:
            page = client.conversations_history(channel=channel, oldest=f"{since:.6f}", include_all_metadata=True,
                                                cursor=cursor, limit=200)
        for message in page.get("messages", []):
            if (message.get("metadata") or {}).get("event_payload", {}).get("key") == key:
                return message["ts"]
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    return None


def post_once(client: WebClient, target: str, key: str, *, retry: bool, since: float,
              **message: Any) -> tuple[str, str]:
    """Post `message` to `target` unless a post with `key` is already there; returns (channel, ts)."""
    channel = dm_channel(client, target)
    if retry and (ts := _find(client, channel, key, since - 60, message.get("thread_ts"))):
        return channel, ts
    response = client.chat_postMessage(channel=channel, metadata={"event_type": EVENT_TYPE, "event_payload": {"key": key}},
                                       **message)
    return response["channel"], response["ts"]


@dataclass
class CallbackResult:
    ok: bool
    status: int | None
    detail: str
    permanent: bool = False  # retrying cannot help (a 4xx other than 408/429)


def post_callback(url: str, payload: dict[str, Any], *, secret: str, key: str, timeout: float) -> CallbackResult:
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "otp-bot",
        "Idempotency-Key": key,
        "X-OTP-Request-Timestamp": timestamp,
        "X-OTP-Signature": signature(secret, timestamp, body),
    })
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return CallbackResult(True, response.status, f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        permanent = 400 <= exc.code < 500 and exc.code not in (408, 425, 429)
        return CallbackResult(False, exc.code, f"HTTP {exc.code}", permanent)
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return CallbackResult(False, None, f"unreachable: {reason}")
