"""Stopping without losing work: once SIGTERM arrives, a request that gets through before
uvicorn closes its listener is answered 503 with Retry-After (Slack retries events, agents
retry by their idempotency keys) rather than started and cut off. Health stays answered,
so a probe sees the stop."""

from __future__ import annotations

import threading

from starlette.types import ASGIApp, Receive, Scope, Send

ALWAYS_ANSWERED = frozenset({"/healthz", "/readyz"})


class RefuseWhileStopping:
    """ASGI middleware: plain ASGI rather than Starlette's BaseHTTPMiddleware, so a request
    pays one Event check and nothing else."""

    def __init__(self, app: ASGIApp, stopping: threading.Event) -> None:
        self.app, self.stopping = app, stopping

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.stopping.is_set() or scope["path"] in ALWAYS_ANSWERED:
            await self.app(scope, receive, send)
            return
        body = b'{"error": "stopping", "detail": "this server is shutting down; try again"}'
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", b"5"),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
