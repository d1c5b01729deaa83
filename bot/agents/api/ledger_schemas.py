"""The trust ledger and the learnings of a seat, as the agent API and the agent's briefing answer them."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class Reason(BaseModel):
    reason: str
    times: int


class LedgerRow(BaseModel):
    kind: str | None = Field(description="The kind of draft; null: the seat over every kind.")
    submitted: int = Field(description="Drafts submitted in the window, whatever became of them.")
    decided: int = Field(description="Of those, approved or rejected (not expired, withdrawn or waiting).")
    approved: int
    rejected: int
    approved_unedited: int
    approved_edited: int
    approval_rate: float | None = Field(description="approved / decided; null when nothing was decided.")
    unedited_share: float | None = Field(description="approved without an edit / decided.")
    median_edit_chars: float | None = Field(
        description="Over the edited approvals: characters changed between the body and the approved text."
    )
    median_decision_seconds: float | None = Field(description="From going to approval to the final decision.")
    p90_decision_seconds: float | None = Field(description="The 90th percentile (nearest rank) of the same.")
    rejection_reasons: list[Reason] = Field(description="The most frequent first (at most 5).")
    rounds_of_changes: int = Field(description="Changes requested on the window's drafts.")
    drafts_revised: int = Field(description="Drafts with at least one round of changes.")
    approved_by_policy: int = Field(
        default=0, description="Approved by an earned autonomy policy: submitted, but not decided by a person."
    )


class Ledger(BaseModel):
    seat: str
    since: dt.datetime
    until: dt.datetime
    total: LedgerRow
    kinds: list[LedgerRow] = Field(description="Each kind of draft, the busiest first.")


class Rejection(BaseModel):
    draft_id: int
    kind: str
    title: str
    subject: str
    reason: str
    at: dt.datetime
    by: list[str] = Field(description="Who rejected it, by name.")


class Edit(BaseModel):
    draft_id: int
    kind: str
    title: str
    at: dt.datetime
    changed_chars: int
    diff: str = Field(description="Unified diff of the drafted body against the approved text.")
    cut: bool = Field(description="The diff was longer than 2,000 characters and is cut at a line's end.")


class ChangeAsked(BaseModel):
    draft_id: int = Field(description="The version the changes were asked of.")
    kind: str
    title: str
    text: str = Field(description="What to change, as the approver wrote it.")
    by: str = Field(description="Who asked, by name.")
    at: dt.datetime


class Learnings(BaseModel):
    seat: str
    kind: str | None
    since: dt.datetime
    until: dt.datetime
    reasons: list[Reason] = Field(description="Rejection reasons by frequency, the most frequent first.")
    rejections: list[Rejection] = Field(description="The latest rejections, newest first.")
    edits: list[Edit] = Field(description="The latest edits people made before approving, newest first.")
    changes_asked: list[ChangeAsked] = Field(
        default_factory=list, description="The latest changes people asked for (Request changes), newest first."
    )
