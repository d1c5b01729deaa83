"""`otp serve`'s /mcp: the server as streamable HTTP, answering 401 before MCP sees a request without a valid token.

The MCP SDK and the tools are loaded on the first request that brings a valid token, not
when `otp serve` starts: they weigh tens of MB of memory that a deployment whose agents never
speak MCP should not pay for, and a refusal needs none of them.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskGroup, TaskStatus
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from otp_bot.bot.agents.api.problems import CHALLENGE, problem
from otp_bot.bot.slack.settings import callback_allowlist
from otp_bot.store.db import Database
from otp_bot.store.domain.agents.tokens import Unauthenticated, authenticate
from otp_bot.store.domain.gate.callback_targets import Allowlist

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

MAX_HTTP_BODY = 2_000_000  # as the agent API: 5,000 values with notes fit


class HttpEndpoint:
    """The server as streamable HTTP (an ASGI app for one route), behind a Bearer check.

    Stateless and answering in plain JSON: every request stands alone and brings its own
    token, so any `otp serve` process can answer it. A request without a valid token is
    answered 401 before MCP sees it; each tool call checks the token again. DNS-rebinding
    protection is off: it guards servers that trust whoever reaches them, and this one
    trusts only a token, whatever the Host header says.
    """

    def __init__(
        self,
        db: Database,
        kick: Callable[[], None] | None = None,
        path: str = "/mcp",
        callback_allow: Allowlist | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self.db, self.path = db, path
        self._stopping = stopping  # set when `otp serve` begins to stop: waits for a decision answer then
        # Read now, as when the server was built at start: a bad OTP_CALLBACK_ALLOW fails the start,
        # not the first agent's request.
        self._kick = kick
        self._callback_allow = callback_allow if callback_allow is not None else callback_allowlist()
        self._tasks: TaskGroup | None = None  # open while the web app serves (`running`)
        self._manager: StreamableHTTPSessionManager | None = None  # once the first valid token came
        self._starting = anyio.Lock()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Held open for as long as the web app serves (its lifespan). The SDK's session
        manager runs inside it once started; leaving stops it and the requests it serves."""
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                yield
            finally:
                self._tasks = None
                tasks.cancel_scope.cancel()

    def _build(self) -> StreamableHTTPSessionManager:
        # Imported here, in a worker thread: the SDK's import takes a few hundred ms that the
        # event loop keeps serving through.
        from mcp.server.transport_security import TransportSecuritySettings

        from otp_bot.bot.agents.mcp.server import LOG_LEVEL, build_server

        server = build_server(
            self.db,
            http=True,
            log_level=LOG_LEVEL,
            kick=self._kick,
            callback_allow=self._callback_allow,
            stopping=self._stopping,
        )
        server.streamable_http_app(  # builds the session manager this endpoint hands requests to
            streamable_http_path=self.path,
            stateless_http=True,
            json_response=True,
            max_request_body_size=MAX_HTTP_BODY,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        return server.session_manager

    async def _session_manager(self) -> StreamableHTTPSessionManager:
        """The SDK's session manager, built and started by the first request that needs it."""
        async with self._starting:
            if self._manager is None:
                if self._tasks is None:
                    raise RuntimeError("/mcp is served only while the web app runs (HttpEndpoint.running)")
                manager = await run_in_threadpool(self._build)

                # The manager's run() must be entered and left by one task: a task of its own,
                # in the group `running` holds, which ends when the web app stops.
                async def run(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
                    async with manager.run():
                        task_status.started()
                        await anyio.sleep_forever()

                await self._tasks.start(run)
                self._manager = manager
            return self._manager

    def _check(self, authorization: str) -> None:
        scheme, _, secret = authorization.partition(" ")
        with self.db.session() as session:
            authenticate(session, secret.strip() if scheme.lower() == "bearer" else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        authorization = Headers(scope=scope).get("authorization", "")
        try:
            await run_in_threadpool(self._check, authorization)
        except Unauthenticated as exc:
            response = problem(
                401,
                "unauthenticated",
                "Missing or invalid API token",
                exc.message,
                hint="send `Authorization: Bearer otp_…` with a token from `otp token create`",
                headers=CHALLENGE,
            )
            await response(scope, receive, send)
            return
        manager = self._manager or await self._session_manager()
        await manager.handle_request(scope, receive, send)
