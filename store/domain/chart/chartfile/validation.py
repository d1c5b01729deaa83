"""Validating a chart file's data: every problem at once, located, in words a newcomer reads."""

from __future__ import annotations

import contextlib
import difflib
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from otp_bot.store.domain.chart.chartfile.cross_checks import semantic_problems
from otp_bot.store.domain.chart.chartfile.errors import ChartErrors, location
from otp_bot.store.domain.chart.chartfile.fields import CHANNEL_HELP, decimal_mark_named
from otp_bot.store.domain.chart.chartfile.metric_spec import MetricSpec
from otp_bot.store.domain.chart.chartfile.rule_spec import RuleSpec
from otp_bot.store.domain.chart.chartfile.schema import (
    ApprovalSpec,
    ChartSpec,
    HolderSpec,
    OrgSpec,
    PolicySpec,
    ReviewSpec,
    ScheduleSpec,
    SeatSpec,
)
from otp_bot.store.domain.scorecard.measures import DEFAULT_CURRENCY, currency_code

_ID_FIELDS = {
    "id",
    "holder",
    "reports_to",
    "supervisor",
    "winner",
    "name",
    "seats",
    "approvers",
    "facilitator",
    "attendees",
    "scorecard",
}
_SECTIONS: dict[str, type[BaseModel]] = {
    "holders": HolderSpec,
    "seats": SeatSpec,
    "approvals": ApprovalSpec,
    "policies": PolicySpec,
    "schedules": ScheduleSpec,
    "rules": RuleSpec,
}
_NESTED: dict[str, type[BaseModel]] = {"org": OrgSpec, "metrics": MetricSpec, "review": ReviewSpec, **_SECTIONS}


def validate_chart(data: Any, source: str) -> ChartSpec:
    if not isinstance(data, dict):
        raise ChartErrors(source, [("", "expected a mapping with `org`, `holders`, `seats`, ...")])
    raw_org = data.get("org")
    org: dict[str, Any] = raw_org if isinstance(raw_org, dict) else {}
    # Goals are numbers written as the org writes them: the org's decimal mark reads them.
    mark = decimal_mark_named(org.get("decimal_mark")) if isinstance(raw_org, dict) else None
    context = {"decimal_mark": mark if mark in (".", ",") else None, "currency": _currency_of(raw_org)}
    try:
        chart = ChartSpec.model_validate(data, context=context)
    except ValidationError as exc:
        problems = [(location(err["loc"]), _message(err)) for err in exc.errors()]
        # Report cross-reference problems too, in the same run, from the parts that did validate.
        sections = {}
        for name, model in _SECTIONS.items():
            raw = data.get(name)
            items = [_try(model, item, context) for item in raw] if isinstance(raw, list) else []
            sections[name] = [item for item in items if item is not None]
        review = _try(ReviewSpec, data.get("review")) if isinstance(data.get("review"), dict) else None
        partial = ChartSpec.model_construct(None, org=OrgSpec.model_construct(**org), review=review, **sections)
        # A part that did not validate can break a cross-check in any way; its own error is reported above.
        with contextlib.suppress(Exception):
            problems += [p for p in semantic_problems(partial) if p[0] not in {loc for loc, _ in problems}]
        raise ChartErrors(source, problems) from None
    if problems := semantic_problems(chart):
        raise ChartErrors(source, problems)
    return chart


def _message(err: ErrorDetails) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return _unknown_key(err["loc"])
    if err["type"] == "string_pattern_mismatch":
        field = next((p for p in reversed(err["loc"]) if isinstance(p, str)), "")
        if field == "channel":
            return f"{err['input']!r} is not a channel id; {CHANNEL_HELP}"
        if field in _ID_FIELDS:
            return f"{err['input']!r} is not a valid id: lower-case letters, digits, '-', '_' or '.'"
        return f"{err['input']!r} is not valid here"
    return msg


def _unknown_key(loc: tuple[Any, ...]) -> str:
    """Name the key it most likely meant (`repots_to` → `reports_to`), else the keys allowed."""
    model: type[BaseModel] = ChartSpec
    for part in loc[:-1]:
        if isinstance(part, str):
            model = _NESTED.get(part, model)
    key, known = str(loc[-1]), list(model.model_fields)
    close = difflib.get_close_matches(key.lower(), known, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r}: did you mean `{close[0]}`?"
    return f"unknown key {key!r}; the keys here are {', '.join(known)}"


def _salvage(model: type[BaseModel], raw: Any, bad: set[str]) -> BaseModel | None:
    """Keep what validated of a broken item, so cross-reference checks still see it."""
    if not isinstance(raw, dict):
        return None
    good = {k: v for k, v in raw.items() if k in model.model_fields and k not in bad}
    # A required field that failed (an id with a space) or is missing keeps what was written,
    # so the checks across the file still run and do not report it again as "unknown".
    for name, field in model.model_fields.items():
        if name not in good and field.is_required():
            value = raw.get(name)
            good[name] = value if isinstance(value, (str, list)) else (None if value is None else str(value))
    if model is SeatSpec:
        good["metrics"] = [
            m
            for m in (_try(MetricSpec, m) for m in raw.get("metrics") or [] if isinstance(raw.get("metrics"), list))
            if m
        ]
        for key in ("aliases", "accountabilities", "owns", "does_not_own"):
            if not isinstance(good.get(key, []), list):
                good.pop(key)
    return model.model_construct(**good)


def _try(model: type[BaseModel], raw: Any, context: dict[str, Any] | None = None) -> BaseModel | None:
    try:
        return model.model_validate(raw, context=context)
    except ValidationError as exc:
        return _salvage(model, raw, {str(e["loc"][0]) for e in exc.errors() if e["loc"]})


def _currency_of(org: Any) -> str:
    """The org's currency as the file says it, for its metrics (its own errors are the org's)."""
    try:
        return currency_code(str(org["currency"])) if isinstance(org, dict) and "currency" in org else DEFAULT_CURRENCY
    except ValueError:
        return DEFAULT_CURRENCY
