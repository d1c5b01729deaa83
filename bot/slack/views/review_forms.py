"""The weekly review's modals (Solve, Drop) and, before the meeting, the headline prompt DM and
its form: pure builders. The action and callback ids are review_thread.py's."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from otp_bot.bot.slack.views.approval_message import _modal
from otp_bot.bot.slack.views.review_thread import (
    DROP_VIEW,
    HEADLINE,
    HEADLINE_VIEW,
    MAX_FIELDS,
    SOLVE_VIEW,
    TODO_ROWS,
    _actions,
    _button,
    week_label,
)
from otp_bot.commands.views import blocks
from otp_bot.commands.views.render import Mrkdwn, inline, truncate
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.models import Issue, Metric, Review, Seat

# ---------------------------------------------------------------- modals


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": truncate(label, 2000)},
        "element": element,
        "optional": optional,
    }


def _text(action: str, *, multiline: bool = False, max_length: int = 500, initial: str | None = None) -> dict[str, Any]:
    e: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": action,
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        e["initial_value"] = initial
    return e


def seat_options(seats: Sequence[Seat]) -> list[dict[str, Any]]:
    return [
        {
            "text": {
                "type": "plain_text",
                "text": truncate(f"{s.title} ({s.holder.name if s.holder else 'vacant'})", 75),
            },
            "value": s.id,
        }
        for s in seats[:100]
    ]


def solve_modal(review: Review, issue: Issue, seats: Sequence[Seat], where: tuple[str, str]) -> dict[str, Any]:
    out: list[dict[str, Any]] = [
        blocks.section(Mrkdwn(f"*{inline(issue.title)}*")),
        _input("decision", "Decision", _text("decision", multiline=True, max_length=2000)),
    ]
    options = seat_options(seats)
    for n in range(1, TODO_ROWS + 1):
        out.append(blocks.context(Mrkdwn(f"To-do {n} (optional): a seat, what, and by when")))
        out.append(
            _input(
                f"todo_{n}_seat",
                f"To-do {n}: seat",
                {"type": "static_select", "action_id": "seat", "options": options},
                optional=True,
            )
        )
        out.append(_input(f"todo_{n}_text", f"To-do {n}: what", _text("text", max_length=500), optional=True))
        out.append(
            _input(f"todo_{n}_due", f"To-do {n}: due", {"type": "datepicker", "action_id": "due"}, optional=True)
        )
    meta = {"review": review.id, "issue": issue.id, "channel": where[0], "ts": where[1]}
    return _modal(f"Solve issue #{issue.id}", out, callback_id=SOLVE_VIEW, submit="Solve", metadata=meta)


def drop_modal(review: Review, issue: Issue, where: tuple[str, str]) -> dict[str, Any]:
    out = [
        blocks.section(Mrkdwn(f"*{inline(issue.title)}*")),
        _input("reason", "Why drop it?", _text("reason", multiline=True, max_length=2000)),
    ]
    meta = {"review": review.id, "issue": issue.id, "channel": where[0], "ts": where[1]}
    return _modal(f"Drop issue #{issue.id}", out, callback_id=DROP_VIEW, submit="Drop", metadata=meta)


# ---------------------------------------------------------------- before the meeting


def headline_prompt(week: dt.date, post_at: dt.datetime, missing: int) -> dict[str, Any]:
    owed = f" and {missing} value(s) your scorecard still needs" if missing else ""
    text = Mrkdwn(
        f"The weekly review of {week_label(week)} is at <!date^{int(post_at.timestamp())}^{{time}}|soon>. "
        f"Your headline for it{owed}?"
    )
    return {
        "text": text,
        "blocks": [
            blocks.section(text),
            _actions(
                f"otp_review_headline_{week.isoformat()}",
                _button("Give my headline", HEADLINE, week.isoformat(), "primary"),
            ),
        ],
    }


def metric_label(metric: Metric, day: dt.date) -> str:
    start = periods.period_start(day, metric.cadence)
    unit = f", {metric.unit}" if metric.unit else ""
    return f"{metric.name} ({periods.label(start, metric.cadence)}{unit})"


def headline_modal(week: dt.date, metrics: Sequence[Metric], day: dt.date, current: str | None) -> dict[str, Any]:
    out: list[dict[str, Any]] = [
        _input("headline", "Your headline: one line for the team", _text("headline", max_length=300, initial=current))
    ]
    out.extend(
        _input(f"metric_{m.id}", metric_label(m, day), _text("value", max_length=60), optional=True)
        for m in metrics[:MAX_FIELDS]
    )
    meta = {"week": week.isoformat(), "day": day.isoformat(), "metrics": [m.id for m in metrics[:MAX_FIELDS]]}
    return _modal("Weekly review", out, callback_id=HEADLINE_VIEW, submit="Send", metadata=meta)


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
