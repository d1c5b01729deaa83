"""Waiting for a draft's decision, as the API's /drafts/{id}/wait and MCP's wait_for_decision
both do: no transaction held while waiting, each look one short read."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio

from otp_bot.bot.agents.api import schemas
from otp_bot.store.models import DRAFT_WAITING

MAX_WAIT = 60.0
POLL_SECONDS = 0.25  # how often a waiter looks


async def wait_for_change(
    read: Callable[[], Awaitable[schemas.Draft]],
    status: Callable[[], Awaitable[str | None]],
    timeout: float,
    stop: Callable[[], Awaitable[bool]],
) -> schemas.Waited:
    """The draft once its status differs from the one it had at the start, or when `timeout`
    seconds pass or `stop` says to; at once when it is not waiting for anyone. `read` reads the
    draft as the caller may (checking their right to it); `status` is the cheap look."""
    draft = await read()
    if draft.status not in DRAFT_WAITING:
        return schemas.Waited(changed=False, timed_out=False, draft=draft)
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        await anyio.sleep(min(POLL_SECONDS, left))
        if await stop():
            break  # the server is stopping (the client asks again), or nobody is listening any more
        if await status() != draft.status:
            return schemas.Waited(changed=True, timed_out=False, draft=await read())
    return schemas.Waited(changed=False, timed_out=True, draft=await read())
