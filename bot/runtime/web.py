"""The HTTP app served by `otp serve`: Slack at POST /slack/events, health at GET /healthz,
the agent API under /api/v1 (bot/agents/api), MCP at /mcp (bot/agents/mcp), and GET /metrics
(bot/ops: each request counted and logged with its id on the way through).

Bolt's sync dispatch waits for the listener's ack; it runs in Starlette's worker
threads so the event loop keeps accepting requests meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt import App
from sqlalchemy import text

from otp_bot.bot.agents.api import PREFIX as API_PREFIX
from otp_bot.bot.agents.api import create_api
from otp_bot.bot.agents.mcp.http_endpoint import HttpEndpoint
from otp_bot.bot.ops import exposition
from otp_bot.bot.ops.requests import RequestScope
from otp_bot.bot.runtime.scheduler import RhythmScheduler
from otp_bot.bot.runtime.worker import OutboxWorker
from otp_bot.bot.slack.ingress import SlackIngress
from otp_bot.store.db import Database
from otp_bot.store.domain.gate.callback_targets import Allowlist


def create_web_app(
    db: Database,
    bolt: App | None,
    worker: OutboxWorker | None = None,
    scheduler: RhythmScheduler | None = None,
    *,
    signing_secret: str = "",
    callback_allow: Allowlist | None = None,
    metrics: exposition.MetricsSettings | None = None,
) -> FastAPI:
    """`signing_secret` is Slack's, for the door of /slack/events (bot/slack/ingress.py);
    `metrics`: GET /metrics's token and store reading (default: OTP_METRICS_*)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The outbox worker lives as long as the server: it posts approval messages for
        # drafts any process submits, and delivers what people approve.
        if worker is not None:
            worker.start()
        if scheduler is not None:  # the briefing and scorecard posts, on schedule
            scheduler.start()
        async with mcp.running():
            yield
        if scheduler is not None:
            scheduler.stop()
        if worker is not None:
            worker.stop()

    web = FastAPI(title="OTP bot", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    web.add_middleware(RequestScope)
    exposition.install(web, db, metrics or exposition.MetricsSettings())

    @web.get("/healthz")
    def healthz() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
            current, head = db.current_revision(), db.head_revision()
            checks["migrations"] = (
                "current" if current == head else f"at {current or 'empty'}, need {head}: run `otp db upgrade`"
            )
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        healthy = checks.get("database") == "ok" and checks.get("migrations") == "current"
        return JSONResponse({"status": "ok" if healthy else "unhealthy", **checks}, status_code=200 if healthy else 503)

    # Set when a stop begins (see `serve`): long-polls answer then instead of holding the stop.
    web.state.stopping = threading.Event()
    # Drafts submitted over the API and MCP are checked against the worker's allow-list: the one it delivers by.
    if callback_allow is None and worker is not None:
        callback_allow = worker.allow
    web.mount(
        API_PREFIX,
        create_api(
            db, worker.kick if worker is not None else None, stopping=web.state.stopping, callback_allow=callback_allow
        ),
    )
    # MCP over streamable HTTP: the same tools as `otp mcp`, each request with its own token.
    mcp = HttpEndpoint(db, worker.kick if worker is not None else None, callback_allow=callback_allow)
    # Starlette serves any endpoint that is not a function or method as an ASGI app, as this one
    # is; `add_route`'s annotation names only request handlers.
    web.add_route(mcp.path, mcp, methods=["GET", "POST", "DELETE"])  # type: ignore[arg-type]

    if bolt is not None:
        if not signing_secret:
            raise ValueError("serving Slack needs its signing secret")
        ingress = SlackIngress(bolt, db, signing_secret)

        @web.post("/slack/events")
        async def slack_events(request: Request) -> Response:
            return await ingress(request)

    return web


def serve(web: FastAPI, host: str, port: int) -> None:
    """Run the app as `otp serve` does. uvicorn lets requests in flight finish before it
    stops; a long-poll would hold that up for a minute, so it is told the stop began."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            web.state.stopping.set()
            super().handle_exit(sig, frame)

    # log_config=None: uvicorn's lines go through our log (bot/ops/logs.py), in its format.
    config = uvicorn.Config(web, host=host, port=port, log_level="warning", access_log=False, log_config=None)
    Server(config).run()
