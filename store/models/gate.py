"""The tables of the human gate."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from otp_bot.store.models.base import Base, _in

if TYPE_CHECKING:  # the other side of a relationship; SQLAlchemy resolves it by name
    from otp_bot.store.models.chart import Holder, Seat


DraftStatus = Literal["held", "pending", "approved", "rejected", "expired", "withdrawn", "changes-requested", "revised"]
DRAFT_STATUSES = get_args(DraftStatus)
DRAFT_WAITING = ("held", "pending")  # not decided yet: a person, a flag or the chart may still move it
# Waiting for its drafter: an approver asked for changes; a revision (a new draft) answers it.
CHANGES_REQUESTED: Final = "changes-requested"
MAX_ROUNDS = 3  # versions of a draft a route allows when the chart file names no `max_rounds`
Verdict = Literal["approve", "reject"]
VERDICTS = get_args(Verdict)
DeliveryState = Literal["none", "pending", "delivered", "failed"]
DELIVERY_STATES = get_args(DeliveryState)
OUTBOX_KINDS = ("approval_post", "approval_update", "notify", "deliver", "bus_mirror", "webhook", "review")
OUTBOX_STATES = ("pending", "done", "failed")


class Flag(Base):
    """A seat's marker on a subject (`retention` flags `client:acme` as `at-risk`). Lifting
    keeps the row: the record of who flagged what, and when it ended, stays."""

    __tablename__ = "flags"
    __table_args__ = (
        Index(
            "uq_flags_active",
            "subject",
            "flag",
            "seat_id",
            unique=True,
            sqlite_where=text("lifted_at IS NULL"),
            postgresql_where=text("lifted_at IS NULL"),
        ),
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

    The route (where it is posted, who may decide, how many must) is copied on when the
    draft goes to approval and kept in step with the chart: a chart change re-routes or
    withdraws waiting drafts (store/domain/gate/follow_chart.py), and a decision re-reads the route.
    """

    __tablename__ = "drafts"
    __table_args__ = (
        CheckConstraint(_in("status", DRAFT_STATUSES), name="status"),
        CheckConstraint(_in("delivery", DELIVERY_STATES), name="delivery"),
        CheckConstraint("required >= 1", name="required"),
        CheckConstraint("status <> 'approved' OR final_body IS NOT NULL", name="approved_has_text"),
        CheckConstraint("round >= 1", name="round"),
        UniqueConstraint("seat_id", "idem_key", name="uq_drafts_idem"),
        UniqueConstraint("revises", name="uq_drafts_revises"),  # a draft is revised at most once
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
    status: Mapped[DraftStatus] = mapped_column(String(20))
    revises: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"))  # the draft this one revises
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # 1 + the versions before it
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
    delivery: Mapped[DeliveryState] = mapped_column(String(10), default="none")
    delivery_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    seat: Mapped[Seat] = relationship(lazy="joined")
    drafter: Mapped[Holder] = relationship(foreign_keys=[drafted_by], lazy="joined")
    decisions: Mapped[list[DraftDecision]] = relationship(
        back_populates="draft", order_by="DraftDecision.id", lazy="selectin"
    )
    messages: Mapped[list[DraftMessage]] = relationship(order_by="DraftMessage.id", lazy="selectin")
    change_request: Mapped[DraftChangeRequest | None] = relationship(lazy="selectin", uselist=False)
    previous: Mapped[Draft | None] = relationship(
        remote_side="Draft.id", foreign_keys="Draft.revises", back_populates="revised_by", lazy="select"
    )
    revised_by: Mapped[Draft | None] = relationship(back_populates="previous", uselist=False, lazy="select")


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
    verdict: Mapped[Verdict] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(Text)
    edited_body: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Decided as this person's delegate (out of office): counts as theirs (gate/delegation.py).
    on_behalf_of: Mapped[str | None] = mapped_column(ForeignKey("holders.id"))

    draft: Mapped[Draft] = relationship(back_populates="decisions")
    holder: Mapped[Holder] = relationship(foreign_keys=[holder_id], lazy="joined")


class DraftChangeRequest(Base):
    """What an approver asked the drafter to change: one per draft, since asking ends its wait
    for a decision. The answer is a revision, a new draft whose `revises` names this one."""

    __tablename__ = "draft_change_requests"
    __table_args__ = (UniqueConstraint("draft_id", name="uq_draft_change_requests_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"))
    holder_id: Mapped[str] = mapped_column(ForeignKey("holders.id"))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

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
    # Bumped by every claim: only the worker holding the current fence may call out or report.
    fence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # first call out; set once
    landed_channel: Mapped[str | None] = mapped_column(String(64))  # what Slack answered, as soon as it did
    landed_ts: Mapped[str | None] = mapped_column(String(32))
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
