"""The outbox's calls to agents' own endpoints: an approved draft delivered to its callback URL,
and a decision sent to the webhook of its agent's token. Both are signed, re-check the address
at every send (callback_targets.py), and call only after the worker re-confirms its claim."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from otp_bot.bot.runtime.delivery import Permanent, post_callback
from otp_bot.store.domain import outbox
from otp_bot.store.domain.agents import webhooks

if TYPE_CHECKING:  # the worker calls these with itself
    from otp_bot.bot.runtime.worker import OutboxWorker


def deliver(worker: OutboxWorker, item: outbox.Claimed, destination: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The approved text to an https callback, signed with OTP_CALLBACK_SECRET."""
    secret = worker.settings.callback_secret
    if secret is None or not secret.get_secret_value():
        raise Permanent("OTP_CALLBACK_SECRET is not set, so callbacks cannot be signed")
    worker._confirm(item)
    result = post_callback(
        destination,
        payload,
        secret=secret.get_secret_value(),
        key=item.key,
        timeout=worker.settings.callback_timeout_seconds,
        allow=worker.allow,
    )
    if not result.ok:
        raise (Permanent if result.permanent else RuntimeError)(result.detail)
    return {"destination": destination, "status": result.status}


def webhook(worker: OutboxWorker, item: outbox.Claimed) -> dict[str, Any]:
    """A decision to its agent's webhook, signed with the token's secret as it is now (the
    secret is never in the outbox). A token revoked or a webhook cleared since the decision
    hears nothing; the URL is checked again as every callback is."""
    token_id = int(item.payload["token"])
    try:
        with worker.db.session(readonly=True) as session:
            target = webhooks.destination(session, token_id)
    except webhooks.Gone as gone:
        return {"token": token_id, "skipped": gone.message}
    worker._confirm(item)
    result = post_callback(
        target.url,
        item.payload["body"],
        secret=target.secret,
        key=item.key,
        timeout=worker.settings.callback_timeout_seconds,
        allow=worker.allow,
    )
    if not result.ok:
        raise (Permanent if result.permanent else RuntimeError)(f"webhook of token {token_id}: {result.detail}")
    return {"token": token_id, "status": result.status}
