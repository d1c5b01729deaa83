"""The short way in for a plain read: `/otp who-owns …` answered without Bolt.

A slash command that only reads (commands/routing.py `plain_read`) needs none of what Bolt
adds: no modal, no upload, no post in a channel, nothing to claim. The ingress
(bot/slack/ingress.py) has already checked its size, timestamp and signature; this module
reads the form, runs the same `answer` the /otp listener runs (the caller resolved the same
way, by Slack id, else by profile email, with the same metrics and friendly errors) in one
hop on the work pool, and sends the listener's own payload back as the HTTP response.

What Bolt would check for such a request, and this does too:
- the app is authorised: Bolt's single-workspace authorisation calls `auth.test` once and
  keeps the result; until it has, every request goes Bolt's way, so a refusal reads the same;
- the command is `/otp` (Bolt's listener matches nothing else) and carries a `user_id`;
- the request is not Slack's `ssl_check`.
Anything else, or anything doubtful, returns None from `take` and goes to Bolt as before.

Slack's 3-second rule: if the answer is not ready within the ack budget, the HTTP response
says "Working on it…" and the answer follows to the response URL. Whichever of the request
(at the budget) and the worker (when done) comes second decides, under one lock, so the
answer goes exactly once: in the response, or to the response URL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App
from slack_bolt.middleware.authorization import SingleTeamAuthorization
from slack_sdk.webhook import WebhookClient
from starlette.responses import Response

from otp_bot.bot.ops.context import note
from otp_bot.bot.slack.app import Deps
from otp_bot.bot.slack.errors import friendly
from otp_bot.bot.slack.listeners.commands import ACK_BUDGET_SECONDS, WORKING_ON_IT, answer
from otp_bot.bot.slack.reply import answer_payload
from otp_bot.commands.parser import strip_prefix
from otp_bot.commands.routing import plain_read

log = logging.getLogger("otp_bot.slack.door")

COMMAND = "/otp"


@dataclass(frozen=True)
class PlainRead:
    user_id: str
    text: str  # without a leading `/otp`, as the listener passes it on
    response_url: str | None


class Door:
    def __init__(self, deps: Deps, bolt: App, budget: float = ACK_BUDGET_SECONDS) -> None:
        self.deps, self.budget = deps, budget
        self._authorisation = next(
            (m for m in getattr(bolt, "_middleware_list", ()) if isinstance(m, SingleTeamAuthorization)), None
        )

    def take(self, body: bytes) -> PlainRead | None:
        """The plain read a verified body is, or None when Bolt should have it."""
        # Interactions are JSON in `payload=`, events are JSON: only a form with a command can be one.
        if b"command=" not in body or body.startswith((b"{", b"payload=")) or not self._authorised():
            return None
        fields: dict[str, str] = {}
        for key, value in parse_qsl(body.decode("utf-8")):
            fields.setdefault(key, value)  # the first of a repeated field, as Bolt reads it
        if fields.get("command") != COMMAND or "ssl_check" in fields or not fields.get("user_id"):
            return None
        text = fields.get("text", "")
        if not plain_read(text):
            return None
        return PlainRead(fields["user_id"], strip_prefix(text), fields.get("response_url") or None)

    async def answer(self, read: PlainRead) -> Response:
        note(surface="slack_command")
        hand_over = _HandOver()
        done = asyncio.wrap_future(self.deps.work.submit(self._work, read, hand_over))
        await asyncio.wait((done,), timeout=self.budget)
        payload = hand_over.taken_by_request()
        if payload is None:  # the worker sends it to the response URL when it is done
            payload = {"response_type": "ephemeral", "text": WORKING_ON_IT}
        return Response(_dumps(payload), media_type="application/json")

    def _authorised(self) -> bool:
        # Bolt asks auth.test on the first request and keeps the answer; before that (or with
        # another kind of authorisation) Bolt answers, so its refusal is the only one there is.
        return self._authorisation is not None and bool(self._authorisation.auth_test_result)

    def _work(self, read: PlainRead, hand_over: _HandOver) -> None:
        try:
            reply = answer(self.deps, read.user_id, read.text, read_only=True)
            payload = answer_payload(reply, read.text, read_only=True)
        except Exception as exc:  # answer() turns failures into replies; this is a bug past it
            log.exception("a plain read failed outside its command")
            reply = friendly(exc)
            payload = {"response_type": "ephemeral", "text": reply.text, "blocks": reply.blocks}
        if not hand_over.given_by_worker(payload):
            self._send_late(read, payload)

    def _send_late(self, read: PlainRead, payload: dict[str, Any]) -> None:
        if not read.response_url:
            log.warning("a slow plain read had no response_url to follow up on")
            return
        webhook = WebhookClient(read.response_url, ssl=self.deps.client.ssl, proxy=self.deps.client.proxy)
        try:
            sent = webhook.send_dict(payload)
        except OSError as exc:
            log.warning("the slow answer could not be sent to the response URL: %s", type(exc).__name__)
            return
        if sent.status_code != 200:
            log.warning("the response URL refused the slow answer: HTTP %d", sent.status_code)


class _HandOver:
    """One answer between the request waiting for it and the worker making it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._payload: dict[str, Any] | None = None
        self._late = False

    def given_by_worker(self, payload: dict[str, Any]) -> bool:
        """True when the request still waits and will send it; False when the worker must."""
        with self._lock:
            if self._late:
                return False
            self._payload = payload
            return True

    def taken_by_request(self) -> dict[str, Any] | None:
        """At the budget: the answer if it was given, else None, and from now on it is the worker's."""
        with self._lock:
            if self._payload is None:
                self._late = True
            return self._payload


def _dumps(payload: dict[str, Any]) -> bytes:
    # As Bolt's ack sends it: no empty `blocks`, and compact, so the body stays small.
    if not payload.get("blocks"):
        payload = {key: value for key, value in payload.items() if key != "blocks"}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
