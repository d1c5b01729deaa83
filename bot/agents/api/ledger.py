"""The trust ledger and the learnings of a seat: for its holder, the human accountable for
it, the people above it and operators (the rule is in store/domain/gate/ledger.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from otp_bot.bot.agents.api import ledger_schemas, views
from otp_bot.bot.agents.api.auth import Caller, Db
from otp_bot.bot.agents.api.problems import responses
from otp_bot.store.domain.gate.learnings import readable_learnings
from otp_bot.store.domain.gate.ledger import MAX_WINDOW_DAYS, WINDOW_DAYS, readable_ledger

router = APIRouter(tags=["ledger"], responses=responses(401, 403, 404, 422))

Days = Annotated[
    int, Query(ge=1, le=MAX_WINDOW_DAYS, description="The window: drafts submitted in the last this many days.")
]


@router.get("/seats/{seat_id}/ledger", response_model=ledger_schemas.Ledger)
def ledger(seat_id: str, actor: Caller, db: Db, days: Days = WINDOW_DAYS) -> ledger_schemas.Ledger:
    """The seat's trust ledger, over every kind and per kind: drafts submitted, approval
    rate, share approved unedited, median edit size, median and p90 time to decision,
    rejection reasons by frequency, rounds of changes."""
    with db.session(readonly=True) as session:
        return views.ledger(readable_ledger(session, actor, seat_id, days=days))


@router.get("/seats/{seat_id}/learnings", response_model=ledger_schemas.Learnings)
def learnings(
    seat_id: str,
    actor: Caller,
    db: Db,
    kind: Annotated[str | None, Query(max_length=64, description="Only drafts of this kind.")] = None,
    days: Days = WINDOW_DAYS,
) -> ledger_schemas.Learnings:
    """What people told the seat lately: rejection reasons by frequency, the latest
    rejections, and the edits made before approving as unified diffs."""
    with db.session(readonly=True) as session:
        return views.learnings(readable_learnings(session, actor, seat_id, kind=kind, days=days))
