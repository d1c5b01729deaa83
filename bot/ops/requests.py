"""Each request's context, count and log line, at the two places requests enter.

`RequestScope` wraps the whole web app (plain ASGI, so nothing is buffered and long-polls and
MCP stream as before): it gives each request an id (a proxy's X-Request-ID when it is plain,
else a new one, sent back in X-Request-ID), binds it (bot/ops/context.py), and when the answer
is sent counts it by surface and outcome and logs one line with its duration.

`note_route` is a dependency of every agent API route: its log lines name the route (the
template, `/drafts/{draft_id}`, not the path) and the draft it is about.

`slack_scope` is a Bolt middleware: it names the kind of Slack request (slash command, action,
view, event) once Bolt has parsed it. Over HTTP it refines the request `RequestScope` bound;
over Socket Mode and in the console, where no HTTP request surrounds it, it binds one itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from otp_bot.bot.ops import context
from otp_bot.bot.ops.metrics import count_request

log = logging.getLogger("otp_bot.requests")

# By path: what enters where. Slack's kind is known only once its body is read and verified;
# until then (and for a request refused at the door, or a replay) it is just `slack`.
_SURFACES = (("/slack/events", "slack"), ("/api/", "api"), ("/mcp", "mcp"))
_LOGGED_PATH = 200  # characters of the path a log line keeps

_SLACK_KINDS = {
    "block_actions": "slack_action",
    "interactive_message": "slack_action",
    "shortcut": "slack_action",
    "message_action": "slack_action",
    "view_submission": "slack_view",
    "view_closed": "slack_view",
    "event_callback": "slack_event",
}


def surface_of(path: str) -> str | None:
    return next((surface for prefix, surface in _SURFACES if path.startswith(prefix)), None)


def slack_surface(body: dict[str, Any]) -> str:
    if "command" in body:
        return "slack_command"
    return _SLACK_KINDS.get(str(body.get("type")), "slack_other")


def _slack_what(body: dict[str, Any]) -> str | None:
    """For a log line: the action, view or event a request is (ids our own blocks set, or Slack's)."""
    if actions := body.get("actions"):
        return actions[0].get("action_id") if isinstance(actions[0], dict) else None
    if isinstance(view := body.get("view"), dict) and str(body.get("type")).startswith("view_"):
        return view.get("callback_id")
    if isinstance(event := body.get("event"), dict):
        return event.get("type")
    return None


class RequestScope:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = context.request_id_from(_header(scope, b"x-request-id"))
        started = time.perf_counter()
        status: int | None = None

        with context.bound(surface_of(scope.get("path", "")), request_id) as request:

            async def answer(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    # Counted as the answer starts, so whoever got it sees it counted.
                    status = message["status"]
                    MutableHeaders(scope=message).append("X-Request-ID", request_id)
                    _count(request, status, time.perf_counter() - started)
                await send(message)

            try:
                await self.app(scope, receive, answer)
            finally:
                if status is None:  # failed before answering: the server answers 500
                    _count(request, 500, time.perf_counter() - started)
                _log(scope, request, status or 500, time.perf_counter() - started)


def _count(request: context.Request, status: int, seconds: float) -> None:
    if request.surface is not None:
        count_request(request.surface, status, seconds)


def _log(scope: Scope, request: context.Request, status: int, seconds: float) -> None:
    # The path as sent (still percent-encoded: no line break can hide in it), never the query.
    raw = scope.get("raw_path") or scope.get("path", "").encode()
    path = raw.decode("ascii", "replace")[:_LOGGED_PATH]
    level = logging.INFO if request.surface is not None else logging.DEBUG  # probes and scrapes: quiet
    ms = round(seconds * 1000, 1)
    log.log(level, "%s %s %d in %.0f ms", scope.get("method", "?"), path, status, ms, extra={"duration_ms": ms})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


async def note_route(request: Request) -> None:
    route = request.scope.get("route")
    template = getattr(route, "path", None)
    context.note(
        command=f"{request.method} {template}" if template else None, draft_id=request.path_params.get("draft_id")
    )


def slack_scope(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:  # Bolt passes `next` by name
    surface, what = slack_surface(body), _slack_what(body)
    if context.current() is None:  # Socket Mode, the console: no HTTP request around this one
        with context.bound(surface, command=what):
            return next()
    context.note(surface=surface, command=what)
    return next()
