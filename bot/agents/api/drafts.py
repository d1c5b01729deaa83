"""The human gate for agents: submit a draft, read its outcome, wait for a decision, withdraw."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from otp_bot.bot.agents.api import schemas, views
from otp_bot.bot.agents.api.auth import Caller, Db, Kick
from otp_bot.bot.agents.api.idempotency import idempotency_key
from otp_bot.bot.agents.api.problems import responses
from otp_bot.bot.agents.api.waits import MAX_WAIT, wait_for_change
from otp_bot.store.db import Database
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.gate import decisions, drafts, reading

router = APIRouter(tags=["drafts"], responses=responses(401))


@router.post(
    "/drafts",
    status_code=201,
    response_model=schemas.Draft,
    responses={
        200: {"model": schemas.Draft, "description": "Already submitted with this key: the same draft"},
        **responses(400, 403, 404, 409, 413, 422),
    },
)
def submit(
    body: schemas.DraftIn,
    actor: Caller,
    db: Db,
    kick: Kick,
    request: Request,
    response: Response,
    idempotency_key_header: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> schemas.Draft:
    """Submit a draft for a human decision, for a seat the token's holder holds.

    With `revises`, the revision of a draft whose changes were requested: it takes that
    draft's place on its approval message (409 when that draft is not `changes-requested`
    or the route's rounds are used up, 403 when it is another seat's).

    It is posted for approval at once, or held while a policy's flag is on its subject
    (`status: held`, `hold_reason` says why). 201 with the new draft; 200 with the same
    draft when its idempotency key was seen before with the same content.
    """
    key = idempotency_key(body.key, idempotency_key_header)
    with db.session() as session:
        done = drafts.submit_draft(
            session,
            actor,
            seat_id=body.seat,
            kind=body.kind,
            subject=body.subject,
            title=body.title,
            body=body.body,
            customer_facing=body.customer_facing,
            destination=body.destination,
            key=key,
            callback_allow=request.app.state.callback_allow,
            revises=body.revises,
        )
        out = views.draft(session, done.draft)
    if done.created:
        kick()  # committed: the worker posts the approval message now, not at its next poll
    response.status_code = 201 if done.created else 200
    response.headers["Location"] = f"{request.scope.get('root_path', '')}/drafts/{out.id}"
    return out


@router.get("/drafts/{draft_id}", response_model=schemas.Draft, responses=responses(403, 404))
def show(draft_id: int, actor: Caller, db: Db) -> schemas.Draft:
    """A draft of a seat the token's holder holds: status, the outcome in a sentence, the
    final text once approved, decisions, delivery, and why it is held."""
    return _read(db, actor, draft_id)


@router.get("/drafts/{draft_id}/wait", response_model=schemas.Waited, responses=responses(403, 404, 422))
async def wait(
    draft_id: int,
    actor: Caller,
    db: Db,
    request: Request,
    timeout: Annotated[float, Query(ge=0, le=MAX_WAIT, description="Seconds to wait, at most 60.")] = 30.0,
) -> schemas.Waited:
    """Wait until the draft's status changes (approved, rejected, changes-requested, expired,
    withdrawn, or held → pending) or `timeout` seconds pass, then answer the draft either way. A draft already
    decided is answered at once. No transaction is held while waiting."""

    async def read() -> schemas.Draft:
        return await run_in_threadpool(_read, db, actor, draft_id)

    async def status() -> str | None:
        return await run_in_threadpool(_status, db, draft_id)

    async def stop() -> bool:
        return request.app.state.stopping.is_set() or await request.is_disconnected()

    return await wait_for_change(read, status, timeout, stop)


@router.post("/drafts/{draft_id}/withdraw", response_model=schemas.Draft, responses=responses(403, 404, 409))
def withdraw(draft_id: int, actor: Caller, db: Db, kick: Kick) -> schemas.Draft:
    """Withdraw a held or pending draft, or one whose changes were requested rather than
    revise it (its drafter, or an admin token); its approval message is updated to say so.
    409 once it is decided."""
    with db.session() as session:
        out = views.draft(session, decisions.withdraw(session, actor, draft_id))
    kick()
    return out


def _read(db: Database, actor: Actor, draft_id: int) -> schemas.Draft:
    with db.session(readonly=True) as session:
        return views.draft(session, reading.readable_draft(session, actor, draft_id))


def _status(db: Database, draft_id: int) -> str | None:
    with db.session(readonly=True) as session:
        return reading.status_of(session, draft_id)
