"""The tables of the weekly operating review: issues, to-dos, rocks, the review meetings and
the headlines collected for them, and the review's setup from the chart file.

An issue, a to-do or a rock is owned by a seat, not a person: the seat's holder (human or
agent) answers for it, and a reassignment hands it over with the seat. Who raised or changed
something is kept as the audit name (`user:…`, `holder:…`, `token:…`), as elsewhere.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from otp_bot.store.models.base import Base, _in

if TYPE_CHECKING:
    from otp_bot.store.models.chart import Holder

ISSUE_STATUSES = ("open", "discussed", "solved", "dropped")
ISSUE_SOURCES = ("manual", "metric", "draft", "message", "review")
TODO_STATUSES = ("open", "done", "dropped")
ROCK_TRACKS = ("on", "off")
ROCK_STATUSES = ("open", "done", "dropped")
REVIEW_STATUSES = ("open", "running", "ended", "not-held")
REVIEW_SECTIONS = ("scorecard", "rocks", "headlines", "todos", "issues")


class Issue(Base):
    """Something to solve in the weekly review: identified (open) → discussed → solved (with the
    decision taken), or dropped. `rank` orders the open list (1 first). What it came from is
    kept: a metric's miss (metric and period, the value and goal as they read then), a draft,
    a message (a permalink or a bus message id), or the review itself. One issue per metric
    and period: two clicks on the same miss raise one issue."""

    __tablename__ = "issues"
    __table_args__ = (
        CheckConstraint(_in("status", ISSUE_STATUSES), name="status"),
        CheckConstraint(_in("source", ISSUE_SOURCES), name="source"),
        CheckConstraint("source <> 'metric' OR (metric_id IS NOT NULL AND period IS NOT NULL)", name="metric_source"),
        UniqueConstraint("metric_id", "period", name="uq_issues_metric_period"),
        Index("ix_issues_status_rank", "status", "rank"),
        Index("ix_issues_seat", "seat_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"))  # the seat that owns solving it
    status: Mapped[str] = mapped_column(String(12), default="open")
    rank: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(12), default="manual")
    metric_id: Mapped[str | None] = mapped_column(ForeignKey("metrics.id"))
    period: Mapped[dt.date | None] = mapped_column(Date)  # the period whose value missed the goal
    value: Mapped[float | None] = mapped_column(Float)
    goal: Mapped[str | None] = mapped_column(String(100))  # as it read then: goals change
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"))
    message_ref: Mapped[str | None] = mapped_column(String(300))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("schedule_runs.id"))  # the post it was raised from
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))  # the review that solved or dropped it
    detail: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(Text)  # what was decided (solved) or why dropped
    raised_by: Mapped[str] = mapped_column(String(200))
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    discussed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    todos: Mapped[list[Todo]] = relationship(back_populates="issue", order_by="Todo.id", lazy="selectin")


class Todo(Base):
    """A commitment owned by a seat with a due date (7 days by default), often from an issue's
    solution. Each review records whether it was done (`TodoCheck`); it stays open until done
    or dropped."""

    __tablename__ = "todos"
    __table_args__ = (
        CheckConstraint(_in("status", TODO_STATUSES), name="status"),
        Index("ix_todos_seat", "seat_id", "status"),
        Index("ix_todos_due", "status", "due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(500))
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"))
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"))
    due: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)  # what the owner said on completing or dropping it

    issue: Mapped[Issue | None] = relationship(back_populates="todos")
    checks: Mapped[list[TodoCheck]] = relationship(order_by="TodoCheck.id", lazy="selectin")


class TodoCheck(Base):
    """Done or not done for a week: reported at its review, recorded done when the to-do is
    completed during the week, and not done for every open to-do due by the week's end that
    nobody checked when the review ends (or is recorded not held). The ground of the to-do
    completion rate. One per to-do and week."""

    __tablename__ = "todo_checks"
    __table_args__ = (
        UniqueConstraint("todo_id", "week", name="uq_todo_checks_once"),
        Index("ix_todo_checks_week", "week"),
        # The to-do completion rows of every seat, read week by week from the index alone
        # (store/domain/review/completion.py; migration 0026).
        Index("ix_todo_checks_week_seat", "week", "seat_id", "done"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    todo_id: Mapped[int] = mapped_column(ForeignKey("todos.id"))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"))  # the seat that owned it then
    week: Mapped[dt.date] = mapped_column(Date)  # the Monday of the week it was checked
    done: Mapped[bool] = mapped_column(Boolean)
    checked_by: Mapped[str] = mapped_column(String(200))
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Rock(Base):
    """One of a seat's 1–5 priorities for a quarter (`2026-Q4`), due inside it, with
    milestones, on or off track week by week. An agent's holder proposes the track
    (`proposed_track`); the seat's accountable human confirms it."""

    __tablename__ = "rocks"
    __table_args__ = (
        CheckConstraint(_in("track", ROCK_TRACKS), name="track"),
        CheckConstraint(f"proposed_track IS NULL OR {_in('proposed_track', ROCK_TRACKS)}", name="proposed_track"),
        CheckConstraint(_in("status", ROCK_STATUSES), name="status"),
        Index("ix_rocks_seat_quarter", "seat_id", "quarter"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.id"))
    quarter: Mapped[str] = mapped_column(String(7))  # 2026-Q4
    title: Mapped[str] = mapped_column(String(300))
    due: Mapped[dt.date] = mapped_column(Date)
    track: Mapped[str] = mapped_column(String(3), default="on")
    status: Mapped[str] = mapped_column(String(8), default="open")
    milestones: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{title, due, done}]
    proposed_track: Mapped[str | None] = mapped_column(String(3))
    proposed_by: Mapped[str | None] = mapped_column(String(200))
    proposed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    track_set_by: Mapped[str | None] = mapped_column(String(200))
    track_set_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(12), default="manual")  # manual, chart, oos
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Review(Base):
    """One week's review meeting, in a thread under that week's scorecard post. `open` when
    the thread is opened, `running` once the facilitator starts it (through the sections in
    order), `ended` with its summary, or `not-held` when nobody ran it. One per week."""

    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint(_in("status", REVIEW_STATUSES), name="status"),
        CheckConstraint(f"section IS NULL OR {_in('section', REVIEW_SECTIONS)}", name="section"),
        UniqueConstraint("week", name="uq_reviews_week"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week: Mapped[dt.date] = mapped_column(Date)  # the Monday of the week reviewed
    status: Mapped[str] = mapped_column(String(10), default="open")
    section: Mapped[str | None] = mapped_column(String(12))  # where a running review is
    channel: Mapped[str | None] = mapped_column(String(64))
    thread_ts: Mapped[str | None] = mapped_column(String(32))  # the scorecard post the thread hangs under
    run_id: Mapped[int | None] = mapped_column(ForeignKey("schedule_runs.id"))
    facilitator_id: Mapped[str | None] = mapped_column(ForeignKey("holders.id"))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_by: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)  # decisions, new to-dos, checks

    facilitator: Mapped[Holder | None] = relationship(lazy="joined")


class Headline(Base):
    """A one-liner for the week's review from a holder (a person by DM, an agent through the
    API or MCP), collected before the meeting. One per holder and review; a second replaces it."""

    __tablename__ = "headlines"
    __table_args__ = (UniqueConstraint("review_week", "holder_id", name="uq_headlines_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_week: Mapped[dt.date] = mapped_column(Date)  # the Monday of the review it is for
    holder_id: Mapped[str] = mapped_column(ForeignKey("holders.id"))
    text: Mapped[str] = mapped_column(String(1000))
    via: Mapped[str] = mapped_column(String(12))  # dm, command, api, mcp
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ReviewSetup(Base):
    """The review as the chart file declares it: the scorecard schedule whose weekly post opens
    the thread (its channel and time), the facilitator, who attends, and how long before the
    post the headline prompts go out. At most one row."""

    __tablename__ = "review_setup"
    __table_args__ = (CheckConstraint("id = 1", name="single"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    schedule: Mapped[str] = mapped_column(String(100))  # a scorecard schedule's name
    facilitator_id: Mapped[str] = mapped_column(ForeignKey("holders.id"))
    attendees: Mapped[list[str]] = mapped_column(default=list)  # holder ids, chart order
    headlines_ahead: Mapped[int] = mapped_column(Integer, default=120)  # minutes before the post
