"""The HTTP app served by `otp serve`: Slack at POST /slack/events, GET /healthz and
GET /readyz (bot/ops/health.py), the agent API under /api/v1 (bot/agents/api), MCP at /mcp
(bot/agents/mcp), and GET /metrics (bot/ops: each request counted and logged with its id on
the way through).

Bolt's sync dispatch waits for the listener's ack; it runs in Starlette's worker
threads so the event loop keeps accepting requests meanwhile.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from types import FrameType

from fastapi import FastAPI
from slack_bolt import App

from otp_bot.bot.agents.api import PREFIX as API_PREFIX
from otp_bot.bot.agents.api import create_api
from otp_bot.bot.agents.mcp.http_endpoint import HttpEndpoint
from otp_bot.bot.ops import exposition
from otp_bot.bot.ops.health import Readiness, add_health_routes
from otp_bot.bot.ops.requests import RequestScope
from otp_bot.bot.ops.shutdown import RefuseWhileStopping
from otp_bot.bot.runtime.scheduler import RhythmScheduler
from otp_bot.bot.runtime.worker import OutboxWorker
from otp_bot.bot.slack.door import Door
from otp_bot.bot.slack.ingress import SlackIngress
from otp_bot.bot.slack.reach import Reachability
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
    slack: Reachability | None = None,
    pools: Sequence[Executor] = (),
    metrics: exposition.MetricsSettings | None = None,
    door: Door | None = None,
) -> FastAPI:
    """`signing_secret` is Slack's, for the door of /slack/events (bot/slack/ingress.py);
    `slack` what Slack last answered, for /readyz (bot/ops/health.py); `pools` run work
    after a request was answered (a click is acked, then decided), waited for at a stop;
    `metrics`: GET /metrics's token and store reading (default: OTP_METRICS_*); `door` answers
    plain reads without Bolt (bot/slack/door.py)."""

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
        for pool in pools:  # listeners first: they hand work on to the next pool
            await asyncio.to_thread(pool.shutdown, wait=True)
        if scheduler is not None:
            scheduler.stop()
        if worker is not None:
            worker.stop()  # the item in hand finishes; claims not started are released
        db.dispose()

    web = FastAPI(title="OTP bot", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    web.add_middleware(RequestScope)
    exposition.install(web, db, metrics or exposition.MetricsSettings())

    # Set when a stop begins (see `serve`): long-polls answer then instead of holding the stop,
    # new requests are refused, readiness fails, the worker stops claiming.
    web.state.stopping = threading.Event()
    web.state.worker = worker
    web.add_middleware(RefuseWhileStopping, stopping=web.state.stopping)
    add_health_routes(web, Readiness(db, worker=worker, slack=slack, stopping=web.state.stopping))
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
    mcp = HttpEndpoint(
        db,
        worker.kick if worker is not None else None,
        callback_allow=callback_allow,
        stopping=web.state.stopping,
    )
    # Starlette serves any endpoint that is not a function or method as an ASGI app, as this one
    # is; `add_route`'s annotation names only request handlers.
    web.add_route(mcp.path, mcp, methods=["GET", "POST", "DELETE"])  # type: ignore[arg-type]

    if bolt is not None:
        if not signing_secret:
            raise ValueError("serving Slack needs its signing secret")
        ingress = SlackIngress(bolt, db, signing_secret, door=door)
        # A plain Starlette route: FastAPI's own (dependencies, validation) would add nothing
        # here but time to every Slack request.
        web.add_route("/slack/events", ingress.__call__, methods=["POST"])

    return web


def serve(web: FastAPI, host: str, port: int) -> None:
    """Run the app as `otp serve` does. uvicorn lets requests in flight finish before it
    stops; a long-poll would hold that up for a minute, so it is told the stop began."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            web.state.stopping.set()
            if web.state.worker is not None:  # stops claiming now, while requests in flight finish
                web.state.worker.request_stop()
            super().handle_exit(sig, frame)

    # log_config=None: uvicorn's lines go through our log (bot/ops/logs.py), in its format.
    config = uvicorn.Config(web, host=host, port=port, log_level="warning", access_log=False, log_config=None)
    Server(config).run()
