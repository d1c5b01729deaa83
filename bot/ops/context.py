"""What a log line says about the request it belongs to: its id, the surface it came in by, the
command it runs and the draft it is about.

One `Request` per request (or per piece of background work), bound to a context variable by
the surface that takes it in (`bound`). The surfaces down the line fill in what they learn
(`note`): the ingress knows it is a slash command, the listener which subcommand, the approval
which draft. The record is shared by reference, so what a worker thread notes is seen by the
request's own last log line and its metrics, and by the listener that runs after the ack.
Threads started for a request carry its context only when started with it copied
(`contextvars.copy_context()`; see bot/runtime/work_pool.py); anyio's worker threads do.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

# An id a proxy in front of us gave the request: kept when it is short and plain, so it cannot
# carry a line break or markup into a log line.
_INBOUND_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_CURRENT: ContextVar[Request | None] = ContextVar("otp_request", default=None)


@dataclass
class Request:
    request_id: str
    surface: str | None = None
    command: str | None = None
    draft_id: int | None = None

    def fields(self) -> dict[str, Any]:
        """What is known, for a log line."""
        known: dict[str, Any] = {"request_id": self.request_id, "surface": self.surface}
        known |= {"command": self.command, "draft_id": self.draft_id}
        return {k: v for k, v in known.items() if v is not None}


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def request_id_from(header: str | None) -> str:
    """The id a proxy sent in X-Request-ID when it is plain enough to log; a new one otherwise."""
    return header if header is not None and _INBOUND_ID.fullmatch(header) else new_request_id()


def current() -> Request | None:
    return _CURRENT.get()


@contextmanager
def bound(surface: str | None, request_id: str | None = None, **known: Any) -> Iterator[Request]:
    """A fresh `Request` for the block: what this context's log lines and metrics belong to."""
    request = Request(request_id or new_request_id(), surface)
    token = _CURRENT.set(request)
    try:
        note(**known)
        yield request
    finally:
        _CURRENT.reset(token)


def note(*, surface: str | None = None, command: str | None = None, draft_id: int | str | None = None) -> None:
    """Fill in what a surface learnt about the current request (nothing outside one)."""
    request = _CURRENT.get()
    if request is None:
        return
    if surface is not None:
        request.surface = surface
    if command is not None:
        request.command = command[:64]
    if draft_id is not None:
        # A draft id from a payload is text; only a number is kept, so nothing typed reaches a log.
        number = str(draft_id)
        request.draft_id = int(number) if number.isascii() and number.isdigit() and len(number) < 19 else None
