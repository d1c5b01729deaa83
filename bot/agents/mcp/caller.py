"""Who is asking, checked on every call, and the unit of work a tool runs in as them."""

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import INVALID_PARAMS
from sqlalchemy.orm import Session

from otp_bot.bot.agents.mcp.errors import bad_token, no_token, refused
from otp_bot.store.db import Database
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents.tokens import Unauthenticated, authenticate
from otp_bot.store.domain.errors import DomainError, NotFound

T = TypeVar("T")

# The headers of the request being answered. The SDK hands a static resource (otp://chart,
# otp://briefing) no Context, yet over HTTP it must be read as the token that asked for it.
_headers: ContextVar[Mapping[str, str] | None] = ContextVar("otp_mcp_headers", default=None)


async def keep_headers(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Server middleware: the request's headers, for whatever answers it."""
    token = _headers.set(getattr(ctx.request, "headers", None))
    try:
        return await call_next(ctx)
    finally:
        _headers.reset(token)


class Caller:
    """Who is asking, per call: the request's Bearer token (HTTP), else the token given at start (stdio).

    The token is checked on every call, so a revoked token stops working at once, mid-session.
    """

    def __init__(self, db: Database, token: str | None, *, http: bool, kick: Callable[[], None] | None) -> None:
        self.db, self.token, self.http, self.kick = db, token, http, kick

    def _secret(self, ctx: Context | None) -> str | None:
        headers = (ctx.headers if ctx is not None else _headers.get()) if self.http else None
        if headers is not None:
            scheme, _, value = (headers.get("authorization") or "").partition(" ")
            return value.strip() if scheme.lower() == "bearer" else None
        return self.token

    def actor(self, ctx: Context | None) -> Actor:
        secret = self._secret(ctx)
        if not secret:
            raise no_token(http=self.http)
        try:
            # A short unit of work of its own: it may note when the token was last used.
            with self.db.session() as session:
                return authenticate(session, secret)
        except Unauthenticated as exc:
            raise bad_token(exc) from None

    def run(self, ctx: Context | None, work: Callable[[Session, Actor], T], *, writes: bool = False) -> T:
        actor = self.actor(ctx)
        try:
            with self.db.session(readonly=not writes) as session:
                result = work(session, actor)
        except DomainError as exc:
            raise refused(exc) from None
        if writes and self.kick is not None:
            self.kick()  # what the call queued for Slack goes out now, not at the worker's next poll
        return result

    def read(self, ctx: Context | None, work: Callable[[Session, Actor], T]) -> T:
        """As `run`, reading only, for a resource: a refusal fails the read with the same words, as a
        client error (-32602: no token or a bad one, a resource that does not exist, or one this
        token may not read), not as the server's own failure (-32603)."""
        try:
            actor = self.actor(ctx)
        except ToolError as exc:
            raise MCPError(INVALID_PARAMS, str(exc)) from None
        try:
            with self.db.session(readonly=True) as session:
                return work(session, actor)
        except NotFound as exc:
            raise ResourceNotFoundError(str(refused(exc))) from None
        except DomainError as exc:
            raise MCPError(INVALID_PARAMS, str(refused(exc))) from None
