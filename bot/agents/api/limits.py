"""A ceiling on request bodies: anything larger is answered 413 before it is read whole."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from otp_bot.bot.agents.api.problems import too_large

MAX_BODY = 2_000_000  # 5,000 values with notes fit; a runaway client does not


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            # The server holds a body to its declared length, so the header is enough.
            if not length.isdigit() or int(length) > self.max_bytes:
                await too_large(self.max_bytes)(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        # A chunked body has no length up front: read it here, up to the ceiling, then replay it.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await too_large(self.max_bytes)(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)
