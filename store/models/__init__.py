"""SQLAlchemy models: the tables of the system of record, one module per part of it.

`chart` (org, holders, seats), `scorecard` (metrics, values), `configuration` (approval
routes, policies, schedules from the chart file), `records` (audit log, inbound events),
`gate` (flags, drafts, decisions, their messages, the outbox), `agents` (API tokens), `autonomy` (earned grants), `bus`
(seat-to-seat messages), `lifecycle` (hearings), `rhythm` (schedule runs), `review` (issues, to-dos,
rocks, review meetings);
`base` holds the declarative base and the value lists they share. Import from here.

Invariants a database can hold are declared as constraints; the domain layer
(`store.domain`) checks them too so the user gets a clear message instead of an
IntegrityError.
"""

from __future__ import annotations

from otp_bot.store.models.agents import ApiToken
from otp_bot.store.models.autonomy import AutonomyGrant

# Every model and value list, at the one address the rest of the code imports them from.
# ruff: noqa: F401
from otp_bot.store.models.base import (
    AGGREGATIONS,
    AUTHORITY_LEVELS,
    CADENCES,
    CONFIDENCES,
    GOAL_OPS,
    HOLDER_KINDS,
    METRIC_KINDS,
    NAMING,
    SEAT_STATUSES,
    TIME_UNITS,
    VALUE_SOURCES,
    Aggregation,
    AuthorityLevel,
    Base,
    Cadence,
    Confidence,
    HolderKind,
    MetricKind,
    SeatStatus,
)
from otp_bot.store.models.bus import MESSAGE_STATUSES, PERFORMATIVES, Message
from otp_bot.store.models.chart import Holder, Org, Seat, SeatHolding, SeatOwns
from otp_bot.store.models.configuration import ApprovalRoute, Policy, Rule, Schedule
from otp_bot.store.models.delegations import Delegation
from otp_bot.store.models.gate import (
    CHANGES_REQUESTED,
    DELIVERY_STATES,
    DRAFT_STATUSES,
    DRAFT_WAITING,
    MAX_ROUNDS,
    OUTBOX_KINDS,
    OUTBOX_STATES,
    VERDICTS,
    DeliveryState,
    Draft,
    DraftChangeRequest,
    DraftDecision,
    DraftMessage,
    DraftStatus,
    Flag,
    OutboxItem,
    Verdict,
)
from otp_bot.store.models.lifecycle import HEARING_DECISIONS, Hearing
from otp_bot.store.models.records import AuditEntry, InboundEvent
from otp_bot.store.models.review import (
    ISSUE_SOURCES,
    ISSUE_STATUSES,
    REVIEW_SECTIONS,
    REVIEW_STATUSES,
    ROCK_STATUSES,
    ROCK_TRACKS,
    TODO_STATUSES,
    Headline,
    Issue,
    Review,
    ReviewSetup,
    Rock,
    Todo,
    TodoCheck,
)
from otp_bot.store.models.rhythm import RUN_POSTS, RUN_STATUSES, ScheduleRun
from otp_bot.store.models.scorecard import Metric, MetricValue, SeatActivity
