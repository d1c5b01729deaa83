"""What the agent API reads and answers: pydantic models, which are also its OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from otp_bot.store.domain.gate.drafts import MAX_BODY
from otp_bot.store.domain.scorecard.metrics import Status
from otp_bot.store.domain.scorecard.value_batches import MAX_BATCH
from otp_bot.store.models import Aggregation, Cadence, MetricKind


class In(BaseModel):
    # A misspelt field is an error, not silently ignored: `perod` must not push to this week.
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- the chart


class HolderRef(BaseModel):
    id: str
    name: str
    kind: Literal["human", "agent"]


class Seat(BaseModel):
    id: str
    title: str
    status: Literal["active", "vacant", "planned", "retired"]
    customer_facing: bool
    holder: HolderRef | None
    accountable: HolderRef | None = Field(
        description="The human answerable for the seat: its holder, or an agent's supervisor."
    )
    reports_to: str | None


class Org(BaseModel):
    name: str
    timezone: str
    revision: int


class ChartPage(BaseModel):
    org: Org
    seats: list[Seat] = Field(description="Depth first, in chart order; `reports_to` gives the tree.")
    next_cursor: str | None


class Chart(BaseModel):
    org: Org
    seats: list[Seat] = Field(description="Depth first, in chart order; `reports_to` gives the tree.")
    truncated: bool = Field(description="More seats than listed: narrow the chart to a part of it.")


class Latest(BaseModel):
    period: dt.date = Field(
        description="The first day of the period (a Monday, the 1st of a month, of a quarter, or 1 January)."
    )
    label: str = Field(examples=["2026-W47"])
    value: float = Field(description="In the metric's unit (a duration shown in days: days).")
    shown: str = Field(examples=["31.5%", "€1.2M", "32 days", "NPS 45"])
    on_track: bool


class MetricStatus(BaseModel):
    id: str
    name: str
    seat: str
    kind: MetricKind = Field(
        description="What the values are: a duration is read from `90 min`, `1.5 h`, `2 d`; money in `currency`."
    )
    unit: str = Field(
        examples=["days", "calls", "NPS", "percent"],
        description="The unit values are shown and pushed in (a bare number is in this unit); the kind "
        "where there is no other (number, percent, currency, yesno, score).",
    )
    currency: str | None = Field(examples=["EUR"], description="ISO 4217 code of a money metric; null otherwise.")
    goal: str = Field(examples=[">= 30%"])
    cadence: Cadence
    aggregation: Aggregation
    formula: str | None = Field(description="Set for a computed metric: push its inputs, not it.")
    gate: str | None = Field(
        default=None,
        description="Set for a metric measured at the human gate (e.g. `approval-rate`): it takes no values.",
    )
    latest: Latest | None
    status: Status = Field(description="Over the last 3 periods: green all on track, yellow one miss, red two or more.")


class SeatDetail(Seat):
    aliases: list[str]
    accountabilities: list[str]
    owns: list[str]
    does_not_own: list[str]
    reporting_line: list[Seat] = Field(description="The seats above this one, nearest first.")
    metrics: list[MetricStatus]


class Holder(BaseModel):
    id: str
    name: str
    kind: Literal["human", "agent"]
    supervisor: str | None
    seats: list[str]


class HoldersPage(BaseModel):
    holders: list[Holder]
    next_cursor: str | None


class Candidate(BaseModel):
    seat: Seat
    matched: str = Field(description="The phrase of the chart that matched, as written there.")
    field: str
    score: float


class WhoOwns(BaseModel):
    query: str
    topic: str = Field(
        description="What the query asks about, without the question around it "
        "(`who owns churn?` asks about `churn`); what was searched."
    )
    seat: SeatDetail | None = Field(description="The owner, when the match is confident.")
    matched: str | None
    candidates: list[Candidate] = Field(description="When unsure: up to three closest seats.")


class Me(BaseModel):
    holder: HolderRef | None
    admin: bool
    seats: list[str] = Field(description="Seats the token's holder holds: it acts for these.")
    push_seats: list[str] = Field(description="Seats granted to the token for pushing values, beyond those held.")


# ---------------------------------------------------------------- metrics


class MetricsPage(BaseModel):
    metrics: list[MetricStatus]
    next_cursor: str | None


class MyMetrics(BaseModel):
    metrics: list[MetricStatus] = Field(description="Those of the seats held, and of seats granted for pushes.")


class ValueIn(In):
    metric: str = Field(max_length=200, examples=["early-flags"])
    # Decimal, not float: a JSON number is checked as sent (the API reads bodies exactly).
    value: StrictBool | Decimal | str = Field(
        description="A JSON number (in the metric's `unit`: days on a days metric), or text as people write it: "
        "`31.5%`, `$1,200`, `€1.2M`, `3,5`, `1.250,50`, `400k`, `1.5 h`, `90 min`, `2 d`, `NPS 45`, `yes`; "
        "`true`/`false` on a yes/no metric. Read exactly or refused with a per-value error: at most 15 significant "
        "digits, below 10^15; a lone `1,250` is ambiguous unless the org set its decimal mark; a currency sign or "
        "code must be the metric's (`currency`), a unit of time goes only on a duration. On a percent metric a "
        "number between 0 and 1 (`0.85`) is questioned: send `85`, or "
        'the text `"0.85%"` to confirm you mean less than one percent.',
        examples=[4],
    )
    period: str | None = Field(
        None,
        max_length=40,
        description="`2026-W47`, `2026-11`, `2026-Q4`, `2026`, a date in the period, or "
        "`last`; default: the period running now in the org's timezone.",
    )
    note: str | None = Field(None, description="At most 2,000 characters.")
    key: str | None = Field(
        None,
        description="Idempotency key (1 to 200 characters): a value pushed again with the "
        "same metric, period and key is answered `duplicate` and not recorded twice.",
    )
    correction: bool = Field(False, description="Replace the period's earlier values (they stay in the history).")


class PushIn(In):
    values: list[ValueIn] = Field(min_length=1, max_length=MAX_BATCH)


class ItemError(BaseModel):
    status: int = Field(description="The status the value would have had alone: 404, 422, ...")
    code: str
    title: str
    detail: str
    hint: str | None = None


class ValueOut(BaseModel):
    index: int = Field(description="Position in the request's `values`.")
    metric: str
    outcome: Literal["recorded", "duplicate", "error"]
    value: float | None = Field(description="For a duplicate, the value recorded the first time.")
    period: dt.date | None
    period_label: str | None
    on_track: bool | None
    error: ItemError | None = None


class PushOut(BaseModel):
    recorded: int
    duplicates: int
    errors: int
    results: list[ValueOut] = Field(description="One per value sent, in the same order.")


# ---------------------------------------------------------------- drafts


class DraftIn(In):
    seat: str = Field(max_length=64, description="The drafting seat: one the token's holder holds.")
    kind: str = Field(max_length=64, examples=["retention-outreach"])
    subject: str = Field(
        max_length=200, description="One word naming who or what it is about.", examples=["client:acme"]
    )
    title: str = Field(max_length=200)
    body: str = Field(max_length=MAX_BODY, description="The text (markdown) to approve.")
    destination: str | None = Field(
        None,
        max_length=500,
        description="Where the approved text goes: a Slack channel "
        "or user id, or an https:// callback URL on a public address (loopback and "
        "private targets only when an operator allows them; redirects are not followed).",
    )
    key: str | None = Field(
        None,
        max_length=200,
        description="Idempotency key (or the Idempotency-Key header): the same "
        "key and content return the same draft (200), different content with it is a 409.",
    )
    customer_facing: bool = True
    revises: int | None = Field(
        None,
        ge=1,
        description="The draft this revises: one of the same seat, kind and subject whose changes were "
        "requested. The revision takes its place on the same approval message; the route caps the rounds.",
    )


class Decision(BaseModel):
    holder: str
    name: str
    verdict: Literal["approve", "reject"]
    at: dt.datetime
    reason: str | None
    edited: bool


class ChangeRequest(BaseModel):
    draft: int = Field(description="The version the changes were asked of.")
    round: int
    holder: str
    name: str
    at: dt.datetime
    text: str = Field(description="What to change, as the approver wrote it.")


class Delivery(BaseModel):
    destination: str | None
    state: Literal["none", "pending", "delivered", "failed"]
    error: str | None
    delivered_at: dt.datetime | None


class Draft(BaseModel):
    id: int
    seat: str
    drafted_by: str
    kind: str
    subject: str
    title: str
    body: str
    customer_facing: bool
    status: Literal["held", "pending", "approved", "rejected", "expired", "withdrawn", "changes-requested", "revised"]
    outcome: str = Field(
        description="What happened, in one sentence.", examples=["approved by Bogdan at 2026-11-23 14:02 UTC"]
    )
    final_text: str | None = Field(description="The approved text (with any edits): what goes out.")
    edited: bool
    hold_reason: str | None
    rejection_reason: str | None
    approvals: int
    required: int
    decisions: list[Decision]
    round: int = Field(description="1 for a first draft, one more for each revision.")
    revises: int | None = Field(description="The draft this one revises.")
    revised_by: int | None = Field(description="The revision that replaced this draft (status `revised`).")
    change_requests: list[ChangeRequest] = Field(
        description="What approvers asked to change, oldest first: of the versions before this one and of this one."
    )
    delivery: Delivery
    created_at: dt.datetime
    queued_at: dt.datetime | None
    expires_at: dt.datetime | None
    decided_at: dt.datetime | None


class Submitted(BaseModel):
    created: bool = Field(description="False when the idempotency key was seen: the same draft is answered.")
    draft: Draft


class DraftList(BaseModel):
    drafts: list[Draft] = Field(description="Newest first.")


class Waited(BaseModel):
    changed: bool = Field(
        description="The status changed while waiting (decided, changes requested, expired, withdrawn, released)."
    )
    timed_out: bool
    draft: Draft


# ---------------------------------------------------------------- flags


class FlagIn(In):
    subject: str = Field(max_length=200, examples=["client:acme"])
    flag: str = Field(max_length=64, examples=["at-risk"])
    seat: str | None = Field(
        None, max_length=64, description="The flagging seat; needed when the holder holds several."
    )
    reason: str | None = Field(None, max_length=500)
    until: str | None = Field(
        None, max_length=40, description="When it ends by itself: `3d`, `12h`, a date or an ISO time."
    )


class Flag(BaseModel):
    id: int
    subject: str
    flag: str
    seat: str
    by: str | None = Field(description="The flagging seat's holder.")
    reason: str | None
    set_at: dt.datetime
    until: dt.datetime | None
    holds: list[str] = Field(description="Policies that hold drafts while this flag stands.")


class DraftRef(BaseModel):
    id: int
    seat: str
    kind: str
    title: str
    status: str


class FlagChange(BaseModel):
    flag: Flag
    created: bool = Field(
        description="False when the flag was already set (its reason and expiry were updated) or lifted."
    )
    released: list[DraftRef] = Field(description="Held drafts that went to approval because the flag was lifted.")


class FlagsPage(BaseModel):
    flags: list[Flag]
    next_cursor: str | None


class Flags(BaseModel):
    flags: list[Flag] = Field(description="By subject, then when they were set.")


# ---------------------------------------------------------------- the token's webhook


class WebhookIn(In):
    url: str = Field(
        min_length=1,
        max_length=500,
        examples=["https://agents.example.com/otp/decisions"],
        description="Receives every decision on the drafts of this token's agent, as a signed JSON POST. "
        "A non-public address (loopback, private, link-local) is refused unless the operator allows it.",
    )


class Webhook(BaseModel):
    url: str | None = Field(description="Where decisions are posted; null when the token has no webhook.")
    set_at: dt.datetime | None
    events: list[str] = Field(description="What the webhook receives: the `event` of each POST.")


class WebhookSet(Webhook):
    secret: str = Field(
        description="Signs every POST (X-OTP-Signature, HMAC-SHA256): shown now only. Setting the webhook "
        "again makes a new one."
    )
