"""The tables of chart configuration."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from otp_bot.store.models.base import CONFIDENCES, Base, Confidence, _in

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
    max_rounds: Mapped[int | None] = mapped_column(Integer)  # versions of a draft; None: MAX_ROUNDS
    # {kinds, after, sample}: approval by policy once earned (store/domain/gate/autonomy.py).
    autonomy: Mapped[dict[str, Any] | None] = mapped_column()
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


class Rule(Base):
    """An operating rule of the org: a claim of an OOS file, kept with the chart."""

    __tablename__ = "rules"
    __table_args__ = (CheckConstraint(_in("confidence", CONFIDENCES), name="confidence"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # the claim id, C001
    section: Mapped[str] = mapped_column(String(100))
    rule: Mapped[str] = mapped_column(Text)
    why: Mapped[str | None] = mapped_column(Text)
    failure_mode: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[Confidence | None] = mapped_column(String(8))
    confidence_score: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[str | None] = mapped_column(String(32))
    evidence_reference: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str | None] = mapped_column(Text)
    seats: Mapped[list[str]] = mapped_column(default=list)  # the seats it names
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what else the claim said, verbatim
    position: Mapped[int] = mapped_column(Integer, default=0)
