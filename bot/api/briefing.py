"""The agent's briefing: what needs it now, as JSON (MCP's get_briefing returns the same)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from otp_bot.bot.api import views
from otp_bot.bot.api.auth import Caller, Db
from otp_bot.bot.api.problems import responses

router = APIRouter(tags=["briefing"], responses=responses(401))


@router.get("/briefing")
def get_briefing(actor: Caller, db: Db) -> dict[str, Any]:
    """The token's seats; its drafts waiting for a decision and those held (with why); drafts
    waiting for its holder's decision; every flag in force; requests past their deadline to
    or from its seats; unread messages per seat; its metrics off track."""
    with db.session(readonly=True) as session:
        return views.briefing(session, actor)
