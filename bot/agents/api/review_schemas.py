"""The weekly review's models, shared by the agent API and the MCP tools: issues, to-dos, rocks,
headlines and the review at a glance. One shape for both; the mapping from the store is here too."""

from __future__ import annotations

import datetime as dt
from typing import Literal, cast

from pydantic import BaseModel, Field

from otp_bot.bot.agents.api.schemas import In
from otp_bot.store import models
from otp_bot.store.domain.agents.request_keys import MAX_KEY
from otp_bot.store.domain.chart.reading import accountable_human
from otp_bot.store.domain.clock import as_utc

IssueStatus = Literal["open", "discussed", "solved", "dropped"]
IssueSource = Literal["manual", "metric", "draft", "message", "review"]
ItemStatus = Literal["open", "done", "dropped"]
Track = Literal["on", "off"]

KEY = Field(
    None,
    max_length=MAX_KEY,
    description="Idempotency key (or the Idempotency-Key header): the same key and content return what the "
    "first request made (200), the same key with other content is a 409.",
)


# ---------------------------------------------------------------- issues


class IssueIn(In):
    title: str = Field(max_length=1000, description="What the issue is, in one line.", examples=["Churn is up in SMB"])
    seat: str | None = Field(
        None, max_length=64, description="The seat that owns solving it (default: the first seat the token holds)."
    )
    detail: str | None = Field(None, max_length=8000, description="More context: numbers, links, what was tried.")
    draft: int | None = Field(None, ge=1, description="The draft it came from: the issue's source is then `draft`.")
    message: str | None = Field(
        None,
        max_length=300,
        description="The message it came from (a Slack permalink or a bus message number): source `message`.",
    )
    key: str | None = KEY


class Issue(BaseModel):
    id: int
    title: str
    seat: str = Field(description="The seat that owns solving it.")
    status: IssueStatus
    rank: int | None = Field(description="Place on the open list (1 first); null once solved or dropped.")
    source: IssueSource
    metric: str | None = Field(description="For an issue from a metric's miss: the metric …")
    period: dt.date | None = Field(description="… the period that missed (its first day) …")
    value: float | None = Field(description="… and the value and goal as they read then.")
    goal: str | None
    draft: int | None
    message: str | None
    detail: str | None
    decision: str | None = Field(description="What was decided (solved), or why it was dropped.")
    todos: list[int] = Field(description="The to-dos its solution created.")
    raised_by: str
    raised_at: dt.datetime
    discussed_at: dt.datetime | None
    closed_by: str | None
    closed_at: dt.datetime | None


class IssueRaised(BaseModel):
    created: bool = Field(description="False when the idempotency key was seen: the same issue is answered.")
    issue: Issue


class Issues(BaseModel):
    issues: list[Issue] = Field(
        description="Open and discussed issues by rank (1 first); with status `all`, the closed ones after, "
        "latest first."
    )
    truncated: bool = Field(description="More issues than `limit`: narrow to a seat.")


# ---------------------------------------------------------------- to-dos


class TodoIn(In):
    text: str = Field(max_length=1000, description="What is to be done.", examples=["Call Acme about the renewal"])
    seat: str | None = Field(
        None, max_length=64, description="The owning seat; an agent adds to-dos for its own seats (default: its one)."
    )
    due: str | None = Field(
        None,
        max_length=40,
        description="`2026-12-20`, `today`, `tomorrow`, a weekday (`friday`), `in 3 days`; default: in 7 days "
        "(the org's timezone).",
    )
    issue: int | None = Field(None, ge=1, description="The issue it answers.")
    key: str | None = KEY


class CompleteIn(In):
    note: str | None = Field(None, max_length=2000, description="What was done, for the review.")


class Check(BaseModel):
    week: dt.date = Field(description="The Monday of the review week it was checked in.")
    done: bool


class Todo(BaseModel):
    id: int
    text: str
    seat: str
    issue: int | None
    due: dt.date
    overdue: bool = Field(description="Open, and its due day has passed (in the org's timezone).")
    status: ItemStatus
    note: str | None = Field(description="What its owner said on completing it, or why it was dropped.")
    checks: list[Check] = Field(description="Done or not done at each review that checked it.")
    created_by: str
    created_at: dt.datetime
    closed_by: str | None
    closed_at: dt.datetime | None


class TodoAdded(BaseModel):
    created: bool = Field(description="False when the idempotency key was seen: the same to-do is answered.")
    todo: Todo


class Todos(BaseModel):
    todos: list[Todo] = Field(description="Soonest due first.")


# ---------------------------------------------------------------- rocks


class Milestone(BaseModel):
    n: int = Field(description="Its number on the rock, 1 first: POST /rocks/{id}/milestones/{n}/done.")
    title: str
    due: dt.date | None
    done: bool


class Rock(BaseModel):
    id: int
    seat: str
    quarter: str = Field(examples=["2026-Q4"])
    title: str
    due: dt.date
    track: Track = Field(description="The track people stand behind.")
    status: ItemStatus
    milestones: list[Milestone]
    proposed_track: Track | None = Field(
        description="An agent's proposed track, waiting for the seat's accountable human to confirm it."
    )
    proposed_by: str | None
    proposed_at: dt.datetime | None
    track_set_by: str | None
    track_set_at: dt.datetime | None
    source: str
    created_by: str
    created_at: dt.datetime


class Rocks(BaseModel):
    quarter: str | None = Field(description="The quarter listed; null: every quarter.")
    rocks: list[Rock] = Field(description="In chart order of their seats, then by due date; dropped ones left out.")


class TrackIn(In):
    track: str = Field(max_length=20, description="`on` or `off`.", examples=["off"])


class TrackSet(BaseModel):
    rock: Rock
    proposed: bool = Field(
        description="True: recorded as a proposal (an agent's), waiting for the seat's accountable human; "
        "`track` is unchanged until they confirm."
    )
    awaiting: str | None = Field(description="Who confirms a proposal: the seat's accountable human, by name.")
    outcome: str = Field(description="What happened, in one sentence.")


# ---------------------------------------------------------------- headlines and the review


class HeadlineIn(In):
    text: str = Field(
        max_length=1000, description="One line (at most 300 characters): the news the team should hear this week."
    )


class Headline(BaseModel):
    week: dt.date = Field(description="The Monday of the review week it is for.")
    holder: str
    text: str
    via: Literal["dm", "command", "api", "mcp"] = Field(description="How it came in.")
    at: dt.datetime


class Review(BaseModel):
    week: dt.date = Field(description="The Monday of this week (in the org's timezone).")
    quarter: str
    issues: list[Issue] = Field(description="The open issues list, by rank.")
    todos: list[Todo] = Field(description="The open to-dos of the seats held, soonest due first.")
    rocks: list[Rock] = Field(description="The rocks of the seats held, this quarter.")
    headline: Headline | None = Field(description="Your headline for this week's review, once given.")


# ---------------------------------------------------------------- from the store


def issue(i: models.Issue) -> Issue:
    live = i.status in ("open", "discussed")
    return Issue(
        id=i.id,
        title=i.title,
        seat=i.seat_id,
        status=cast(IssueStatus, i.status),
        rank=i.rank if live else None,
        source=cast(IssueSource, i.source),
        metric=i.metric_id,
        period=i.period,
        value=i.value,
        goal=i.goal,
        draft=i.draft_id,
        message=i.message_ref,
        detail=i.detail,
        decision=i.decision,
        todos=[t.id for t in i.todos],
        raised_by=i.raised_by,
        raised_at=as_utc(i.raised_at),
        discussed_at=as_utc(i.discussed_at),
        closed_by=i.closed_by,
        closed_at=as_utc(i.closed_at),
    )


def todo(t: models.Todo, today: dt.date) -> Todo:
    return Todo(
        id=t.id,
        text=t.text,
        seat=t.seat_id,
        issue=t.issue_id,
        due=t.due,
        overdue=t.status == "open" and t.due < today,
        status=cast(ItemStatus, t.status),
        note=t.note,
        checks=[Check(week=c.week, done=c.done) for c in t.checks],
        created_by=t.created_by,
        created_at=as_utc(t.created_at),
        closed_by=t.closed_by,
        closed_at=as_utc(t.closed_at),
    )


def rock(r: models.Rock) -> Rock:
    return Rock(
        id=r.id,
        seat=r.seat_id,
        quarter=r.quarter,
        title=r.title,
        due=r.due,
        track=cast(Track, r.track),
        status=cast(ItemStatus, r.status),
        milestones=[
            Milestone(
                n=n, title=m["title"], due=dt.date.fromisoformat(m["due"]) if m.get("due") else None, done=m["done"]
            )
            for n, m in enumerate(r.milestones or [], start=1)
        ],
        proposed_track=cast(Track | None, r.proposed_track),
        proposed_by=r.proposed_by,
        proposed_at=as_utc(r.proposed_at),
        track_set_by=r.track_set_by,
        track_set_at=as_utc(r.track_set_at),
        source=r.source,
        created_by=r.created_by,
        created_at=as_utc(r.created_at),
    )


def track_set(r: models.Rock, seat: models.Seat, asked_by: str) -> TrackSet:
    """The answer to a track set: whether the domain kept it as a proposal, and who confirms it."""
    proposed = r.proposed_track is not None and r.proposed_by == asked_by
    human = accountable_human(seat.holder)
    if proposed:
        who = human.name if human is not None else "the seat's accountable human"
        outcome = f"proposed {r.proposed_track} track for rock #{r.id}; it stays {r.track} until {who} confirms"
    else:
        outcome = f"rock #{r.id} is {r.track} track"
    return TrackSet(
        rock=rock(r),
        proposed=proposed,
        awaiting=human.name if proposed and human is not None else None,
        outcome=outcome,
    )


def headline(h: models.Headline) -> Headline:
    return Headline(
        week=h.review_week,
        holder=h.holder_id,
        text=h.text,
        via=cast(Literal["dm", "command", "api", "mcp"], h.via),
        at=as_utc(h.at),
    )
