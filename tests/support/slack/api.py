"""A local stand-in for Slack's Web API, for tests.

`SlackAPI` is a real HTTP server on 127.0.0.1 (a free port) running in a background
thread. Give `api.url` to slack-sdk as `WebClient(base_url=api.url)`; every request is
recorded as a `Call`, answered with plausible JSON, and checked the way Slack checks it
(token, channel, text, Block Kit limits via `tests.blockkit`). Requests Slack itself would
refuse land in `api.rejections`; with `strict` (the default) leaving the `with` block, or
the `slack_api` fixture's teardown, fails the test if any are left, so a payload Slack
would refuse can never pass silently.

Other parts of Slack it plays:
- `api.response_url()` hands out a `response_url` on the same server (5 uses, like Slack);
- `files.getUploadURLExternal` hands out an upload URL on the same server that keeps the
  bytes (`api.files[file_id].content`);
- `api.fail_next(method, ...)` queues HTTP 429/5xx answers, `ok: false` errors or delays;
- `api.delay(method, seconds)` answers every call to a method late (a slow Slack: the
  work is done at once, the answer comes later, as when Slack is slow to respond);
- `api.outage(...)` fails every call (or some methods' calls) for a while or for a number
  of calls: HTTP 429, a 5xx, or a dropped connection, without doing the work.

Design follows bolt-python's `tests/mock_web_api_server` (a handler class on an
`http.server` in a thread), with per-instance state instead of class-level state so
tests can run side by side.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
import traceback
import uuid
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .blockkit import LIMITS, problems
from .slack_web_methods import (  # noqa: F401 - constants re-exported for tests
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    METHODS,
    TEAM_DOMAIN,
    TEAM_ID,
    UploadedFile,
    WebMethods,
    _flag,
    _Refused,
)

# The one workspace the stand-in pretends to be; tests/signing.py sends the same ids.

RESPONSE_URL_USES = 5  # Slack: a response_url works up to 5 times within 30 minutes
MODAL_TEXT_LIMIT = 24  # modal title / submit / close
PRIVATE_METADATA_LIMIT = 3000

# Fields slack-sdk (or a hand-made form post) may send as a JSON *string*: decoded so
# that tests and checks always see Python objects.
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "metadata", "files", "unfurls", "user_auth_blocks"})

# Lookups of data the test configures: a miss is an ordinary answer, not a malformed
# request, so it does not count as a rejection.
LOOKUP_ERRORS = frozenset({"user_not_found", "users_not_found", "no_such_subteam"})


@dataclass
class Call:
    """One request the stand-in received.

    `method` is the Web API method (`chat.postMessage`), or `response_url` / `upload_url`
    for posts to the URLs the stand-in hands out. `headers` has lower-case names.
    `failed` describes the injected failure that answered it (`"http 429"`,
    `"error ratelimited"`, `"delay 3.0s"`), None for a normal answer.
    """

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float
    failed: str | None = None
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return self.response.get("error")

    @property
    def token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        token = self.args.get("token")
        return token if isinstance(token, str) else None

    def __str__(self) -> str:
        outcome = "ok" if self.ok else f"{self.status} {self.error}"
        extra = f" errors={self.response['errors']}" if self.response.get("errors") else ""
        return f"{self.method} -> {outcome}{extra}" + (f" [{self.failed}]" if self.failed else "")


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    delay: float
    error: str | None

    @property
    def breaks(self) -> bool:
        """Whether the call is answered with the failure instead of its normal answer."""
        return self.status != 200 or self.error is not None

    def describe(self) -> str:
        if self.status == 0:
            return "connection dropped"
        parts = []
        if self.delay:
            parts.append(f"delay {self.delay}s")
        if self.status != 200:
            parts.append(f"http {self.status}")
        if self.error:
            parts.append(f"error {self.error}")
        return ", ".join(parts)


@dataclass
class _Outage:
    methods: frozenset[str] | None  # None: every Web API method
    kind: str  # "429", a 5xx status as text, or "drop" (the connection closes without an answer)
    until: float | None  # time.monotonic() it ends at
    calls_left: int | None

    def covers(self, method: str) -> bool:
        if self.until is not None and time.monotonic() >= self.until:
            return False
        if self.calls_left is not None and self.calls_left <= 0:
            return False
        if method in ("response_url", "upload_url") or method.startswith("unknown:"):
            return False
        return self.methods is None or method in self.methods

    def failure(self) -> _Failure:
        if self.calls_left is not None:
            self.calls_left -= 1
        if self.kind == "drop":
            return _Failure(0, None, 0.0, None)
        status = int(self.kind)
        return _Failure(status, 1 if status == 429 else None, 0.0, None)


@dataclass
class _Reply:
    status: int
    json: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a non-JSON body (the upload URL answers plain text)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering

    def body(self) -> bytes:
        return self.raw if self.raw is not None else json.dumps(self.json).encode()


class SlackAPI(WebMethods):
    """A recording, validating stand-in for the Slack Web API on a local port.

    Usable as `with SlackAPI() as api: ...` or through the `slack_api` fixture below.
    Configuration a test may set at any time: `users`, `usergroups`, `tokens`, `strict`.
    """

    def __init__(
        self,
        *,
        tokens: Iterable[str] | None = None,
        strict: bool = True,
        users: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        # None: accept any bot token (`xoxb-...`), as a test rarely cares which one.
        self.tokens: set[str] | None = set(tokens) if tokens is not None else None
        self.strict = strict
        self.users: dict[str, dict[str, Any]] = dict(users or {})
        self.usergroups: dict[str, list[str]] = {}

        self.calls: list[Call] = []
        self.rejections: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)  # channel -> oldest first
        self.views: dict[str, dict[str, Any]] = {}
        self.home: dict[str, dict[str, Any]] = {}  # user id -> published Home tab
        self.files: dict[str, UploadedFile] = {}
        self.response_url_uses: dict[str, int] = {}

        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._delays: dict[str, float] = {}
        self._outages: list[_Outage] = []
        self._used_triggers: set[str] = set()
        self._last_ts = 0.0
        self._id_counter = itertools.count(1)
        self._closing = threading.Event()
        self._closed = False

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        host, port = self._server.server_address[:2]
        self.root = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"slack-api-{port}", daemon=True
        )
        self._thread.start()

    # ---- URLs -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL for `WebClient(base_url=...)`. It ends with "/" because slack-sdk joins
        it with the method name by `urljoin`, which drops a last segment without one
        (WebClient adds the slash itself; other clients may not)."""
        return f"{self.root}/api/"

    def response_url(self, token: str | None = None) -> str:
        """A response_url on this server; POSTs to it are recorded as `response_url` calls."""
        token = token or uuid.uuid4().hex[:16]
        with self._lock:
            self.response_url_uses.setdefault(token, 0)
        return f"{self.root}/response/{token}"

    # ---- lifecycle --------------------------------------------------------------------

    def __enter__(self) -> SlackAPI:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        # Do not hide the test's own failure behind a list of rejections.
        self.close(check=exc_type is None)

    def close(self, *, check: bool = True) -> None:
        """Stop the server (promptly: delayed answers are cut short), then, if `strict`
        and `check`, fail when any request was rejected."""
        if not self._closed:
            self._closed = True
            self._closing.set()
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
        if check and self.strict:
            self.assert_no_rejections()

    def assert_no_rejections(self) -> None:
        with self._lock:
            found = list(self.rejections)
        assert not found, "Slack would have refused these calls:\n" + "\n".join(
            f"  {c}  args={_short(c.args)}" for c in found
        )

    def take_rejections(self) -> list[Call]:
        """Return and forget the rejections so far (for tests that provoke them on purpose)."""
        with self._lock:
            found, self.rejections[:] = list(self.rejections), []
        return found

    def reset(self, *, keep_messages: bool = False) -> None:
        """Forget recorded traffic and Slack-side state (messages, views, files, queued
        failures, response_url counts); keep the configuration (users, usergroups, tokens).
        `keep_messages` keeps posted messages, as Slack does, for an app that may still
        update what an earlier test posted."""
        with self._lock:
            self.calls.clear()
            self.rejections.clear()
            if not keep_messages:
                self.messages.clear()
            self.views.clear()
            self.home.clear()
            self.files.clear()
            self.response_url_uses.clear()
            self._failures.clear()
            self._delays.clear()
            self._outages.clear()
            self._used_triggers.clear()

    # ---- inspection -------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until at least `count` calls to `method` arrived; return all of them.
        For work the app does after its 3-second ack (threads, lazy listeners)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.calls if c.method == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = "\n".join(f"  {c}" for c in self.calls) or "  (none)"
                    raise AssertionError(
                        f"expected {count} call(s) to {method} within {timeout}s, got {len(found)}; calls so far:\n{seen}"
                    )
                self._changed.wait(left)

    def history(self, channel: str) -> list[dict[str, Any]]:
        """Messages posted to `channel`, oldest first (metadata included)."""
        with self._lock:
            return [dict(m) for m in self.messages.get(channel, [])]

    def add_message(self, channel: str, text: str, **fields: Any) -> str:
        """Seed a message as if it had been posted earlier (e.g. by the bot before a
        restart); returns its ts."""
        with self._lock:
            ts = self._next_ts()
            self.messages[channel].append(
                {
                    "type": "message",
                    "user": BOT_USER_ID,
                    "bot_id": BOT_ID,
                    "app_id": APP_ID,
                    "team": TEAM_ID,
                    "text": text,
                    "ts": ts,
                    **fields,
                }
            )
            return ts

    # ---- failure injection ------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        retry_after: int | None = None,
        delay: float = 0.0,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls to `method` fail.

        status=429: HTTP 429 with `Retry-After: retry_after` (default 1) and error ratelimited;
        status=5xx: that status; error="...": HTTP 200 with ok=false and that error;
        delay=seconds: answer that much later (normally, unless status/error is also given).
        """
        if status == 200 and error is None and not delay:
            raise ValueError("fail_next needs status, error or delay")
        if retry_after is not None and not isinstance(retry_after, int):
            # slack-sdk's RateLimitErrorRetryHandler does int(header): "1.5" would crash it.
            raise TypeError("Retry-After is whole seconds")
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            for _ in range(times):
                self._failures[method].append(_Failure(status, retry_after, delay, error))

    def delay(self, method: str, seconds: float) -> None:
        """Answer every call to `method` `seconds` late (0: on time again). The work is done
        when the call arrives; only the answer waits, as when Slack is slow to respond."""
        with self._lock:
            if seconds:
                self._delays[method] = seconds
            else:
                self._delays.pop(method, None)

    def outage(
        self, *methods: str, seconds: float | None = None, calls: int | None = None, kind: str | int = 500
    ) -> None:
        """Fail calls (to `methods`, or to every Web API method) for `seconds` from now or
        for the next `calls` calls, without doing their work: kind 429 (Retry-After: 1),
        a 5xx status, or "drop" (the connection is closed without an answer)."""
        if seconds is None and calls is None:
            raise ValueError("an outage needs seconds or calls")
        kind = str(kind)
        if kind != "drop" and not (kind == "429" or kind.startswith("5")):
            raise ValueError("kind is 429, a 5xx status or 'drop'")
        until = time.monotonic() + seconds if seconds is not None else None
        with self._lock:
            self._outages.append(_Outage(frozenset(methods) or None, kind, until, calls))

    def end_outage(self) -> None:
        with self._lock:
            self._outages.clear()

    # ---- request handling (called from server threads) ---------------------------------

    def _handle(self, path: str, headers: dict[str, str], query: str, raw: bytes) -> _Reply:
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "api":
            method, target = parts[1], None
        elif len(parts) == 2 and parts[0] in ("response", "upload"):
            method, target = f"{parts[0]}_url", parts[1]
        else:  # recorded and rejected, so a wrong base_url shows up in the test's failure
            method, target = f"unknown:{path}", None

        try:
            args = _parse_args(headers, query, raw) if method != "upload_url" else {}
            bad_json = None
        except ValueError as e:
            args, bad_json = {"_raw": raw.decode("utf-8", "replace")}, str(e)

        with self._lock:
            call = Call(method, args, headers, time.time(), path=path)
            failure = self._failures[method].popleft() if self._failures.get(method) else None
            if failure is None:
                outage = next((o for o in self._outages if o.covers(method)), None)
                failure = outage.failure() if outage is not None else None
            rejected = False
            if failure is not None:
                call.failed = failure.describe()
            if failure is not None and failure.status == 0:
                reply = _Reply(0, {}, drop=True)
            elif failure is not None and failure.breaks:
                reply = _failure_reply(failure)
            else:
                try:
                    if bad_json is not None:
                        raise _Refused("invalid_json", detail=bad_json)
                    reply = self._answer(method, target, call, raw)
                except _Refused as r:
                    reply = _Reply(r.status, {"ok": False, "error": r.error, **r.extra})
                    rejected = r.error not in LOOKUP_ERRORS
                except Exception:  # a bug here, or a payload shape nobody expected: fail loudly
                    reply = _Reply(500, {"ok": False, "error": "stand_in_crashed", "detail": traceback.format_exc()})
                    rejected = True
            reply.delay = max(failure.delay if failure is not None else 0.0, self._delays.get(method, 0.0))
            call.status, call.response = reply.status, reply.json
            self.calls.append(call)
            if rejected:
                self.rejections.append(call)
            self._changed.notify_all()
        return reply

    def _answer(self, method: str, target: str | None, call: Call, raw: bytes) -> _Reply:
        if method == "response_url":
            return self._post_to_response_url(target or "", call.args)
        if method == "upload_url":
            return self._upload(target or "", call, raw)
        if method.startswith("unknown:"):
            raise _Refused("unknown_path", status=404)
        self._check_token(call)
        handler = METHODS.get(method)
        body = handler(self, call.args) if handler else {"ok": True}
        return _Reply(200, body)

    def _check_token(self, call: Call) -> None:
        token = call.token
        if not token:
            raise _Refused("not_authed")  # Slack's answer when no token was sent at all
        if self.tokens is None:
            if not token.startswith("xoxb-"):
                raise _Refused("invalid_auth")
        elif token not in self.tokens:
            raise _Refused("invalid_auth")

    # ---- helpers for method handlers (hold self._lock) ---------------------------------

    def _next_ts(self) -> str:
        # Like Slack: the time of posting, unique and increasing within the workspace (so
        # `oldest` filters on history work as they do against Slack).
        self._last_ts = max(time.time(), self._last_ts + 0.0001)
        return f"{self._last_ts:.6f}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._id_counter):09d}"

    def _check_message(self, args: dict[str, Any]) -> None:
        text = args.get("text") or args.get("markdown_text")
        blocks, attachments = args.get("blocks"), args.get("attachments")
        if not text and not blocks and not attachments:
            raise _Refused("no_text")
        if blocks is not None:
            if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
                raise _Refused("invalid_blocks_format")
            found = _block_problems({"text": text or "", "blocks": blocks}, view=False)
            if found:
                raise _Refused("invalid_blocks", errors=found)
        elif text and len(text) > LIMITS["message_text"] * 10:
            raise _Refused("msg_too_long")

    def _check_view(self, view: Any, *, kinds: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(view, dict):
            raise _Refused("invalid_arguments", response_metadata={"messages": ["[ERROR] missing view"]})
        found: list[str] = []
        if view.get("type") not in kinds:
            found.append(f"view type must be one of {kinds}")
        blocks = view.get("blocks")
        if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
            found.append("blocks must be a list of objects")
        else:
            found += _block_problems(view, view=True)
        if view.get("type") == "modal":
            for key in ("title", "submit", "close"):
                text = (view.get(key) or {}).get("text", "")
                if len(text) > MODAL_TEXT_LIMIT:
                    found.append(f"{key} over {MODAL_TEXT_LIMIT} characters")
            if not view.get("title"):
                found.append("modal without title")
        if len(view.get("private_metadata") or "") > PRIVATE_METADATA_LIMIT:
            found.append(f"private_metadata over {PRIVATE_METADATA_LIMIT} characters")
        if len(view.get("callback_id") or "") > LIMITS["id"]:
            found.append("callback_id over 255 characters")
        if found:
            raise _Refused(
                "invalid_arguments", errors=found, response_metadata={"messages": [f"[ERROR] {p}" for p in found]}
            )
        return view

    def _view_record(self, view: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        view_id = view_id or self._next_id("V")
        previous = self.views.get(view_id, {})
        record = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view.get("type"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{time.time():.6f}.{uuid.uuid4().hex[:8]}",
            "title": view.get("title"),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "clear_on_close": bool(view.get("clear_on_close")),
            "notify_on_close": bool(view.get("notify_on_close")),
            "external_id": view.get("external_id", ""),
            "previous_view_id": previous.get("previous_view_id"),
            "root_view_id": previous.get("root_view_id", view_id),
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        self.views[view_id] = record
        return record

    def _find_message(self, channel: str, ts: str) -> dict[str, Any]:
        if channel not in self.messages:
            raise _Refused("channel_not_found")
        for m in self.messages[channel]:
            if m["ts"] == ts:
                return m
        raise _Refused("message_not_found")

    def _user(self, user_id: str) -> dict[str, Any]:
        conf = self.users[user_id]
        profile_keys = {"email", "display_name", "real_name", "title", "phone", "image_72", "status_text"}
        profile = {
            "real_name": conf.get("real_name", ""),
            "display_name": conf.get("display_name", ""),
            **{k: v for k, v in conf.items() if k in profile_keys},
        }
        return {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": conf.get("name", user_id.lower()),
            "deleted": False,
            "real_name": conf.get("real_name", ""),
            "tz": "Europe/London",
            "tz_offset": 0,
            "is_bot": False,
            "is_admin": False,
            "updated": 1_700_000_000,
            **{k: v for k, v in conf.items() if k not in profile_keys},
            "profile": profile,
        }

    # ---- the URLs handed out --------------------------------------------------------------

    def _post_to_response_url(self, token: str, body: dict[str, Any]) -> _Reply:
        if token not in self.response_url_uses:
            raise _Refused("invalid_url", status=404)
        if self.response_url_uses[token] >= RESPONSE_URL_USES:
            raise _Refused("used_url", status=404)
        if not body.get("delete_original"):
            try:
                self._check_message(body)
            except _Refused as r:
                raise _Refused(r.error, status=400, **r.extra) from None
        self.response_url_uses[token] += 1
        return _Reply(200, {"ok": True})

    def _upload(self, file_id: str, call: Call, raw: bytes) -> _Reply:
        f = self.files.get(file_id)
        if f is None:
            raise _Refused("file_not_found", status=404)
        f.content = raw
        call.args = {
            "file_id": file_id,
            "filename": f.filename,
            "length": f.length,
            "size": len(raw),
            "content_type": call.headers.get("content-type", ""),
        }
        # files.slack.com answers in plain text; slack-sdk only looks at the status.
        return _Reply(200, {"ok": True}, headers={"Content-Type": "text/plain"}, raw=f"OK - {len(raw)}".encode())


def serve(**kwargs: Any) -> Iterator[SlackAPI]:
    """For fixtures: `yield from serve()`; teardown fails the test on rejections (strict)."""
    with SlackAPI(**kwargs) as api:
        yield api


@pytest.fixture
def slack_api() -> Iterator[SlackAPI]:
    """A fresh SlackAPI per test. Import it into a conftest.py or test module to use it."""
    yield from serve()


# ---- HTTP plumbing ---------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler still sleeping in a delay must not hold up close()
    api: SlackAPI

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up mid-answer is expected in failure tests.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:  # slack-sdk always POSTs, but a GET with a query string is valid Slack too
        self._serve()

    def _serve(self) -> None:
        api = self.server.api
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = api._handle(split.path, headers, split.query, raw)
        if reply.delay:
            api._closing.wait(reply.delay)  # close() cuts a delay short
        if reply.drop:
            self.close_connection = True  # hang up without a word, as a dropped connection does
            return
        body = reply.body()
        out_headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
        try:
            self.send_response(reply.status)
            for name, value in out_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean; the calls are recorded instead


def _failure_reply(failure: _Failure) -> _Reply:
    if failure.status == 429:
        return _Reply(
            429,
            {"ok": False, "error": failure.error or "ratelimited"},
            headers={"Retry-After": str(failure.retry_after)},
        )
    if failure.status != 200:
        return _Reply(failure.status, {"ok": False, "error": failure.error or "internal_error"})
    return _Reply(200, {"ok": False, "error": failure.error})


def _parse_args(headers: dict[str, str], query: str, raw: bytes) -> dict[str, Any]:
    """Arguments as Slack reads them: query string, then a JSON, form or multipart body."""
    args: dict[str, Any] = _form(query)
    ctype = headers.get("content-type", "")
    kind = ctype.split(";")[0].strip().lower()
    if kind == "application/json":
        if raw.strip():
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("JSON body is not an object")
            args.update(body)
    elif kind == "multipart/form-data":
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + raw
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            args[str(name)] = payload if part.get_filename() else payload.decode("utf-8", "replace")
    elif raw:
        args.update(_form(raw.decode("utf-8")))
    for key in JSON_FIELDS & args.keys():
        value = args[key]
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            try:
                args[key] = json.loads(value)
            except json.JSONDecodeError:
                pass  # left as a string: the checks then refuse it as Slack would
    return args


def _form(text: str) -> dict[str, Any]:
    parsed = parse_qs(text, keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


def _block_problems(payload: dict[str, Any], *, view: bool) -> list[str]:
    try:
        return problems(payload, view=view)
    except (KeyError, TypeError, AttributeError) as e:
        return [f"malformed block: {type(e).__name__} {e}"]


def _short(args: dict[str, Any], limit: int = 300) -> str:
    text = json.dumps(args, default=str)
    return text if len(text) <= limit else text[:limit] + "..."
