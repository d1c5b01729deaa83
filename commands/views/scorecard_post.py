"""The weekly scorecard post: the message (off-track rows first, each with a Raise issue
button, or the issue raised on it), its thread (every seat's metrics × 13 weeks), and the text that stands in for the
chart image when the upload fails. Pure builders: review data in, Slack payloads out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ButtonElement, MarkdownTextObject, SectionBlock

from otp_bot.commands.scorecard import SEATS_PER_PAGE, _seat_view
from otp_bot.commands.views import blocks
from otp_bot.commands.views.ledger import gate_lines
from otp_bot.commands.views.render import render, truncate
from otp_bot.store.domain.review import completion
from otp_bot.store.domain.scorecard.review import GATE_DAYS, Review, ReviewRow

RAISE_ACTION = "otp_raise_issue"  # + "_<n>": unique within the message; the value says which run and metric
MAX_BUTTONS = 15
MAX_REPLIES = 8
FALLBACK_ROWS = 40
MARK = {True: "✓", False: "✗", None: "·"}
# The trend in words, by whether higher is better and which way the values went (flat or
# unknown: no words).
TREND: dict[tuple[bool | None, str | None], str] = {
    (True, "up"): "rising, better",
    (True, "down"): "falling, worse",
    (False, "up"): "rising, worse",
    (False, "down"): "falling, better",
    (None, "up"): "rising",
    (None, "down"): "falling",
}


@dataclass
class ScorecardMessage:
    text: str
    blocks: list[dict[str, Any]]
    replies: list[dict[str, Any]] = field(default_factory=list)  # the seat tables, for the thread


def marks(row: ReviewRow, review: Review) -> str:
    return "".join(MARK[m] for m in row.by_week(review.weeks))


def _row_view(r: ReviewRow, review: Review, raisers: dict[int, str]) -> dict[str, str]:
    latest = r.row.latest
    value = latest.value if latest else None
    distance = r.row.goal.distance(value) if value is not None else 0.0
    return {
        "name": truncate(r.row.metric.name, 120),
        "seat": truncate(r.seat.title, 80),
        "owner": truncate(r.owner, 120),
        "marks": marks(r, review),
        "value": r.row.show(value),
        "goal": r.row.describe_goal(),
        "distance": r.row.show(distance) if r.row.metric.kind != "yesno" else "missed",
        "trend": TREND.get((r.row.goal.higher_is_better, r.row.trend), ""),
        "issue": str(r.issue.id) if r.issue else "",
        "issue_status": r.issue.status if r.issue and r.issue.status != "open" else "",
        "raiser": truncate(raisers.get(r.issue.id, ""), 120) if r.issue else "",
    }


def raise_value(run_id: int | None, metric_id: str) -> str:
    return f"{run_id or 0}:{metric_id}"


def parse_raise_value(value: str) -> tuple[int | None, str]:
    run, _, metric = (value or "").partition(":")
    return (int(run) or None) if run.isdigit() else None, metric


def scorecard_message(
    review: Review,
    *,
    run_id: int | None,
    raisers: dict[int, str] | None = None,
    late_by: dt.timedelta | None = None,
    due_at: dt.datetime | None = None,
    threaded: bool = True,
) -> ScorecardMessage:
    """The post for `review`; `raisers` names who raised each issue shown (by id)."""
    raisers = raisers or {}
    zone = ZoneInfo(review.timezone)
    off = review.off_track
    context = {
        "org": review.org,
        "weeks": len(review.weeks),
        "first": review.first,
        "last": review.last,
        "off": review.off_track_count,
        "total": review.metrics,
        "late": late_by is not None,
        "due": due_at.astimezone(zone).strftime("%a %d %b %H:%M %Z") if due_at else "",
    }
    budget = blocks.BlockBudget()
    budget.add(blocks.header(f"Scorecard review · {review.last}"))
    budget.add(blocks.context(render("scorecard/scorecard_post_head.j2", **context)))
    if not off:
        budget.add(blocks.section(":white_check_mark: Every metric is on track."))
    placed = 0
    for n, r in enumerate(off[:MAX_BUTTONS]):
        text = render("scorecard/scorecard_post_row.j2", r=_row_view(r, review, raisers))
        # A seat's default to-do completion row has no metric to raise an issue on: its misses are the to-dos.
        plain = r.issue or completion.is_completion(r.row.metric.id)
        if not budget.add(_row_block(text, None if plain else (n, run_id, r.row.metric.id))):
            break
        placed += 1
    if review.gate:
        budget.add(blocks.section(gate_lines(review.gate, review.gate_holders, GATE_DAYS)))
    notes = []
    if review.off_track_count > placed:
        notes.append(f"and {review.off_track_count - placed} more off track: `/otp scorecard`")
    if threaded and review.seats:
        notes.append("Every seat's metrics, week by week, are in the thread.")
    if notes:
        budget.close(" · ".join(notes))
    return ScorecardMessage(
        render("scorecard/scorecard_post_text.j2", **context), budget.blocks, _seat_tables(review) if threaded else []
    )


def _row_block(text: str, button: tuple[int, int | None, str] | None) -> dict[str, Any]:
    if button is None:
        return blocks.section(text)
    n, run_id, metric_id = button
    return SectionBlock(
        text=MarkdownTextObject(text=truncate(text, blocks.SECTION_TEXT)),
        accessory=ButtonElement(
            text="Raise issue", action_id=f"{RAISE_ACTION}_{n}", value=raise_value(run_id, metric_id)
        ),
    ).to_dict()


def _seat_tables(review: Review) -> list[dict[str, Any]]:
    """Each seat's table (the /otp scorecard layout), packed into at most MAX_REPLIES replies."""
    by_seat: dict[str, list] = {}
    for r in review.rows:
        by_seat.setdefault(r.seat.id, []).append(r.row)
    replies: list[list[dict[str, Any]]] = []
    budget = blocks.BlockBudget()
    shown = 0
    for seat in review.seats:
        block = blocks.section(render("scorecard/scorecard_seat.j2", view=_seat_view(seat, by_seat.get(seat.id, []))))
        if not budget.add(block):
            replies.append(budget.blocks)
            if len(replies) == MAX_REPLIES:
                break
            budget = blocks.BlockBudget()
            budget.add(block)
        shown += 1
    else:
        if budget.blocks:
            replies.append(budget.blocks)
    left = review.seat_count - shown
    if left > 0 and replies:
        page = shown // SEATS_PER_PAGE + 1
        more = blocks.context(f"and {left} more seats: `/otp scorecard --page {page}` and on")
        replies[-1] = [*replies[-1][: blocks.MAX_BLOCKS - 1], more]
    return [{"text": f"Scorecard review {review.last}, by seat", "blocks": b} for b in replies]


def fallback_text(review: Review, error: str) -> str:
    """What the chart image shows, as text: posted in the thread when the upload fails.
    As many rows as fit in one section, so the code block is never cut open."""
    view = [
        {"marks": marks(r, review), "label": truncate(f"{r.row.metric.name} · {r.seat.title}", 70)}
        for r in review.rows[:FALLBACK_ROWS]
    ]
    while True:
        text = render(
            "scorecard/scorecard_fallback.j2",
            error=truncate(error, 200),
            rows=view,
            first=review.first,
            last=review.last,
            more=review.metrics - len(view),
        )
        if len(text) <= blocks.SECTION_TEXT - 50 or not view:
            return text
        view = view[:-1]
