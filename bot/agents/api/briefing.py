"""Briefings as JSON: the agent's own (MCP's get_briefing returns the same) and the org's daily one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from otp_bot.bot.agents.api import views
from otp_bot.bot.agents.api.auth import Caller, Db
from otp_bot.bot.agents.api.briefing_schemas import Briefing
from otp_bot.bot.agents.api.problems import responses
from otp_bot.store.domain.rhythm.daily_briefing import briefing_json

router = APIRouter(tags=["briefing"], responses=responses(401))


@router.get("/briefing", response_model=Briefing)
def get_briefing(actor: Caller, db: Db) -> Briefing:
    """The token's seats; its drafts waiting for a decision and those held (with why); drafts
    waiting for its holder's decision; every flag in force; requests past their deadline to
    or from its seats; unread messages per seat; its metrics off track."""
    with db.session(readonly=True) as session:
        return views.briefing(session, actor)


@router.get("/briefing/daily")
def get_daily_briefing(actor: Caller, db: Db) -> dict[str, Any]:
    """The org's daily briefing, as posted to people: what needs a human today, since the
    last briefing was posted (off-track and stale metrics, drafts waiting and held, flags,
    overdue requests, seat changes, each agent seat's last activity)."""
    with db.session(readonly=True) as session:
        return briefing_json(session)
