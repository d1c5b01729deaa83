"""A local stand-in for Slack's Web API, for tests.

`SlackAPI` is a real HTTP server on 127.0.0.1 (a free port) running in a background
thread. Give `api.url` to slack-sdk as `WebClient(base_url=api.url)`; every request is
recorded as a `Call`, answered with plausible JSON, and checked the way Slack checks it
(token, channel, text, Block Kit limits via `tests.support.blockkit`). Requests Slack itself would
refuse land in `api.rejections`; with `strict` (the default) leaving the `with` block, or
the `slack_api` fixture's teardown (tests/support/slack/conftest.py), fails the test if any are left, so a payload Slack
would refuse can never pass silently.

Other parts of Slack it plays:
- `api.response_url()` hands out a `response_url` on the same server (5 uses, like Slack);
- `files.getUploadURLExternal` hands out an upload URL on the same server that keeps the
  bytes (`api.files[file_id].content`);
- `api.fail_next(method, ...)` queues HTTP 429/5xx answers, `ok: false` errors or delays;
- `api.delay(method, seconds)` answers every call to a method late (a slow Slack: the
  work is done at once, the answer comes later, as when Slack is slow to respond);
- `api.outage(...)` fails every call (or some methods' calls) for a while or for a number
  of calls: HTTP 429, a 5xx, or a dropped connection, without doing the work;
- `api.enforce_post_rate(per_second, burst)` answers posts to a channel faster than Slack's
  posting limit with 429 and Retry-After (off by default);
- `api.scopes`, `api.member_of`, `api.channels`: the token's scopes (sent in `x-oauth-scopes`,
  and checked), the channels the bot is in, what `conversations.info` says (`workspace`).

The parts: `calls` (a recorded request and its answer), `faults` (failure injection), `payloads`
(messages and views checked as Slack checks them),
`wire` (the HTTP server and reading requests as Slack reads them), `web_methods` (what each
method answers), `workspace` (scopes and channel membership).

Design follows bolt-python's `tests/mock_web_api_server` (a handler class on an
`http.server` in a thread), with per-instance state instead of class-level state so
tests can run side by side.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import traceback
import uuid
from collections import defaultdict, deque
from collections.abc import Iterable
from typing import Any

from tests.support.slack.calls import Call, Reply
from tests.support.slack.faults import Failure, FaultInjection, Outage, failure_reply
from tests.support.slack.payloads import PayloadChecks
from tests.support.slack.web_methods import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    METHODS,
    TEAM_ID,
    Refused,
    UploadedFile,
    WebMethods,
)
from tests.support.slack.wire import StandInHandler, StandInServer, parse_args
from tests.support.slack.workspace import MANIFEST_SCOPES, Workspace

# The one workspace the stand-in pretends to be; signing.py sends the same ids.

RESPONSE_URL_USES = 5  # Slack: a response_url works up to 5 times within 30 minutes

# Lookups of data the test configures: a miss is an ordinary answer, not a malformed
# request, so it does not count as a rejection.
LOOKUP_ERRORS = frozenset({"user_not_found", "users_not_found", "no_such_subteam"})


ALL_METHODS = METHODS | {
    "conversations.info": Workspace.conversations_info,
    "apps.connections.open": Workspace.apps_connections_open,
}
TOKEN_REFUSALS = frozenset({"not_authed", "invalid_auth", "not_allowed_token_type"})


class SlackAPI(FaultInjection, PayloadChecks, WebMethods, Workspace):
    """A recording, validating stand-in for the Slack Web API on a local port.

    Usable as `with SlackAPI() as api: ...` or through the `slack_api` fixture below.
    Configuration a test may set at any time: `users`, `usergroups`, `tokens`, `app_tokens`,
    `strict`, `scopes`, `member_of`, `channels`.
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
        self.app_tokens: set[str] | None = None  # None: any app-level token (`xapp-...`)
        self.scopes: set[str] = set(MANIFEST_SCOPES)
        self.member_of: set[str] | None = None
        self.channels: dict[str, dict[str, Any]] = {}

        self.calls: list[Call] = []
        self.rejections: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)  # channel -> oldest first
        self.views: dict[str, dict[str, Any]] = {}
        self.home: dict[str, dict[str, Any]] = {}  # user id -> published Home tab
        self.files: dict[str, UploadedFile] = {}
        self.response_url_uses: dict[str, int] = {}

        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._delays: dict[str, float] = {}
        self._outages: list[Outage] = []
        self._post_rate: tuple[float, int] | None = None
        self._post_buckets: dict[str, tuple[float, float]] = {}
        self._used_triggers: set[str] = set()
        self._last_ts = 0.0
        self._id_counter = itertools.count(1)
        self._closing = threading.Event()
        self._closed = False

        self._server = StandInServer(("127.0.0.1", 0), StandInHandler)
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
            self._post_rate = None
            self._post_buckets.clear()
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
                        f"expected {count} call(s) to {method} within {timeout}s, got {len(found)}; "
                        f"calls so far:\n{seen}"
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

    # ---- request handling (called from server threads) ---------------------------------

    def _handle(self, path: str, headers: dict[str, str], query: str, raw: bytes) -> Reply:
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "api":
            method, target = parts[1], None
        elif len(parts) == 2 and parts[0] in ("response", "upload"):
            method, target = f"{parts[0]}_url", parts[1]
        else:  # recorded and rejected, so a wrong base_url shows up in the test's failure
            method, target = f"unknown:{path}", None

        try:
            args = parse_args(headers, query, raw) if method != "upload_url" else {}
            bad_json = None
        except ValueError as e:
            args, bad_json = {"_raw": raw.decode("utf-8", "replace")}, str(e)

        with self._lock:
            call = Call(method, args, headers, time.time(), path=path)
            failure = self._failures[method].popleft() if self._failures.get(method) else None
            if failure is None:
                outage = next((o for o in self._outages if o.covers(method)), None)
                failure = outage.failure() if outage is not None else None
            if failure is None and method == "chat.postMessage" and bad_json is None:
                failure = self._over_post_rate(str(args.get("channel") or ""))
            rejected = False
            if failure is not None:
                call.failed = failure.describe()
            if failure is not None and failure.status == 0:
                reply = Reply(0, {}, drop=True)
            elif failure is not None and failure.breaks:
                reply = failure_reply(failure)
            else:
                try:
                    if bad_json is not None:
                        raise Refused("invalid_json", detail=bad_json)
                    reply = self._answer(method, target, call, raw)
                except Refused as r:
                    reply = Reply(r.status, {"ok": False, "error": r.error, **r.extra})
                    rejected = not r.expected and r.error not in LOOKUP_ERRORS
                except Exception:  # a bug here, or a payload shape nobody expected: fail loudly
                    reply = Reply(500, {"ok": False, "error": "stand_in_crashed", "detail": traceback.format_exc()})
                    rejected = True
            reply.delay = max(failure.delay if failure is not None else 0.0, self._delays.get(method, 0.0))
            if method in ALL_METHODS and not reply.drop and reply.json.get("error") not in TOKEN_REFUSALS:
                reply.headers.setdefault("x-oauth-scopes", ",".join(sorted(self.scopes)))  # as Slack answers
            call.status, call.response = reply.status, reply.json
            self.calls.append(call)
            if rejected:
                self.rejections.append(call)
            self._changed.notify_all()
        return reply

    def _answer(self, method: str, target: str | None, call: Call, raw: bytes) -> Reply:
        if method == "response_url":
            return self._post_to_response_url(target or "", call.args)
        if method == "upload_url":
            return self._upload(target or "", call, raw)
        if method.startswith("unknown:"):
            raise Refused("unknown_path", status=404)
        self._check_token(call)
        self._check_scope(method, call.args)
        self._check_member(method, call.args)
        handler = ALL_METHODS.get(method)
        body = handler(self, call.args) if handler else {"ok": True}
        return Reply(200, body)

    def _check_token(self, call: Call) -> None:
        token = call.token
        if not token:
            raise Refused("not_authed")  # Slack's answer when no token was sent at all
        if call.method == "apps.connections.open" or token.startswith("xapp-"):
            # An app-level token opens Socket Mode connections and nothing else; a bot token cannot.
            if call.method != "apps.connections.open" or not token.startswith("xapp-"):
                raise Refused("not_allowed_token_type")
            if self.app_tokens is not None and token not in self.app_tokens:
                raise Refused("invalid_auth", expected=True)
            return
        if self.tokens is None:
            if not token.startswith("xoxb-"):
                raise Refused("invalid_auth")
        elif token not in self.tokens:
            raise Refused("invalid_auth")

    # ---- helpers for method handlers (hold self._lock) ---------------------------------

    def _next_ts(self) -> str:
        # Like Slack: the time of posting, unique and increasing within the workspace (so
        # `oldest` filters on history work as they do against Slack).
        self._last_ts = max(time.time(), self._last_ts + 0.0001)
        return f"{self._last_ts:.6f}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._id_counter):09d}"

    def _find_message(self, channel: str, ts: str) -> dict[str, Any]:
        if channel not in self.messages:
            raise Refused("channel_not_found")
        for m in self.messages[channel]:
            if m["ts"] == ts:
                return m
        raise Refused("message_not_found")

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

    def _post_to_response_url(self, token: str, body: dict[str, Any]) -> Reply:
        if token not in self.response_url_uses:
            raise Refused("invalid_url", status=404)
        if self.response_url_uses[token] >= RESPONSE_URL_USES:
            raise Refused("used_url", status=404)
        if not body.get("delete_original"):
            try:
                self._check_message(body)
            except Refused as r:
                raise Refused(r.error, status=400, **r.extra) from None
        self.response_url_uses[token] += 1
        return Reply(200, {"ok": True})

    def _upload(self, file_id: str, call: Call, raw: bytes) -> Reply:
        f = self.files.get(file_id)
        if f is None:
            raise Refused("file_not_found", status=404)
        f.content = raw
        call.args = {
            "file_id": file_id,
            "filename": f.filename,
            "length": f.length,
            "size": len(raw),
            "content_type": call.headers.get("content-type", ""),
        }
        # files.slack.com answers in plain text; slack-sdk only looks at the status.
        return Reply(200, {"ok": True}, headers={"Content-Type": "text/plain"}, raw=f"OK - {len(raw)}".encode())


def _short(args: dict[str, Any], limit: int = 300) -> str:
    text = json.dumps(args, default=str)
    return text if len(text) <= limit else text[:limit] + "..."
