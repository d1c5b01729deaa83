"""What the stand-in records and answers: one received request (`Call`), one reply."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    """One request the stand-in received.

    `method` is the Web API method (`chat.postMessage`), or `response_url` / `upload_url`
    for posts to the URLs the stand-in hands out. `headers` has lower-case names.
    `failed` describes the injected failure that answered it (`"http 429"`,
    `"error ratelimited"`, `"delay 3.0s"`), None for a normal answer.
    """

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float
    failed: str | None = None
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return self.response.get("error")

    @property
    def token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        token = self.args.get("token")
        return token if isinstance(token, str) else None

    def __str__(self) -> str:
        outcome = "ok" if self.ok else f"{self.status} {self.error}"
        extra = f" errors={self.response['errors']}" if self.response.get("errors") else ""
        return f"{self.method} -> {outcome}{extra}" + (f" [{self.failed}]" if self.failed else "")


@dataclass
class Reply:
    status: int
    json: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a non-JSON body (the upload URL answers plain text)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering

    def body(self) -> bytes:
        return self.raw if self.raw is not None else json.dumps(self.json).encode()
