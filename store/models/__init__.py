"""SQLAlchemy models: the tables of the system of record, one module per part of it.

`chart` (org, holders, seats), `scorecard` (metrics, values), `configuration` (approval
routes, policies, schedules from the chart file), `records` (audit log, inbound events),
`gate` (flags, drafts, decisions, their messages, the outbox), `agents` (API tokens), `bus`
(seat-to-seat messages), `lifecycle` (hearings), `rhythm` (schedule runs, follow-ups);
`base` holds the declarative base and the value lists they share. Import from here.

Invariants a database can hold are declared as constraints; the domain layer
(`store.domain`) checks them too so the user gets a clear message instead of an
IntegrityError.
"""

from __future__ import annotations

# Every model and value list, at the one address the rest of the code imports them from.
# ruff: noqa: F401
from otp_bot.store.models.base import (
    Base, NAMING, HOLDER_KINDS, SEAT_STATUSES, AUTHORITY_LEVELS, CONFIDENCES, METRIC_KINDS, TIME_UNITS, CADENCES,
    AGGREGATIONS, GOAL_OPS, VALUE_SOURCES,
)
from otp_bot.store.models.chart import Org, Holder, Seat, SeatOwns, SeatHolding
from otp_bot.store.models.scorecard import Metric, MetricValue
from otp_bot.store.models.configuration import ApprovalRoute, Policy, Rule, Schedule
from otp_bot.store.models.records import AuditEntry, InboundEvent
from otp_bot.store.models.gate import (
    Flag, Draft, DraftDecision, DraftMessage, OutboxItem, DRAFT_STATUSES, VERDICTS, DELIVERY_STATES, OUTBOX_KINDS,
    OUTBOX_STATES,
)
from otp_bot.store.models.agents import ApiToken
from otp_bot.store.models.bus import Message, PERFORMATIVES, MESSAGE_STATUSES
from otp_bot.store.models.lifecycle import Hearing, HEARING_DECISIONS
from otp_bot.store.models.rhythm import ScheduleRun, FollowUp, RUN_STATUSES, RUN_POSTS
