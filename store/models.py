"""SQLAlchemy models: the tables of the system of record.

Invariants a database can hold are declared here as constraints; the domain layer
(`store.domain`) checks them too so the user gets a clear message instead of an
IntegrityError.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

HOLDER_KINDS = ("human", "agent")
SEAT_STATUSES = ("active", "vacant", "planned", "retired")
UNITS = ("number", "percent", "currency", "minutes", "yesno")
CADENCES = ("weekly", "monthly")
AGGREGATIONS = ("last", "sum", "avg", "min", "max")
GOAL_OPS = (">=", "<=", "==", ">", "<", "in", "out")
VALUE_SOURCES = ("api", "manual", "import")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


# ---------------------------------------------------------------------------- the chart

class Org(Base):
    """The single row describing the organisation; `revision` grows with every chart change."""

    __tablename__ = "org"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # Changes with every revision too, but is never reused: caches key on it, so a
    # database rebuilt from scratch cannot serve a stale index under an old revision number.
    etag: Mapped[str] = mapped_column(String(32), default="")
    # Where seat-to-seat messages are mirrored, so people see what the agents agreed.
    coordination_channel: Mapped[str | None] = mapped_column(String(64))


class Holder(Base):
    __tablename__ = "holders"
    __table_args__ = (
        CheckConstraint(_in("kind", HOLDER_KINDS), name="kind"),
        CheckConstraint("kind = 'human' OR supervisor_id IS NOT NULL", name="agent_has_supervisor"),
        CheckConstraint("supervisor_id IS NULL OR supervisor_id <> id", name="not_own_supervisor"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))
    slack_user: Mapped[str | None] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    supervisor_id: Mapped[str | None] = mapped_column(ForeignKey("holders.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    supervisor: Mapped[Holder | None] = relationship(remote_side=[id], lazy="joined", join_depth=1)

    @property
    def is_agent(self) -> bool:
        return self.kind == "agent"


class Seat(Base):
    __tablename__ = "seats"
    __table_args__ = (
        CheckConstraint(_in("status", SEAT_STATUSES), name="status"),
        CheckConstraint("reports_to_id IS NULL OR reports_to_id <> id", name="not_own_manager"),
        CheckConstraint("status <> 'active' OR holder_id IS NOT NULL", name="active_has_holder"),
        CheckConstraint("status NOT IN ('vacant', 'retired') OR holder_id IS NULL", name="vacant_has_no_holder"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # One column for the current holder is what makes "one holder per seat" structural.
    holder_id: Mapped[str | None] = mapped_column(ForeignKey("holders.id"), index=True)
    reports_to_id: Mapped[str | None] = mapped_column(ForeignKey("seats.id"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="active")
    customer_facing: Mapped[bool] = mapped_column(Boolean, default=False)
    aliases: Mapped[list[str]] = mapped_column(default=list)
    accountabilities: Mapped[list[str]] = mapped_column(default=list)
    does_not_own: Mapped[list[str]] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)

    holder: Mapped[Holder | None] = relationship(lazy="joined")
    owns: Mapped[list[SeatOwns]] = relationship(
        back_populates="seat", cascade="all, delete-orphan", order_by="SeatOwns.position", lazy="selectin"
    )
    metrics: Mapped[list[Metric]] = relationship(
        back_populates="seat", cascade="all, delete-orphan", order_by="Metric.position", lazy="selectin"
    )


class SeatOwns(Base):
    """A function a seat owns. Unique across the chart: no two seats own the same function."""

    __tablename__ = "seat_owns"

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(200))
    normalized: Mapped[str] = mapped_column(String(200), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    seat: Mapped[Seat] = relationship(back_populates="owns")


class SeatHolding(Base):
    """Who held which seat when. At most one open holding per seat."""

    __tablename__ = "seat_holdings"
    __table_args__ = (
        Index(
            "uq_seat_holdings_open",
            "seat_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"), index=True)
    holder_id: Mapped[str] = mapped_column(ForeignKey("holders.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# ---------------------------------------------------------------------------- the scorecard

class Metric(Base):
    __tablename__ = "metrics"
    __table_args__ = (
        CheckConstraint(_in("unit", UNITS), name="unit"),
        CheckConstraint(_in("cadence", CADENCES), name="cadence"),
        CheckConstraint(_in("aggregation", AGGREGATIONS), name="aggregation"),
        CheckConstraint(_in("goal_op", GOAL_OPS), name="goal_op"),
        CheckConstraint("goal_op NOT IN ('in', 'out') OR (goal_high IS NOT NULL AND goal_high >= goal_value)", name="range"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(8), default="number")
    goal_op: Mapped[str] = mapped_column(String(4))
    goal_value: Mapped[float] = mapped_column(Float)
    goal_high: Mapped[float | None] = mapped_column(Float)
    cadence: Mapped[str] = mapped_column(String(8), default="weekly")
    aggregation: Mapped[str] = mapped_column(String(4), default="last")
    formula: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    seat: Mapped[Seat] = relationship(back_populates="metrics")


class MetricValue(Base):
    """One observation. Rows are never updated: a correction is a new row that resets its period."""

    __tablename__ = "metric_values"
    __table_args__ = (
        CheckConstraint(_in("source", VALUE_SOURCES), name="source"),
        # Also the index of look-ups by metric and period (its first two columns): a second
        # index on them only made every insert dearer (migration 0009).
        UniqueConstraint("metric_id", "period_start", "idem_key", name="uq_metric_values_idem"),
        # The org-wide read of recent periods, answered from the index alone (migration 0011).
        # Keyed by period then id: a push, nearly all for the latest period, appends at its end.
        Index("ix_metric_values_period", "period_start", "id", "metric_id", "value", "is_correction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric_id: Mapped[str] = mapped_column(ForeignKey("metrics.id", ondelete="CASCADE"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    is_correction: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(8))
    entered_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    idem_key: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# ---------------------------------------------------------------------------- chart configuration
# (imported with the chart file: approval routes, policies, schedules)

class ApprovalRoute(Base):
    __tablename__ = "approval_routes"
    __table_args__ = (CheckConstraint("required >= 1", name="required"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seats: Mapped[list[str]] = mapped_column(default=list)
    kinds: Mapped[list[str]] = mapped_column(default=list)
    channel: Mapped[str | None] = mapped_column(String(64))
    approvers: Mapped[list[str]] = mapped_column(default=list)
    usergroup: Mapped[str | None] = mapped_column(String(64))
    required: Mapped[int] = mapped_column(Integer, default=1)
    # Minutes after which approvers are reminded, the draft escalates, and it expires;
    # None takes the defaults in store.domain.routing.
    remind_after: Mapped[int | None] = mapped_column(Integer)
    escalate_after: Mapped[int | None] = mapped_column(Integer)
    expires_after: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Policy(Base):
    __tablename__ = "policies"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    hold_kind: Mapped[str | None] = mapped_column(String(100))
    while_flag: Mapped[str | None] = mapped_column(String(100))
    winner: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    # Anything an imported format said that no column holds yet, kept verbatim.
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Schedule(Base):
    __tablename__ = "schedules"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    post: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(64))
    cron: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str | None] = mapped_column(String(64))
    holidays: Mapped[list[str]] = mapped_column(default=list)
    working_days: Mapped[list[str]] = mapped_column(default=list)  # empty: every day the cron names
    grace: Mapped[int | None] = mapped_column(Integer)  # minutes a missed run may still post late; None: the default
    position: Mapped[int] = mapped_column(Integer, default=0)


# ---------------------------------------------------------------------------- records

class AuditEntry(Base):
    """Append-only; each entry carries the hash of the one before, so an edit shows."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class InboundEvent(Base):
    """Slack Events API deliveries already handled: Slack retries them, we act once."""

    __tablename__ = "inbound_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


# ---------------------------------------------------------------------------- the human gate

DRAFT_STATUSES = ("held", "pending", "approved", "rejected", "expired", "withdrawn")
VERDICTS = ("approve", "reject")
DELIVERY_STATES = ("none", "pending", "delivered", "failed")
OUTBOX_KINDS = ("approval_post", "approval_update", "notify", "deliver", "bus_mirror")
OUTBOX_STATES = ("pending", "done", "failed")


class Flag(Base):
    """A seat's marker on a subject (`retention` flags `client:acme` as `at-risk`). Lifting
    keeps the row: the record of who flagged what, and when it ended, stays."""

    __tablename__ = "flags"
    __table_args__ = (
        Index("uq_flags_active", "subject", "flag", "seat_id", unique=True,
              sqlite_where=text("lifted_at IS NULL"), postgresql_where=text("lifted_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    flag: Mapped[str] = mapped_column(String(64))
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    lifted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    lifted_by: Mapped[str | None] = mapped_column(String(200))

    seat: Mapped[Seat] = relationship(lazy="joined")


class Draft(Base):
    """Agent output waiting for a human decision before it goes out.

    The route (where it is posted, who may decide, how many must) is fixed when the draft
    is submitted, so a later chart change cannot move a decision under someone's feet.
    """

    __tablename__ = "drafts"
    __table_args__ = (
        CheckConstraint(_in("status", DRAFT_STATUSES), name="status"),
        CheckConstraint(_in("delivery", DELIVERY_STATES), name="delivery"),
        CheckConstraint("required >= 1", name="required"),
        CheckConstraint("status <> 'approved' OR final_body IS NOT NULL", name="approved_has_text"),
        UniqueConstraint("seat_id", "idem_key", name="uq_drafts_idem"),
        Index("ix_drafts_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"), index=True)
    drafted_by: Mapped[str] = mapped_column(ForeignKey("holders.id"))
    submitted_by: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200), index=True)
    customer_facing: Mapped[bool] = mapped_column(Boolean, default=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    destination: Mapped[str | None] = mapped_column(String(500))
    idem_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10))
    hold_reason: Mapped[str | None] = mapped_column(Text)
    held_by_policy: Mapped[str | None] = mapped_column(String(100))
    route_channel: Mapped[str] = mapped_column(String(64))
    approvers: Mapped[list[str]] = mapped_column(default=list)
    usergroup: Mapped[str | None] = mapped_column(String(64))
    required: Mapped[int] = mapped_column(Integer, default=1)
    final_body: Mapped[str | None] = mapped_column(Text)
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    queued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # when it went to approval
    remind_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    escalate_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_to: Mapped[str | None] = mapped_column(ForeignKey("holders.id"))
    delivery: Mapped[str] = mapped_column(String(10), default="none")
    delivery_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    seat: Mapped[Seat] = relationship(lazy="joined")
    drafter: Mapped[Holder] = relationship(foreign_keys=[drafted_by], lazy="joined")
    decisions: Mapped[list[DraftDecision]] = relationship(
        back_populates="draft", order_by="DraftDecision.id", lazy="selectin")
    messages: Mapped[list[DraftMessage]] = relationship(order_by="DraftMessage.id", lazy="selectin")


class DraftDecision(Base):
    """One person's verdict on a draft. One per person: a second click changes nothing."""

    __tablename__ = "draft_decisions"
    __table_args__ = (
        CheckConstraint(_in("verdict", VERDICTS), name="verdict"),
        CheckConstraint("verdict <> 'reject' OR reason IS NOT NULL", name="reject_has_reason"),
        UniqueConstraint("draft_id", "holder_id", name="uq_draft_decisions_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    holder_id: Mapped[str] = mapped_column(ForeignKey("holders.id"))
    verdict: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(Text)
    edited_body: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    draft: Mapped[Draft] = relationship(back_populates="decisions")
    holder: Mapped[Holder] = relationship(lazy="joined")


class DraftMessage(Base):
    """A Slack message that carries a draft's buttons: a click counts only on one of these."""

    __tablename__ = "draft_messages"
    __table_args__ = (UniqueConstraint("channel", "ts", name="uq_draft_messages_channel_ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    ts: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(16), default="approval")  # approval | escalation


class OutboxItem(Base):
    """Work for the outside world (Slack posts, deliveries), written in the same transaction
    as the change that caused it and performed by the worker: nothing is lost on a crash."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_in("kind", OUTBOX_KINDS), name="kind"),
        CheckConstraint(_in("status", OUTBOX_STATES), name="status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=6)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# ---------------------------------------------------------------------------- the agents' side

class ApiToken(Base):
    """A bearer token for the agent API and MCP. Only its SHA-256 is stored: the token
    itself is shown once, when it is created."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("admin OR holder_id IS NOT NULL", name="acts_as_someone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    holder_id: Mapped[str | None] = mapped_column(ForeignKey("holders.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists, so a token can be recognised
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    push_seats: Mapped[list[str]] = mapped_column(default=list)  # seats granted beyond those held
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    holder: Mapped[Holder | None] = relationship(lazy="joined")


# ---------------------------------------------------------------------------- the message bus

PERFORMATIVES = ("REQUEST", "INFORM", "PROPOSAL", "RESPONSE")
MESSAGE_STATUSES = ("unread", "read", "answered")


class Message(Base):
    """One seat's message to another. The inbox belongs to the seat, not its holder: a new
    holder finds what was sent to the seat, and a vacant seat's messages wait.

    A reply names the message it answers (`in_reply_to`); `thread_id` is the first
    message of the thread, NULL on that first message itself."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(_in("performative", PERFORMATIVES), name="performative"),
        CheckConstraint(_in("status", MESSAGE_STATUSES), name="status"),
        CheckConstraint("deadline IS NULL OR performative = 'REQUEST'", name="deadline_on_request"),
        CheckConstraint("performative <> 'RESPONSE' OR in_reply_to IS NOT NULL", name="response_replies"),
        CheckConstraint("(in_reply_to IS NULL) = (thread_id IS NULL)", name="reply_has_thread"),
        CheckConstraint("from_seat_id <> to_seat_id", name="not_to_self"),
        CheckConstraint("status = 'unread' OR read_at IS NOT NULL", name="read_has_time"),
        CheckConstraint("status <> 'answered' OR answered_at IS NOT NULL", name="answered_has_time"),
        UniqueConstraint("from_seat_id", "idem_key", name="uq_messages_idem"),
        Index("ix_messages_inbox", "to_seat_id", "status", "id"),
        Index("ix_messages_deadline", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"), index=True)
    to_seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"))
    performative: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    in_reply_to: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    deadline: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    idem_key: Mapped[str | None] = mapped_column(String(200))
    sent_by: Mapped[str] = mapped_column(String(200))  # the audit name of who sent it
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(8), default="unread")  # for the recipient
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    from_seat: Mapped[Seat] = relationship(foreign_keys=[from_seat_id], lazy="joined")
    to_seat: Mapped[Seat] = relationship(foreign_keys=[to_seat_id], lazy="joined")

    @property
    def root_id(self) -> int:
        return self.thread_id or self.id


# ---------------------------------------------------------------------------- seat lifecycle

HEARING_DECISIONS = ("retire", "keep")


class Hearing(Base):
    """A hearing on a seat: why it was held, what was found and recommended, what was
    decided, and where each of the seat's capabilities went. Written once, never updated;
    the seat keeps it (a seat with a hearing is retired, never removed)."""

    __tablename__ = "hearings"
    __table_args__ = (CheckConstraint(_in("decision", HEARING_DECISIONS), name="decision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    findings: Mapped[str] = mapped_column(Text)
    recommendation: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(8))
    held_by: Mapped[str] = mapped_column(String(200))  # the audit name of who decided
    held_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    holder_id: Mapped[str | None] = mapped_column(ForeignKey("holders.id"))  # who held the seat until then
    # [{"capability": "retention outreach", "kind": "owns", "to_seat": "sales"}]; to_seat None: dropped.
    # Plain ids, not keys: the record stays readable whatever happens to those seats later.
    moves: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    manager_id: Mapped[str | None] = mapped_column(String(64))  # the seat its direct reports moved under
    reports: Mapped[list[str]] = mapped_column(default=list)


# ---------------------------------------------------------------------------- the operating rhythm

RUN_STATUSES = ("claimed", "posted", "skipped", "failed")
RUN_POSTS = ("briefing", "scorecard")


class ScheduleRun(Base):
    """One post of a schedule for one period (a day for the briefing, a week for the scorecard).

    The unique key is what makes a post happen once: every scheduler instance (and
    `otp schedule run`) inserts the period's row before posting, and only one insert wins.
    `seq` 0 is the period's own run; a forced or on-demand post takes the next number.
    The run is its own outbox entry: `locked_until` is the lease of whoever is posting, and
    the Slack post carries the run's key in its metadata, so a run taken over after a crash
    looks for its post before posting again."""

    __tablename__ = "schedule_runs"
    __table_args__ = (
        CheckConstraint(_in("status", RUN_STATUSES), name="status"),
        CheckConstraint(_in("post", RUN_POSTS), name="post"),
        CheckConstraint("status <> 'posted' OR posted_ts IS NOT NULL", name="posted_has_ts"),
        CheckConstraint("seq >= 0", name="seq"),
        UniqueConstraint("schedule", "period", "seq", name="uq_schedule_runs_once"),
        Index("ix_schedule_runs_status", "status", "locked_until"),
        Index("ix_schedule_runs_posted", "posted_channel", "posted_ts"),
        Index("ix_schedule_runs_post", "post", "status", "posted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule: Mapped[str] = mapped_column(String(100))  # a schedule's name, or "on-demand"; no key: runs outlive schedules
    post: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))  # 2026-11-24 (a day) or 2026-W48 (a week)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))  # when it was scheduled (or asked for)
    started_by: Mapped[str] = mapped_column(String(200))  # "scheduler", or the audit name of who ran it
    status: Mapped[str] = mapped_column(String(8))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    posted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    posted_channel: Mapped[str | None] = mapped_column(String(64))
    posted_ts: Mapped[str | None] = mapped_column(String(32))
    file_id: Mapped[str | None] = mapped_column(String(64))  # the scorecard's chart image, once uploaded
    note: Mapped[str | None] = mapped_column(Text)  # why it was skipped or failed

    @property
    def key(self) -> str:
        """The key its Slack post carries in message metadata."""
        return f"run:{self.schedule}:{self.period}:{self.seq}"


class FollowUp(Base):
    """An off-track metric turned into an item to act on, from the scorecard post's button.
    One per metric and period: two clicks (or two people) open one follow-up."""

    __tablename__ = "follow_ups"
    __table_args__ = (UniqueConstraint("metric_id", "period", name="uq_follow_ups_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    metric_id: Mapped[str] = mapped_column(ForeignKey("metrics.id"))
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"), index=True)
    period: Mapped[dt.date] = mapped_column(Date)  # the period whose value missed the goal
    value: Mapped[float] = mapped_column(Float)
    goal: Mapped[str] = mapped_column(String(100))  # as it read then: goals change
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("holders.id"))  # the human accountable for the seat
    run_id: Mapped[int | None] = mapped_column(ForeignKey("schedule_runs.id"))  # the post it was opened from
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    owner: Mapped[Holder | None] = relationship(lazy="joined")
