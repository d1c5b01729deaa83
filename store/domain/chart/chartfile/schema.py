"""The chart file's sections as pydantic models, and `ChartSpec`, the whole file."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from otp_bot.store.domain.chart.chartfile.autonomy_spec import AutonomySpec
from otp_bot.store.domain.chart.chartfile.fields import (
    CHANNEL_HELP,
    Description,
    Id,
    LongText,
    SlackId,
    Spec,
    Text,
    decimal_mark_named,
    known_zone,
)
from otp_bot.store.domain.chart.chartfile.metric_spec import MetricSpec
from otp_bot.store.domain.chart.chartfile.rule_spec import RuleSpec
from otp_bot.store.domain.chart.durations import format_minutes, parse_minutes
from otp_bot.store.domain.rhythm import cron
from otp_bot.store.domain.scorecard.measures import DEFAULT_CURRENCY, currency_code
from otp_bot.store.models import RUN_POSTS as POSTS  # what a schedule can post
from otp_bot.store.models import AuthorityLevel, SeatStatus

# An approval route's durations, written like `4h` in the file and kept in minutes.
ROUTE_TIMINGS = ("remind_after", "escalate_after", "expires_after")


class OrgSpec(Spec):
    name: Text
    timezone: str = "UTC"
    # A Slack channel where seat-to-seat messages are mirrored, so people see what agents agree.
    coordination_channel: str | None = None
    # How the org writes decimals: "." (1,250.50) or "," (1.250,50). Unset, a value whose only
    # separator could be either (`1,250`) is refused as ambiguous rather than guessed.
    decimal_mark: Literal[".", ","] | None = None
    # The currency of money metrics that name none: an ISO code (`EUR`), or its symbol.
    currency: str = DEFAULT_CURRENCY

    _zone = field_validator("timezone")(known_zone)

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: object) -> str:
        return currency_code(str(value))

    @field_validator("decimal_mark", mode="before")
    @classmethod
    def _mark(cls, value: object) -> object:
        return decimal_mark_named(value)

    @field_validator("coordination_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[CG][A-Z0-9]{2,31}$", value):
            raise ValueError(f"{value!r} is not a channel id; {CHANNEL_HELP}")
        return value


class HolderSpec(Spec):
    id: Id
    name: Text
    kind: Literal["human", "agent"]
    slack_user: SlackId | None = None
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    supervisor: Id | None = None


class SeatSpec(Spec):
    id: Id
    title: Text
    holder: Id | None = None
    reports_to: Id | None = None
    status: SeatStatus | None = None
    customer_facing: bool = False
    # What its holder may do without a person (README: authority levels); view-only and advisory do not draft.
    # A tuple subscript is its items at run time; mypy wants the values spelled out and cannot see that.
    authority: AuthorityLevel | None = None
    aliases: list[Text] = Field(default_factory=list)
    accountabilities: list[LongText] = Field(default_factory=list)
    owns: list[Text] = Field(default_factory=list)
    does_not_own: list[Text] = Field(default_factory=list)
    metrics: list[MetricSpec] = Field(default_factory=list)

    @property
    def effective_status(self) -> SeatStatus:
        return self.status or ("active" if self.holder else "vacant")


class ApprovalSpec(Spec):
    seats: list[Id] = Field(min_length=1)
    kinds: list[Text] = Field(default_factory=list)
    channel: SlackId | None = None
    approvers: list[Id] = Field(default_factory=list)
    usergroup: SlackId | None = None
    required: Annotated[int, Field(ge=1, le=5)] = 1
    remind_after: str | None = None
    escalate_after: str | None = None
    expires_after: str | None = None
    # Versions of a draft (the first and its revisions); asking changes of the last rejects it. Unset: 3.
    max_rounds: Annotated[int, Field(ge=1, le=20)] | None = None
    autonomy: AutonomySpec | None = None  # approval by policy, earned on the record

    @field_validator(*ROUTE_TIMINGS)
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        # Normalised (`240m` -> `4h`), so export and re-import compare equal.
        return None if value is None else format_minutes(parse_minutes(value))


class PolicySpec(Spec):
    name: Id
    hold_kind: Text | None = None
    while_flag: Text | None = None
    winner: Id | None = None
    description: Description | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class ScheduleSpec(Spec):
    name: Id | None = None
    post: Text
    channel: SlackId
    cron: Text
    timezone: str | None = None  # default: the org's
    working_days: list[str] = Field(default_factory=list)  # `mon-fri` or [mon, tue, ...]; default: every day
    holidays: list[str] = Field(default_factory=list)  # ISO dates skipped
    grace: str | None = None  # how late a missed run may still post (default 2h)

    @property
    def key(self) -> str:
        return self.name or self.post

    @field_validator("post")
    @classmethod
    def _post(cls, value: str) -> str:
        if value.lower() not in POSTS:
            raise ValueError(f"unknown post {value!r}; a schedule posts one of {', '.join(POSTS)}")
        return value.lower()

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        cron.trigger(value, "UTC")  # raises ValueError naming what is wrong
        return " ".join(value.split())

    @field_validator("working_days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> list[str]:
        return cron.parse_days(value)

    @field_validator("holidays", mode="before")
    @classmethod
    def _holidays(cls, value: Any) -> list[str]:
        days = []
        for item in value if isinstance(value, list) else [value]:
            try:
                days.append(item if isinstance(item, date) else date.fromisoformat(str(item).strip()))
            except ValueError:
                raise ValueError(f"holiday {item!r} is not a date; write it like 2026-12-25") from None
        return [d.isoformat() for d in sorted(set(days))]

    @field_validator("grace")
    @classmethod
    def _grace(cls, value: str | None) -> str | None:
        return None if value is None else format_minutes(parse_minutes(value))

    _zone = field_validator("timezone")(known_zone)


# The review is prompted for headlines at most this long before its post: more would reach
# back into the previous week's review.
HEADLINES_AHEAD_MAX = 6 * 24 * 60


class ReviewSpec(Spec):
    """The weekly review: the scorecard schedule whose post opens its thread (that post's
    channel and time are the review's), who runs it, who attends, and how long before the
    post each attendee is asked for a headline."""

    scorecard: Id | None = None  # a `post: scorecard` schedule's name; optional when there is one
    facilitator: Id  # a human holder
    attendees: list[Id] | None = Field(default=None, min_length=1)  # unset: every holder of an active seat
    headlines_ahead: str = "2h"

    @field_validator("headlines_ahead")
    @classmethod
    def _ahead(cls, value: str) -> str:
        minutes = parse_minutes(value)
        if minutes > HEADLINES_AHEAD_MAX:
            raise ValueError(
                f"{value!r} is too long: headlines are asked for at most {format_minutes(HEADLINES_AHEAD_MAX)} ahead"
            )
        return format_minutes(minutes)  # `120m` reads back as `2h`, so export and re-import compare equal


class ChartSpec(Spec):
    org: OrgSpec
    holders: list[HolderSpec] = Field(default_factory=list)
    seats: list[SeatSpec] = Field(default_factory=list)
    approvals: list[ApprovalSpec] = Field(default_factory=list)
    policies: list[PolicySpec] = Field(default_factory=list)
    schedules: list[ScheduleSpec] = Field(default_factory=list)
    rules: list[RuleSpec] = Field(default_factory=list)  # the org's operating rules (OTP's claims)
    review: ReviewSpec | None = None  # the weekly review; none: no review is run

    @model_validator(mode="after")
    def _review_schedule(self) -> ChartSpec:
        # The one scorecard schedule is the review's when the file names none: written out,
        # so the export says it and a re-import of the shorter file compares equal.
        if self.review is not None and self.review.scorecard is None:
            posting = [s.key for s in self.schedules if s.post == "scorecard"]
            if len(posting) == 1:
                self.review = self.review.model_copy(update={"scorecard": posting[0]})
        return self
