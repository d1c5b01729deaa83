"""The calling token's own webhook: set it (the signing secret answered once), read it, clear it."""

from __future__ import annotations

from fastapi import APIRouter, Request

from otp_bot.bot.agents.api import schemas
from otp_bot.bot.agents.api.auth import Caller, Db
from otp_bot.bot.agents.api.problems import responses
from otp_bot.store.domain.agents import webhooks
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.models import ApiToken

router = APIRouter(tags=["webhook"], responses=responses(401))


def _shown(token: ApiToken) -> schemas.Webhook:
    set_at = as_utc(token.webhook_set_at) if token.webhook_set_at else None  # SQLite hands it back naive
    return schemas.Webhook(url=token.webhook_url, set_at=set_at, events=list(webhooks.EVENTS))


@router.get("/tokens/me/webhook", response_model=schemas.Webhook, responses=responses(403))
def show(actor: Caller, db: Db) -> schemas.Webhook:
    """This token's webhook (never its secret); `url` is null when it has none."""
    with db.session(readonly=True) as session:
        return _shown(webhooks.webhook_of(session, actor, actor.token_id or 0))


@router.put("/tokens/me/webhook", response_model=schemas.WebhookSet, responses=responses(400, 403, 413, 422))
def put(body: schemas.WebhookIn, actor: Caller, db: Db, request: Request) -> schemas.WebhookSet:
    """Post every decision on this agent's drafts (approved, rejected, expired, withdrawn, changes-requested) to
    `url`, signed with a new secret, answered here once: store it. Setting it again replaces
    the URL and the secret. A URL on a non-public address is refused (422) and nothing changes."""
    with db.session() as session:
        done = webhooks.set_webhook(
            session, actor, actor.token_id or 0, body.url, allow=request.app.state.callback_allow
        )
        shown = _shown(done.token)
    return schemas.WebhookSet(**shown.model_dump(), secret=done.secret)


@router.delete("/tokens/me/webhook", response_model=schemas.Webhook, responses=responses(403))
def clear(actor: Caller, db: Db) -> schemas.Webhook:
    """No more webhook: nothing more is posted, not even what is queued."""
    with db.session() as session:
        return _shown(webhooks.clear_webhook(session, actor, actor.token_id or 0))
