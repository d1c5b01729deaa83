"""A webhook per API token: every decision on its agent's drafts, posted to the agent.

An agent need not poll for the human's decision: its token may name a URL that receives
each one (approved, rejected, expired, withdrawn, and any later final or agent-facing
status) as a signed JSON POST, performed by the outbox worker with the retries, fencing
and failure recording of deliveries. Each event is queued once per token under the key
`draft:{id}:webhook:{event}:{token}`, in the transaction that decided, so it is sent
exactly once however often the decision is retried or the worker restarts; the receiver
drops repeats of an attempt by that key (`Idempotency-Key`).

The URL follows the callback destinations' rule (callback_targets.py): checked when set,
and every address it resolves to checked again when sent. The signing secret is made
here, shown once, and stored as it is: an HMAC signature needs the secret itself, so
unlike the token it cannot be kept as a hash. It never enters the outbox, a log line or
the audit log; the worker reads it from the token row at each send, so a secret set anew
signs what is still queued, and a token revoked or a webhook cleared hears nothing more.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit, outbox
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents.tokens import find_token
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.errors import Conflict, DomainError, Forbidden, Invalid
from otp_bot.store.domain.gate.callback_targets import NOTHING, Allowlist, check_url
from otp_bot.store.models import CHANGES_REQUESTED, ApiToken, Draft, Holder

KIND = "webhook"
SECRET_PREFIX = "whsec_"
MAX_URL = 500
# What a webhook hears: every final decision, and what the agent must act on.
EVENTS = ("approved", "rejected", "expired", "withdrawn", "changes-requested")


class Gone(DomainError):
    """The token's webhook is no longer there to send to (revoked, cleared): nothing is sent."""


@dataclass(frozen=True)
class WebhookSet:
    token: ApiToken
    secret: str  # shown once, to whoever set the webhook


@dataclass(frozen=True)
class Destination:
    url: str
    secret: str


# ------------------------------------------------------------------ setting and clearing


def _own(session: Session, actor: Actor, which: str | int) -> ApiToken:
    """The token whose webhook `actor` may change: its own (a token through the API), or any (an operator)."""
    if not actor.operator and actor.token_id is None:
        raise Forbidden("only an operator or the token itself sets a token's webhook")
    token = find_token(session, str(which))
    if not actor.operator and actor.token_id != token.id:
        raise Forbidden("a token sets only its own webhook")
    if token.revoked_at is not None:
        raise Conflict(f"token {token.id} is revoked; it receives nothing")
    return token


def shown(url: str) -> str:
    """The URL as audit entries and lists show it: without its query, where a receiver may keep a token."""
    return url.split("?", 1)[0].split("#", 1)[0]


def set_webhook(
    session: Session,
    actor: Actor,
    which: str | int,
    url: str,
    *,
    allow: Allowlist = NOTHING,
    now: dt.datetime | None = None,
) -> WebhookSet:
    """Point the token's webhook at `url` with a new signing secret (a new one each time:
    setting it again is how the secret is rotated). A URL the callback rule refuses
    (a private address no operator allowed, a user name in it, not http(s)) changes nothing."""
    token = _own(session, actor, which)
    if token.holder_id is None:
        raise Invalid(
            f"token {token.id} is an admin token: it drafts nothing, so it has no decisions to hear",
            hint="set the webhook on the agent's own token",
        )
    url = (url or "").strip()
    if not url:
        raise Invalid("give the webhook's URL (https://…)", hint="to stop the webhook, clear it")
    if len(url) > MAX_URL or any(c.isspace() for c in url):
        raise Invalid(f"a webhook URL is one word of at most {MAX_URL} characters")
    check_url(url, allow)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token.webhook_url, token.webhook_secret, token.webhook_set_at = url, secret, now or utcnow()
    audit.record(session, actor.audit_name, "token.webhook.set", f"token:{token.id}", url=shown(url))
    return WebhookSet(token, secret)


def clear_webhook(session: Session, actor: Actor, which: str | int) -> ApiToken:
    """No webhook for the token any more; what is still queued for it is not sent."""
    token = _own(session, actor, which)
    if token.webhook_url is not None:
        token.webhook_url, token.webhook_secret, token.webhook_set_at = None, None, None
        audit.record(session, actor.audit_name, "token.webhook.cleared", f"token:{token.id}")
    return token


def webhook_of(session: Session, actor: Actor, which: str | int) -> ApiToken:
    """The token, for reading its webhook (never its secret)."""
    return _own(session, actor, which)


# ------------------------------------------------------------------ decisions queued and sent


def queue_decision(session: Session, draft: Draft, event: str, now: dt.datetime, *, by: str | None = None) -> bool:
    """Queue `event` on `draft` for the webhook of every live token of its drafter; True
    when anything was queued (the caller wakes the worker). Call it in the transaction
    that made the decision, after the draft shows it. `by`: the holder who decided, when
    the draft does not name one (a withdrawal)."""
    if event not in EVENTS:
        raise ValueError(f"`{event}` is not a webhook event; add it to EVENTS")
    tokens = session.scalars(
        select(ApiToken.id).where(
            ApiToken.holder_id == draft.drafted_by,
            ApiToken.revoked_at.is_(None),
            ApiToken.webhook_url.is_not(None),
        )
    ).all()
    if not tokens:
        return False
    body = payload(session, draft, event, now, by=by)
    for token_id in tokens:
        outbox.enqueue(
            session,
            KIND,
            f"draft:{draft.id}:{KIND}:{event}:{token_id}",
            {"token": token_id, "body": body},
            draft_id=draft.id,
            now=now,
        )
    return True


def payload(session: Session, draft: Draft, event: str, now: dt.datetime, *, by: str | None = None) -> dict[str, Any]:
    """What the webhook receives: the decision as the drafting agent reads it (GET /drafts/{id})."""
    # drafts.py imports the chart rules, which queue webhooks: imported here, not at the top.
    from otp_bot.store.domain.gate.reading import outcome

    decider = session.get(Holder, by or draft.decided_by) if (by or draft.decided_by) else None
    at = as_utc(draft.decided_at or now)
    return {
        "event": event,
        "draft_id": draft.id,
        "seat": draft.seat_id,
        "kind": draft.kind,
        "subject": draft.subject,
        "title": draft.title,
        "status": draft.status,
        "outcome": outcome(session, draft),
        "final_text": draft.final_body if draft.status == "approved" else None,
        "edited": bool(draft.edited),
        "reason": _reason(draft),
        "round": draft.round,  # 1 for a first draft, 2 for its first revision, ...
        "revises": draft.revises,
        "decided_by": {"id": decider.id, "name": decider.name} if decider else None,
        "at": at.isoformat().replace("+00:00", "Z"),
    }


def _reason(draft: Draft) -> str | None:
    """Why it went as it did: what the approver asked to change, the rejection's reason, or
    why the chart withdrew it (a request for changes made before a withdrawal is not why)."""
    if draft.status == "approved":
        return None
    if draft.status == CHANGES_REQUESTED and draft.change_request is not None:
        return draft.change_request.text
    return draft.reason


def destination(session: Session, token_id: int) -> Destination:
    """Where and how to send now, read at every attempt; Gone when the token was revoked
    or its webhook cleared since the event was queued."""
    token = session.get(ApiToken, token_id)
    if token is None or token.revoked_at is not None:
        raise Gone(f"token {token_id} was revoked; nothing is sent to it")
    if token.webhook_url is None or token.webhook_secret is None:
        raise Gone(f"token {token_id} has no webhook any more; nothing is sent")
    return Destination(token.webhook_url, token.webhook_secret)


def mark_failed(session: Session, token_id: int, draft_id: int | None, error: str) -> None:
    """The last attempt failed: on the record, for `otp outbox list --failed` and the audit log."""
    audit.record(session, "system", "token.webhook.failed", f"token:{token_id}", draft=draft_id, error=error[:2000])
