"""/otp scorecard [seat] [--weeks N] [--page N]

Under each seat with a metric off track, a *Raise issue* button for each miss (or the issue
already raised on it); the click is answered to the asker alone (bot/slack/listeners/raise_issue.py).
"""

from __future__ import annotations

from typing import Any, TypedDict

from slack_sdk.models.blocks import ActionsBlock, ButtonElement
from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage, parse_args
from otp_bot.commands.reply import Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.describe import STATUS_EMOJI, TREND, seat_holder_text
from otp_bot.commands.views.render import escape, render, truncate
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_org, get_seat, seat_order
from otp_bot.store.domain.review import completion
from otp_bot.store.domain.review.metric_issues import issues_for
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.metrics import DEFAULT_WEEKS, STATUS_WINDOW, MetricRow, metric_rows
from otp_bot.store.models import Issue, Metric, Seat

SEATS_PER_PAGE = 12
RAISE_FROM_REPLY = "otp_raise_issue_reply"  # + "_<n>": unique within the reply; the value is the metric id
RAISE_PER_SEAT = 5  # buttons under one seat; the rest by `/otp scorecard <seat>` … or the weekly post
NAME_WIDTH = 26
MARK = {True: "✓", False: "✗", None: "·"}
# Emoji codes do not render inside a code block; the characters do.
STATUS_GLYPH = {"green": "🟢", "yellow": "🟡", "red": "🔴", "none": "⚪"}


def _row(row: MetricRow) -> dict[str, str]:
    latest = row.latest
    return {
        "name": truncate(row.metric.name, NAME_WIDTH).ljust(NAME_WIDTH),
        "goal": truncate(row.describe_goal(), 14).ljust(14),
        "cells": " ".join(MARK[c.on_track] for c in row.cells),
        "latest": (row.show(latest.value) if latest else "—").rjust(9),
        "avg": row.show(row.average).rjust(9),
        "trend": TREND[row.trend],
        "status": STATUS_GLYPH[row.status],
        "cadence": "" if row.metric.cadence == "weekly" else f" ({row.metric.cadence})",
    }


class SeatView(TypedDict):
    """One seat's block of the scorecard, as its template reads it."""

    seat: Seat
    holder: str
    rows: list[dict[str, str]]
    statuses: str
    off_track: int
    header: str


def _seat_view(seat: Seat, rows: list[MetricRow]) -> SeatView:
    ordered = sorted(rows, key=lambda r: (not r.off_track, r.metric.position))
    return {
        "seat": seat,
        "holder": seat_holder_text(seat),
        "rows": [_row(r) for r in ordered],
        "statuses": " ".join(STATUS_EMOJI[r.status] for r in ordered),
        "off_track": sum(1 for r in rows if r.off_track),
        "header": "oldest → this week".ljust(2 * len(ordered[0].cells) - 1) if ordered else "",
    }


@command(
    "scorecard",
    "scorecard [seat] [--weeks N] [--page N] | scorecard --post",
    "metrics by seat over the last weeks, each on or off track",
    aliases=("scores", "kpis", "sc"),
)
def scorecard_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    args = parse_args(tokens, options={"weeks", "page"}, flags={"post"})
    if args.options.get("post"):  # in Slack, bot/slack/listeners/rhythm.py takes it first
        raise Usage(
            "`--post` posts the scorecard in the Slack channel you type it in",
            hint="from a terminal: `otp schedule run scorecard`",
        )
    weeks = args.int_option("weeks", DEFAULT_WEEKS, 1, 52)
    if len(args.words) > 1:
        raise Usage("name at most one seat")
    org = get_org(session)
    today = periods.today(org.timezone)
    root = get_seat(session, args.words[0]) if args.words else None
    order = seat_order(session, root.id if root else None)
    scope = org.name if root is None else (f"{root.title} and below" if len(order) > 1 else root.title)
    # Only ids are read for the whole chart; seat rows are loaded for the page shown.
    # A seat whose to-dos were checked has a to-do completion row even without metrics.
    with_metrics = set(session.scalars(select(Metric.seat_id).distinct())) | completion.checked_seats(session)
    seat_ids = [sid for sid in order if sid in with_metrics]
    pages = max(1, -(-len(seat_ids) // SEATS_PER_PAGE))
    page = args.int_option("page", 1, 1, pages)
    page_ids = seat_ids[(page - 1) * SEATS_PER_PAGE : page * SEATS_PER_PAGE]
    loaded = {s.id: s for s in session.scalars(select(Seat).where(Seat.id.in_(page_ids))).unique()}
    shown = [loaded[sid] for sid in page_ids]
    rows = metric_rows(
        session,
        completion.with_completion(session, [m for s in shown for m in s.metrics], page_ids),
        weeks=weeks,
        today=today,
    )
    by_seat: dict[str, list[MetricRow]] = {}
    for r in rows:
        by_seat.setdefault(r.metric.seat_id, []).append(r)
    views = [_seat_view(s, by_seat.get(s.id, [])) for s in shown]
    # Seats with something off track come first: that is what the review is for.
    views.sort(key=lambda v: -int(v["off_track"] > 0))
    # A seat's default to-do completion row has no metric to raise an issue on: its misses are the to-dos themselves.
    misses = [r for r in rows if r.off_track and r.latest is not None and not completion.is_completion(r.metric.id)]
    raised = issues_for(session, [(r.metric.id, r.latest.period) for r in misses if r.latest is not None])
    window = periods.window(today, "weekly", weeks)
    context = {
        "scope": scope,
        "weeks": weeks,
        "first": periods.label(window[0], "weekly"),
        "last": periods.label(window[-1], "weekly"),
        "views": views,
        "off_track": sum(1 for r in rows if r.off_track),
        "metrics": len(rows),
        "page": page,
        "pages": pages,
        "seat_count": len(seat_ids),
        "window": STATUS_WINDOW,
    }
    text = render("scorecard/scorecard.j2", **context)
    budget = blocks.BlockBudget()
    budget.add(blocks.header(truncate(f"Scorecard: {scope}", 150)))
    budget.add(blocks.context(render("scorecard/scorecard_summary.j2", **context)))
    placed = 0
    numbered = iter(range(len(misses)))
    for view in views:
        if not budget.add(blocks.section(render("scorecard/scorecard_seat.j2", view=view))):
            break
        placed += 1
        seat_misses = [r for r in misses if r.metric.seat_id == view["seat"].id]
        for block in _raise_blocks(seat_misses, raised, numbered):
            budget.add(block)
    if placed < len(views) or pages > 1:
        budget.close(render("scorecard/scorecard_more.j2", left=len(views) - placed, **context))
    return Reply(text=text, blocks=budget.blocks)


def _raise_blocks(misses: list[MetricRow], raised: dict[Any, Issue], numbered: Any) -> list[dict[str, Any]]:
    """A Raise issue button for each miss of a seat with no issue yet; the issues raised, as a line."""
    buttons: list[ButtonElement] = []
    lines: list[str] = []
    for r in sorted(misses, key=lambda r: r.metric.position):
        assert r.latest is not None
        issue = raised.get((r.metric.id, r.latest.period))
        if issue is not None:
            lines.append(f"issue #{issue.id} ({issue.status}) on *{escape(truncate(r.metric.name, 80))}*")
        elif len(buttons) < RAISE_PER_SEAT:
            buttons.append(
                ButtonElement(
                    text=truncate(f"Raise issue: {r.metric.name}", 75),
                    action_id=f"{RAISE_FROM_REPLY}_{next(numbered)}",
                    value=r.metric.id,
                )
            )
    out = []
    if buttons:
        out.append(ActionsBlock(elements=buttons).to_dict())
    if lines:
        out.append(blocks.context(truncate(" · ".join(lines), 2000)))
    return out
