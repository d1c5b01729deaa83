"""Idempotency keys for writes whose table keeps none (a raised issue, an added to-do).

An agent retrying a request after a timeout must not raise the same issue twice. The key is
written down in the audit chain beside the change it made, under a subject that is a digest
of who sent it and the key (so the key itself, which may say anything, is never a subject):
the same key with the same content answers what was made the first time, the same key with
other content is a conflict, as for drafts and messages."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.errors import Conflict, Invalid
from otp_bot.store.models import AuditEntry

MAX_KEY = 200
ACTION = "request.keyed"


def _subject(actor: Actor, what: str, key: str) -> str:
    digest = hashlib.sha256(f"{actor.audit_name}\n{what}\n{key}".encode()).hexdigest()
    return f"key:{digest}"


def _fingerprint(content: dict[str, Any]) -> str:
    raw = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def seen(session: Session, actor: Actor, what: str, key: str | None, content: dict[str, Any]) -> int | None:
    """The id of the `what` (issue, todo) this key made before, or None for a new key.

    Same key, other content: a Conflict. Call it first in the unit of work that makes the
    thing; on PostgreSQL it takes a lock on the key until the transaction ends, so two
    concurrent requests with one key make one thing (SQLite serialises writers already)."""
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY:
        raise Invalid(f"an idempotency key is 1 to {MAX_KEY} characters")
    subject = _subject(actor, what, key)
    if session.get_bind().dialect.name == "postgresql":
        lock = int.from_bytes(bytes.fromhex(subject[4:20]), "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": lock})
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.action == ACTION, AuditEntry.subject == subject).limit(1)
    )
    if entry is None:
        return None
    if entry.detail.get("content") != _fingerprint(content):
        raise Conflict(
            f"this idempotency key was used for another {what} with other content",
            hint="use a new key for a new request; the same key only to retry the same one",
        )
    return int(entry.detail[what])


def remember(session: Session, actor: Actor, what: str, key: str | None, content: dict[str, Any], made: int) -> None:
    """Write down that `key` made the `what` numbered `made` (nothing without a key)."""
    if key is not None:
        audit.record(
            session,
            actor.audit_name,
            ACTION,
            _subject(actor, what, key),
            **{what: made, "content": _fingerprint(content)},
        )
