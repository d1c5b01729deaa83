"""The tables of the operating rhythm."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from otp_bot.store.models.base import Base, _in

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
    schedule: Mapped[str] = mapped_column(
        String(100)
    )  # a schedule's name, or "on-demand"; no key: runs outlive schedules
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
    # When the first attempt was about to post (set once): where a taker's look-up starts.
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    posted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    posted_channel: Mapped[str | None] = mapped_column(String(64))
    posted_ts: Mapped[str | None] = mapped_column(String(32))
    file_id: Mapped[str | None] = mapped_column(String(64))  # the scorecard's chart image, once uploaded
    note: Mapped[str | None] = mapped_column(Text)  # why it was skipped or failed

    @property
    def key(self) -> str:
        """The key its Slack post carries in message metadata."""
        return f"run:{self.schedule}:{self.period}:{self.seq}"
