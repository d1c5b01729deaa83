"""What an agent reads to know where it stands: the org's operating rules and its briefing.
Shared by the agent API and the MCP tools and resources: one shape for both."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from otp_bot.bot.agents.api.ledger_schemas import Learnings
from otp_bot.bot.agents.api.message_schemas import Message
from otp_bot.bot.agents.api.review_schemas import Rock, Todo
from otp_bot.bot.agents.api.schemas import DraftRef, Flag, MetricStatus, Seat


class Rule(BaseModel):
    id: str = Field(examples=["C004"])
    section: str
    rule: str
    why: str | None
    failure_mode: str | None
    confidence: str | None
    confidence_score: float | None
    evidence: str | None
    evidence_reference: str | None
    scope: str | None
    seats: list[str] = Field(description="The seats the rule names.")


class RuleSearch(BaseModel):
    topic: str
    rules: list[Rule] = Field(description="Best first.")


class SeatRules(BaseModel):
    seat: str
    rules: list[Rule]


class DraftWaiting(DraftRef):
    outcome: str


class DraftHeld(DraftRef):
    hold_reason: str | None


class Briefing(BaseModel):
    as_of: dt.datetime
    seats: list[Seat] = Field(description="The seats held (every seat for an admin token).")
    drafts_pending: list[DraftWaiting] = Field(description="Their drafts waiting for a decision.")
    drafts_held: list[DraftHeld] = Field(description="Their drafts a policy holds, with why.")
    drafts_changes_requested: list[DraftWaiting] = Field(
        description="Their drafts an approver asked to change; `outcome` says what. A revision (`revises`) answers."
    )
    drafts_to_decide: list[DraftRef] = Field(description="Drafts waiting for this holder's decision.")
    flags: list[Flag] = Field(description="Every flag in force.")
    overdue_requests: list[Message] = Field(description="Requests past their deadline, to or from the seats.")
    unread_messages: dict[str, int] = Field(description="Seat id → unread messages in its inbox.")
    metrics_off_track: list[MetricStatus]
    rules: list[Rule] = Field(description="The org's operating rules that name the seats.")
    learnings: list[Learnings] = Field(
        description="What people told the seats it holds at the gate lately: rejection reasons and edits as diffs "
        "(none for an admin token)."
    )
    todos: list[Todo] = Field(
        default_factory=list,
        description="The open to-dos of the seats, soonest due first; `overdue` when past their due day.",
    )
    rocks: list[Rock] = Field(
        default_factory=list,
        description="The seats' rocks of this quarter with their track (and a proposed track awaiting a person).",
    )
