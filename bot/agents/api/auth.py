"""Who is calling: `Authorization: Bearer otp_…` → the Actor the token stands for.

The token is checked in a short read-only unit of work of its own (no SQLite write lock,
so a request never queues behind a push just to be let in); when its last use is worth
writing down (at most once a minute) that is a second, tiny write. An endpoint never holds
a transaction it did not open, and a revoked token stops working on its next request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from otp_bot.store.db import Database
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents.tokens import identify, mark_used

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token from `otp token create`: `Authorization: Bearer otp_…`",
)


def database(request: Request) -> Database:
    return request.app.state.db


def kicker(request: Request) -> Callable[[], None]:
    """Wakes the outbox worker, so what a request queued for Slack goes out at once."""
    return request.app.state.kick


def caller(
    db: Annotated[Database, Depends(database)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    with db.session(readonly=True) as session:
        who = identify(session, credentials.credentials if credentials else None)
    if who.stale:
        with db.session() as session:
            mark_used(session, who.token_id)
    return who.actor


Caller = Annotated[Actor, Depends(caller)]
Db = Annotated[Database, Depends(database)]
Kick = Annotated[Callable[[], None], Depends(kicker)]
