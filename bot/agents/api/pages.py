"""Pagination: `limit` (1 to 500) and an opaque `cursor` handed back as `next_cursor`.

A cursor is base64url JSON naming the list it belongs to and where the page ended; a
client passes it back unchanged and should not read anything into it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Query

from otp_bot.store.domain.errors import Invalid

MAX_LIMIT = 500

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}.")]
Cursor = Annotated[str | None, Query(max_length=1000, description="`next_cursor` from the previous page.")]


def encode(kind: str, after: Any) -> str:
    raw = json.dumps({"list": kind, "after": after}, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def is_text(after: Any) -> bool:
    return isinstance(after, str)


def is_pair(after: Any) -> bool:
    return isinstance(after, list) and len(after) == 2 and all(isinstance(a, str) for a in after)


def decode(kind: str, cursor: str | None, valid: Callable[[Any], bool]) -> Any:
    """Where the previous page ended (when `valid` says it looks right), or None for the first page."""
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or data.get("list") != kind or not valid(data.get("after")):
        raise Invalid(
            "this cursor is not one this list gave out", hint="pass `next_cursor` from the previous page as it is"
        )
    return data["after"]
