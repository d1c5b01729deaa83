"""Getting things out exactly once: Slack posts that survive a retry, and signed callbacks.

A Slack post carries its outbox key in message metadata. When an earlier attempt may
have landed (a timeout, a 5xx, a worker killed mid-call), the conversation is searched
for that key, from the first attempt's start (less a margin for clock skew) to now,
page after page until that window is exhausted, however busy the channel has been.
When the search cannot be completed, nothing is posted: `Unconfirmed` says why, and the
caller refuses rather than risk a second copy. A callback carries the key in
`Idempotency-Key` on every attempt, so the receiver can drop repeats; it is signed like
Slack signs its requests, goes only to addresses store/domain/gate/callback_targets.py allows,
and does not follow redirects.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from otp_bot.bot.slack import pacing
from otp_bot.store.domain.errors import DomainError
from otp_bot.store.domain.gate.callback_targets import NOTHING, Allowlist, Resolver, Target, parse_url, resolve

EVENT_TYPE = "otp_outbox"
SKEW = 60.0  # seconds: the search starts this much before the first attempt (our clock vs Slack's)
PAGE = 200  # messages per history page (Slack's most)
MAX_PAGES = 250  # 50,000 messages since the first attempt: beyond this the search gives up, and nothing is posted
# Slack's answers that mean looking again later cannot help.
LOOKUP_PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "missing_scope",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "thread_not_found",
        "is_archived",
    }
)


# Slack errors that no retry can fix: the item fails at once, visibly.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "message_not_found",
        "cant_update_message",
        "user_not_found",
        "cannot_dm_bot",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "missing_scope",
        "restricted_action",
    }
)


class Permanent(Exception):
    """Retrying will not help; the item fails now."""


class Unconfirmed(Exception):
    """Whether an earlier post landed could not be established, so nothing was posted."""

    def __init__(self, detail: str, *, permanent: bool) -> None:
        super().__init__(f"could not confirm whether the earlier post landed ({detail}); not posting again")
        self.permanent = permanent


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def dm_channel(client: WebClient, target: str) -> str:
    """A user id becomes the id of the DM with them, so history can be searched."""
    if target[:1] in ("U", "W"):
        return client.conversations_open(users=target)["channel"]["id"]
    return target


def _page(client: WebClient, channel: str, since: float, thread_ts: str | None, cursor: str | None) -> SlackResponse:
    try:
        if thread_ts:
            return client.conversations_replies(
                channel=channel,
                ts=thread_ts,
                oldest=f"{since:.6f}",
                include_all_metadata=True,
                cursor=cursor,
                limit=PAGE,
            )
        return client.conversations_history(
            channel=channel, oldest=f"{since:.6f}", include_all_metadata=True, cursor=cursor, limit=PAGE
        )
    except SlackApiError as exc:
        error = exc.response.get("error") or f"HTTP {exc.response.status_code}"
        raise Unconfirmed(f"Slack said {error} to the history look-up", permanent=error in LOOKUP_PERMANENT) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise Unconfirmed(f"history unreachable: {exc or type(exc).__name__}", permanent=False) from exc


def find_posted(
    client: WebClient,
    channel: str,
    key: str,
    since: float,
    thread_ts: str | None = None,
    *,
    max_pages: int | None = None,
) -> str | None:
    """The ts of the message carrying `key` posted after `since`, or None when the whole
    window was read and it is not there. Raises Unconfirmed when it could not be read."""
    cursor, max_pages = None, max_pages or MAX_PAGES
    for _ in range(max_pages):
        page = _page(client, channel, since, thread_ts, cursor)
        messages: list[dict[str, Any]] = page.get("messages", [])
        for message in messages:
            if (message.get("metadata") or {}).get("event_payload", {}).get("key") == key:
                return message["ts"]
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    raise Unconfirmed(f"more than {max_pages * PAGE} messages since the first attempt", permanent=True)


def post_once(
    client: WebClient,
    target: str,
    key: str,
    *,
    retry: bool,
    since: float,
    before_call: Callable[[], None] = lambda: None,
    **message: Any,
) -> tuple[str, str]:
    """Post `message` to `target` unless a post with `key` is already there; returns (channel, ts).

    `since` is when the first attempt started. `before_call` runs right before the post,
    after the channel's turn came (the outbox re-confirms its claim there, and raises if it
    lost it)."""
    channel = dm_channel(client, target)
    if retry and (ts := find_posted(client, channel, key, since - SKEW, message.get("thread_ts"))):
        return channel, ts
    # The channel's turn first, then the claim re-confirmed: waiting for Slack's rate limit
    # must not eat into the lease that fences the post (bot/slack/pacing.py).
    with pacing.turn(client, "chat.postMessage", channel):
        before_call()
        response = client.chat_postMessage(
            channel=channel, metadata={"event_type": EVENT_TYPE, "event_payload": {"key": key}}, **message
        )
    return response["channel"], response["ts"]


@dataclass
class CallbackResult:
    ok: bool
    status: int | None
    detail: str  # a sentence, for the item's error and the approval message
    permanent: bool = False  # retrying cannot help (a refused target, a redirect, a 4xx other than 408/425/429)


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP(S) to a host name, over a socket to addresses already checked: the name is not
    resolved again, while the Host header, TLS SNI and certificate check use the name."""

    def __init__(
        self, target: Target, addresses: list[tuple[int, tuple]], timeout: float, tls: ssl.SSLContext | None
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.addresses, self.tls = addresses, tls
        self.seconds = timeout  # the base class's `timeout` may be None; this connection always has one
        self.default_port = 443 if tls is not None else 80  # the Host header names the port only when not this

    def connect(self) -> None:
        deadline, failure = time.monotonic() + self.seconds, None
        for family, sockaddr in self.addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                sock.connect(sockaddr)
                sock.settimeout(self.seconds)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError as exc:
                sock.close()
                failure = exc
                if time.monotonic() >= deadline:
                    break
                continue
            self.sock = self.tls.wrap_socket(sock, server_hostname=self.host) if self.tls is not None else sock
            return
        raise failure or OSError("no address to connect to")


def post_callback(
    url: str,
    payload: dict[str, Any],
    *,
    secret: str,
    key: str,
    timeout: float,
    allow: Allowlist = NOTHING,
    resolver: Resolver = socket.getaddrinfo,
    tls: ssl.SSLContext | None = None,
) -> CallbackResult:
    """POST `payload` to `url`, signed, once. The target is checked again here (the URL was
    accepted under the rule as it was then; a name is judged only now, by every address it
    resolves to), and the connection goes to the checked addresses. A redirect is not
    followed: it could lead anywhere, a private address included."""
    try:
        target = parse_url(url)
        addresses = resolve(target, allow, resolver=resolver)  # a literal address resolves to itself
    except DomainError as exc:
        return CallbackResult(False, None, exc.message, permanent=True)
    except (OSError, UnicodeError) as exc:  # DNS down or the name unknown: may resolve later
        return CallbackResult(False, None, f"callback host {target.host} could not be resolved: {exc}")
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "otp-bot",
        "Idempotency-Key": key,
        "X-OTP-Request-Timestamp": timestamp,
        "X-OTP-Signature": signature(secret, timestamp, body),
    }
    context = (tls or ssl.create_default_context()) if target.tls else None
    connection = _PinnedConnection(target, addresses, timeout, context)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as exc:  # timeouts and TLS failures are OSErrors
        return CallbackResult(False, None, f"callback unreachable: {exc or type(exc).__name__}")
    finally:
        connection.close()
    if 200 <= status < 300:
        return CallbackResult(True, status, f"HTTP {status}")
    if 300 <= status < 400:
        return CallbackResult(
            False,
            status,
            f"callback answered a redirect (HTTP {status}); it is not followed: give the final URL",
            permanent=True,
        )
    permanent = 400 <= status < 500 and status not in (408, 425, 429)
    return CallbackResult(False, status, f"callback answered HTTP {status}", permanent)
