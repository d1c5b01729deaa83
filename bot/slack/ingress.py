"""The door of POST /slack/events: what an unauthenticated request meets before Bolt sees it.

In order, each step cheap before the next:
1. size: a declared Content-Length over the limit is refused before a byte is read, and a
   body without one (chunked) is read only up to the limit;
2. signature: Slack's v0 signature over the raw body, checked with slack-sdk's
   SignatureVerifier, after the timestamp is checked to be plain digits (a timestamp like
   `abc`, `NaN` or `1e9` is a refusal, not a crash) and no more than 5 minutes off;
3. a plain read (`/otp who-owns …`, see commands/routing.py) is answered here by the door
   (bot/slack/door.py), without Bolt and without a replay claim: the claim exists so that
   nothing runs twice, and running a read again changes nothing. A replay within the
   5 minutes shows whoever holds the signed request what the user it names may read, as of now;
   its signature and timestamp are checked all the same;
4. replay: any other signed request is handled once. Its signature is claimed in the shared
   store (every process agrees), so the same request sent again within Slack's 5-minute
   window does not run a command twice.

Then Bolt dispatches it, and the answer goes back the moment a listener acks: Bolt's sync
runner would notice the ack only at its next 10 ms poll, so the ack itself releases the
HTTP response (`_SignallingAck`), and the dispatch finishes on its own in the background.

Every refusal is one log line of bounded length naming the reason: never the body, and
header values only as escaped, shortened reprs (a newline in them cannot forge a log line).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from otp_bot.bot.slack.door import Door
from otp_bot.store.db import Database
from otp_bot.store.domain.inbound import first_request

log = logging.getLogger("otp_bot.slack.ingress")

MAX_SLACK_BODY = 1_000_000  # Slack's payloads are far smaller; refuse anything that is not Slack
MAX_AGE = 5 * 60  # Slack's own rule: a request signed more than 5 minutes from now is refused
TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would also take " 1", "١٢" and "1_0"
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
ALREADY_HANDLED = "This request was already handled; it was not run again."


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def shown(value: str | None, limit: int = 40) -> str:
    """A header value fit for a log line: escaped (no raw newline), and short."""
    return "none" if value is None else repr(value[:limit]) + ("…" if len(value) > limit else "")


class SlackIngress:
    def __init__(
        self, bolt: App, db: Database, signing_secret: str, max_bytes: int = MAX_SLACK_BODY, door: Door | None = None
    ) -> None:
        self.bolt, self.db, self.max_bytes, self.door = bolt, db, max_bytes, door
        self.verifier = SignatureVerifier(signing_secret)
        self._running: set[asyncio.Future[BoltResponse | None]] = set()

    async def __call__(self, request: Request) -> Response:
        try:
            body = await self._read(request)
            signature = self._verify(request, body)
        except Refused as refusal:
            client = request.client.host if request.client else "?"
            log.warning("refused a request to /slack/events from %s: %s", client, refusal.reason[:200])
            return Response(status_code=refusal.status, content=_REASONS.get(refusal.status, "refused"))
        if self.door is not None and (read := self.door.take(body)) is not None:
            return await self.door.answer(read)
        response = await self._dispatch(request, body, signature)
        if response is None:
            log.warning("refused a replayed Slack request (its signature was handled already)")
            return _already_handled(body)
        return to_starlette_response(response)

    async def _dispatch(self, request: Request, body: bytes, signature: str) -> BoltResponse | None:
        """Bolt's response: the listener's ack as soon as it is made, else what dispatch returns
        (no listener matched, a middleware answered, or the listener failed before acking);
        None for a replay."""
        loop = asyncio.get_running_loop()
        acked: asyncio.Future[BoltResponse | None] = loop.create_future()

        def on_ack(response: BoltResponse) -> None:  # in the listener's thread
            loop.call_soon_threadsafe(_settle, acked, response)

        bolt_request = to_bolt_request(request, body, {"ack": _SignallingAck(on_ack)})

        def claim_and_dispatch() -> BoltResponse | None:  # one worker thread for both: one hop fewer
            return self.bolt.dispatch(bolt_request) if self._first_time(signature) else None

        dispatched = asyncio.ensure_future(run_in_threadpool(claim_and_dispatch))
        # Held until it ends: after an ack, Bolt's runner is still polling for the ack it has.
        self._running.add(dispatched)
        dispatched.add_done_callback(self._running.discard)
        await asyncio.wait((acked, dispatched), return_when=asyncio.FIRST_COMPLETED)
        if acked.done():
            dispatched.add_done_callback(_log_late_failure)
            return acked.result()
        acked.cancel()
        return dispatched.result()

    async def _read(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isascii() or not declared.isdigit():
                raise Refused(400, f"Content-Length {shown(declared)} is not a number")
            if int(declared) > self.max_bytes:
                raise Refused(413, f"body of {int(declared):,} bytes declared, over the {self.max_bytes:,} limit")
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > self.max_bytes:  # chunked, or longer than declared: stop reading here
                    raise Refused(413, f"body over the {self.max_bytes:,} byte limit (read {size:,})")
                chunks.append(chunk)
        except ClientDisconnect:
            raise Refused(400, f"the client went away after {size:,} of {declared or '?'} bytes") from None
        return b"".join(chunks)

    def _verify(self, request: Request, body: bytes) -> str:
        timestamp = request.headers.get("x-slack-request-timestamp")
        signature = request.headers.get("x-slack-signature")
        if timestamp is None or signature is None:
            raise Refused(401, "not signed (no X-Slack-Request-Timestamp or X-Slack-Signature)")
        if not TIMESTAMP.fullmatch(timestamp):
            raise Refused(401, f"timestamp {shown(timestamp)} is not a Unix time in seconds")
        if abs(time.time() - int(timestamp)) > MAX_AGE:
            raise Refused(401, f"timestamp {timestamp} is more than 5 minutes from now (stale or replayed)")
        if not SIGNATURE.fullmatch(signature):
            raise Refused(401, f"signature {shown(signature, 12)} is not a v0 signature")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(401, "body is not UTF-8, so Slack did not send it") from None
        if not self.verifier.is_valid(text, timestamp, signature):
            raise Refused(401, "signature does not match the body (forged, or another app's secret)")
        return signature

    def _first_time(self, signature: str) -> bool:
        try:
            with self.db.session() as session:
                return first_request(session, signature)
        except Exception as exc:
            # The request is genuinely Slack's; with the store down its listener will say so.
            # Refusing here would turn a store hiccup into lost clicks.
            log.warning("could not check for a replay (%s); handling the request", type(exc).__name__)
            return True


class _SignallingAck(Ack):
    """Bolt's ack, telling the waiting request the moment it is made."""

    def __init__(self, on_ack: Callable[[BoltResponse], None]) -> None:
        super().__init__()
        self._on_ack = on_ack

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = super().__call__(*args, **kwargs)
        self._on_ack(response)
        return response


def _settle(acked: asyncio.Future[BoltResponse | None], response: BoltResponse) -> None:
    if not acked.done():  # a listener acks once; were it to ack again, the first ack stands
        acked.set_result(response)


def _log_late_failure(dispatched: asyncio.Future[BoltResponse | None]) -> None:
    # Bolt turns a listener's failure into a response of its own; this is Bolt itself failing.
    if not dispatched.cancelled() and (exc := dispatched.exception()) is not None:
        log.warning("Bolt's dispatch failed after the ack was sent: %s", type(exc).__name__)


_REASONS = {400: "bad request", 401: "invalid request", 413: "request too large"}


def _already_handled(body: bytes) -> Response:
    """An ack Slack would accept: a slash command shows the sentence, ephemerally."""
    if b"command=" in body and not body.lstrip().startswith(b"{"):
        return JSONResponse({"response_type": "ephemeral", "text": ALREADY_HANDLED})
    return Response(
        status_code=200, content=json.dumps({"ok": True, "note": ALREADY_HANDLED}), media_type="application/json"
    )
