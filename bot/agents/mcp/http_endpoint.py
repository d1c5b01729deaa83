"""`otp serve`'s /mcp: the server as streamable HTTP, answering 401 before MCP sees a request without a valid token."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from mcp.server.transport_security import TransportSecuritySettings
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from otp_bot.bot.agents.api.problems import CHALLENGE, problem
from otp_bot.bot.agents.mcp.server import LOG_LEVEL, build_server
from otp_bot.store.db import Database
from otp_bot.store.domain.agents.tokens import Unauthenticated, authenticate
from otp_bot.store.domain.gate.callback_targets import Allowlist

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
    ) -> None:
        self.db, self.path = db, path
        self.server = build_server(db, http=True, log_level=LOG_LEVEL, kick=kick, callback_allow=callback_allow)
        self.server.streamable_http_app(  # builds the session manager this endpoint hands requests to
            streamable_http_path=path,
            stateless_http=True,
            json_response=True,
            max_request_body_size=MAX_HTTP_BODY,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    def running(self) -> AbstractAsyncContextManager[None]:
        """Held open for as long as the web app serves (its lifespan)."""
        return self.server.session_manager.run()

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
        await self.server.session_manager.handle_request(scope, receive, send)
