"""Flags for agents: set one for a seat the token's holder holds, lift it, list them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from otp_bot.bot.agents.api import pages, schemas, views
from otp_bot.bot.agents.api.auth import Caller, Db, Kick
from otp_bot.bot.agents.api.problems import responses
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.gate import flags

router = APIRouter(tags=["flags"], responses=responses(401))

Subject = Annotated[str, Query(min_length=1, max_length=200, description="What the flag is on: `client:acme`.")]


@router.post(
    "/flags",
    status_code=201,
    response_model=schemas.FlagChange,
    responses={
        200: {"model": schemas.FlagChange, "description": "Already set: its reason and expiry were updated"},
        **responses(400, 403, 404, 413, 422),
    },
)
def set_flag(body: schemas.FlagIn, actor: Caller, db: Db, response: Response) -> schemas.FlagChange:
    """Flag a subject for a seat the token's holder holds. While it stands, policies hold
    drafts of their kind about the subject (`holds` names them). 201 when new, 200 when
    it was already set (the reason and expiry are updated)."""
    with db.session() as session:
        change = flags.set_flag(
            session,
            actor,
            body.subject,
            body.flag,
            seat_id=body.seat,
            reason=body.reason,
            until=flags.parse_until(body.until),
        )
        out = schemas.FlagChange(flag=views.flag(session, change.flag), created=change.created, released=[])
    response.status_code = 201 if change.created else 200
    return out


@router.delete("/flags", response_model=schemas.FlagChange, responses=responses(403, 404, 422))
def lift_flag(
    subject: Subject,
    actor: Caller,
    db: Db,
    kick: Kick,
    flag: Annotated[str, Query(min_length=1, max_length=64)],
    seat: Annotated[str | None, Query(max_length=64, description="Only this seat's flag.")] = None,
) -> schemas.FlagChange:
    """Lift a flag (the flagging seat's holder, its accountable human, or an admin token).
    Drafts it held go to approval, and are listed in `released`."""
    with db.session() as session:
        change = flags.lift_flag(session, actor, subject, flag, seat_id=seat)
        out = schemas.FlagChange(
            flag=views.flag(session, change.flag), created=False, released=[views.draft_ref(d) for d in change.released]
        )
    if out.released:
        kick()
    return out


@router.get("/flags", response_model=schemas.FlagsPage, responses=responses(422))
def list_flags(
    _actor: Caller,
    db: Db,
    subject: Annotated[str | None, Query(max_length=200)] = None,
    limit: pages.Limit = 100,
    cursor: pages.Cursor = None,
) -> schemas.FlagsPage:
    """Flags in force, by subject (every subject when none is given)."""
    after = pages.decode(
        "flags",
        cursor,
        lambda a: (
            isinstance(a, list)
            and len(a) == 3
            and isinstance(a[0], str)
            and isinstance(a[1], str)
            and type(a[2]) is int
        ),
    )
    with db.session(readonly=True) as session:
        rows = flags.active_flags(session, subject)
        key = lambda f: [f.subject, as_utc(f.set_at).isoformat(), f.id]  # noqa: E731 - the list's own order
        if after is not None:
            rows = [f for f in rows if key(f) > after]
        page = rows[:limit]
        return schemas.FlagsPage(
            flags=[views.flag(session, f) for f in page],
            next_cursor=pages.encode("flags", key(page[-1])) if len(rows) > limit else None,
        )
