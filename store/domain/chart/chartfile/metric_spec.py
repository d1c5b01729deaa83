"""A seat's metric as the chart file writes it: its measure from the words used, its goal, its formula
or the gate figure it measures."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from otp_bot.store.domain.chart.chartfile.fields import Id, Spec, Text
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.review.completion import FIGURE as REVIEW_FIGURE
from otp_bot.store.domain.scorecard import formula as formulas
from otp_bot.store.domain.scorecard.gate_figures import figure as gate_figure
from otp_bot.store.domain.scorecard.goals import parse_goal
from otp_bot.store.domain.scorecard.measures import (
    DEFAULT_CURRENCY,
    KIND_WORDS,
    KINDS,
    Measure,
    currency_code,
    read_measure,
)
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import Aggregation, Cadence, MetricKind

# A chart's metrics share a few measures and goals: each is read once per distinct wording
# (both are pure functions of their words; an error is raised again every time, uncached).
_measure_read = lru_cache(maxsize=4096)(read_measure)


@lru_cache(maxsize=16384)
def _goal_text(text: str, measure: Measure, mark: str | None, org_currency: str) -> str:
    return parse_goal(text, measure, mark, org_currency).to_text(measure)


# Operators written the other way round or as one character: what they mean.
_GOAL_TYPOS = (("=>", ">="), ("=<", "<="), ("≥", ">="), ("≤", "<="), ("=>=", ">="), ("!=", None), ("<>", None))


class MetricSpec(Spec):
    """A metric. `unit` is what people write (`days`, `hours`, `NPS`, `ratio`, `€`, `calls`);
    `kind` and `currency` are needed only where the unit alone does not say (measures.py).
    Once validated, the three hold the metric's measure in full: kind always, unit where it
    has one, currency for money."""

    id: Id
    name: Text
    kind: MetricKind | None = None
    currency: str | None = None
    unit: str | None = Field(default=None, validate_default=True)
    goal: str
    # A tuple subscript is its items at run time; mypy wants the values spelled out and cannot see that.
    cadence: Cadence = "weekly"
    aggregation: Aggregation = "last"
    formula: str | None = None
    gate: str | None = None  # a trust-ledger figure of the seat's drafts (gate_figures.py): computed, never entered
    # A figure of the weekly review, `todo-completion` (review/completion.py): computed, never entered.
    review: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _gate_measure(cls, data: Any) -> Any:
        """A gate metric's kind is its figure's (a rate is a percent, a time a duration); the
        unit defaults to the figure's own (`drafts`, `minutes`) unless the file names one."""
        if isinstance(data, dict) and data.get("gate") is not None:
            try:
                found = gate_figure(str(data["gate"]))
            except ValueError:
                return data  # the field's own check says what is wrong
            data = dict(data)
            if data.get("unit") is None:  # a unit says its kind (`hours`); else the figure's kind, in its unit
                data.setdefault("kind", found.kind)
                if found.unit and str(data["kind"]).strip().lower() == found.kind:
                    data["unit"] = found.unit
        return data

    @model_validator(mode="before")
    @classmethod
    def _review_measure(cls, data: Any) -> Any:
        """A completion rate is a percent unless the file says otherwise (and is then refused)."""
        if isinstance(data, dict) and data.get("review") is not None and data.get("unit") is None:
            data = dict(data)
            data.setdefault("kind", "percent")
        return data

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> MetricKind | None:
        if value is not None and str(value).strip().lower() not in KIND_WORDS:
            raise ValueError(
                f"unknown kind {value!r}; use one of {', '.join(KINDS)} (or leave it out: "
                "`unit: days`, `unit: NPS` or `unit: €` say it)"
            )
        return None if value is None else KIND_WORDS[str(value).strip().lower()]  # a word for a kind, as its kind

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any, info: ValidationInfo) -> str | None:
        return None if value is None else currency_code(str(value), _org_currency(info))

    @field_validator("unit", mode="before")
    @classmethod
    def _unit(cls, value: Any, info: ValidationInfo) -> str | None:
        unit = None if value is None else str(value).strip()
        if unit:
            try:
                unit = clean_text(unit, "the unit", multiline=False)
            except Invalid as exc:
                raise ValueError(exc.message.removeprefix("the unit ")) from None
        if "kind" in info.data and "currency" in info.data:  # else their own errors say what is wrong
            _measure_read(unit, info.data["kind"], info.data["currency"], _org_currency(info))  # ValueError: what
        return unit

    @model_validator(mode="after")
    def _measure_in_full(self, info: ValidationInfo) -> MetricSpec:
        # The unit's check above passed, so this cannot fail.
        self.kind, self.unit, self.currency = _measure_read(self.unit, self.kind, self.currency, _org_currency(info))
        return self

    @property
    def measure(self) -> Measure:
        return Measure(self.kind or "number", self.unit, self.currency)

    @field_validator("goal", mode="before")
    @classmethod
    def _goal(cls, value: Any, info: ValidationInfo) -> str:
        _goal_typo(str(value))
        try:
            measure = _measure_read(info.data["unit"], info.data["kind"], info.data["currency"], _org_currency(info))
        except (KeyError, ValueError):
            measure = Measure()  # the unit's own error says what is wrong with it
        try:
            mark = (info.context or {}).get("decimal_mark")  # the org's, set by validate_chart
            return _goal_text(str(value), measure, mark, _org_currency(info))
        except Invalid as exc:
            raise ValueError(exc.message) from None

    @field_validator("gate", mode="before")
    @classmethod
    def _gate(cls, value: Any) -> str | None:
        if value is None:
            return None
        name = str(value).strip().lower()
        gate_figure(name)  # ValueError: the figures there are
        return name

    @field_validator("review", mode="before")
    @classmethod
    def _review(cls, value: Any) -> str | None:
        if value is None:
            return None
        name = str(value).strip().lower()
        if name != REVIEW_FIGURE:
            raise ValueError(f"unknown review figure {name[:40]!r}; use {REVIEW_FIGURE}")
        return name

    @model_validator(mode="after")
    def _review_fits(self) -> MetricSpec:
        if self.review is None:
            return self
        if self.formula is not None or self.gate is not None:
            raise ValueError("a metric is measured at the review, at the gate or by a formula: one of them")
        if self.kind != "percent" or self.cadence != "weekly":
            raise ValueError(f"`review: {self.review}` is a weekly percent; this metric is {self.cadence} {self.kind}")
        return self

    @model_validator(mode="after")
    def _gate_fits(self) -> MetricSpec:
        if self.gate is None:
            return self
        if self.formula is not None:
            raise ValueError("a metric is measured at the gate or computed by a formula, not both")
        wanted = gate_figure(self.gate).kind
        if self.kind != wanted:
            raise ValueError(f"`gate: {self.gate}` is a {wanted}; this metric's kind is {self.kind}")
        return self

    @field_validator("formula")
    @classmethod
    def _formula(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                formulas.validate(value)
            except Invalid as exc:
                raise ValueError(exc.message) from None
        return value


def _org_currency(info: ValidationInfo) -> str:
    return (info.context or {}).get("currency") or DEFAULT_CURRENCY


def _goal_typo(text: str) -> None:
    """`=> 10` is `>= 10` written the other way round: say so rather than "not a number"."""
    raw = text.strip()
    for typo, meant in sorted(_GOAL_TYPOS, key=lambda pair: -len(pair[0])):
        if raw.startswith(typo):
            rest = raw[len(typo) :].strip()
            if meant is None:
                raise ValueError(
                    f'`{text}` is not a goal: for "anything but {rest}" write `outside {rest}..{rest}`; '
                    "otherwise start with >=, <=, ==, > or <"
                )
            raise ValueError(f"`{text}` is not a goal: did you mean `{meant} {rest}`?")
