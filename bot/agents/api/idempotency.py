"""The idempotency key of a write: in the body's `key` or the Idempotency-Key header, not two."""

from __future__ import annotations

from otp_bot.store.domain.errors import Invalid


def idempotency_key(in_body: str | None, in_header: str | None) -> str | None:
    if in_body and in_header and in_body != in_header:
        raise Invalid("the body's `key` and the Idempotency-Key header differ", hint="send one of them")
    return in_body or in_header
