"""The agent HTTP API, mounted by `otp serve` at /api/v1 beside Slack's /slack/events.

Agents authenticate with a bearer token (`otp token create`) and act as its holder: they
read the chart, push values to their seats' metrics (and to seats granted to the token),
submit drafts and wait for the human decision (or have it posted to the token's webhook),
set and lift flags, and take part in the weekly review (issues, to-dos, rocks). Errors are
problem details (problems.py); the schema is at /api/v1/openapi.json, readable at /api/v1/docs.
Endpoints are thin: every rule is in store/domain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from fastapi import Depends, FastAPI

from otp_bot.bot.agents.api import (
    briefing,
    chart,
    docs,
    drafts,
    flags,
    ledger,
    messages,
    metrics,
    problems,
    review,
    tokens,
)
from otp_bot.bot.agents.api.limits import MAX_BODY, BodyLimit
from otp_bot.bot.ops.requests import note_route
from otp_bot.bot.slack.settings import callback_allowlist
from otp_bot.store.db import Database
from otp_bot.store.domain.gate.callback_targets import Allowlist

PREFIX = "/api/v1"


def create_api(
    db: Database,
    kick: Callable[[], None] | None = None,
    *,
    stopping: threading.Event | None = None,
    max_body: int = MAX_BODY,
    callback_allow: Allowlist | None = None,
) -> FastAPI:
    """The API as an app of its own, to mount at PREFIX. `kick` wakes the outbox worker after
    a request queued something for Slack (a submitted draft's approval message); `stopping`
    is set when the server begins to stop, and long-polls then answer at once.
    `callback_allow`: the non-public callback targets drafts may name (default: OTP_CALLBACK_ALLOW)."""
    api = FastAPI(
        title="OTP bot agent API",
        version="1",
        summary="The org chart, the scorecard and the human gate, for agents.",
        description=(__doc__ or "").split("\n\n", 1)[1],
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        dependencies=[Depends(note_route)],  # log lines name the route and the draft (bot/ops)
    )
    docs.install(api)
    api.state.db = db
    api.state.kick = kick or (lambda: None)
    api.state.stopping = stopping or threading.Event()
    api.state.callback_allow = callback_allow if callback_allow is not None else callback_allowlist()
    api.add_middleware(BodyLimit, max_bytes=max_body)
    problems.install(api)
    for module in (chart, metrics, drafts, flags, messages, review, briefing, tokens, ledger):
        api.include_router(module.router)
    return api
