"""App Home: a pure builder from an Overview to a Home tab view (Block Kit, in code)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from otp_bot.bot.slack.views.home_review import review_blocks
from otp_bot.bot.slack.views.queue import queue_blocks
from otp_bot.commands.views import blocks
from otp_bot.commands.views.describe import metric_line, status_legend
from otp_bot.commands.views.ledger import ledger_section
from otp_bot.commands.views.render import render
from otp_bot.store.domain.rhythm.overview import Overview

HOME_BLOCKS = 100
OPEN_SCORECARD = "otp_home_scorecard"
OPEN_CHART_IMAGE = "otp_home_chart_image"


def scorecard_button(label: str, seat_id: str, block_id: str) -> dict[str, Any]:
    # action_ids must be unique within a view: one per button, all matched by the prefix.
    return ActionsBlock(
        block_id=block_id,
        elements=[
            ButtonElement(text=label[:75], action_id=f"{OPEN_SCORECARD}:{seat_id or 'org'}"[:255], value=seat_id),
        ],
    ).to_dict()


def home_view(overview: Overview, user_id: str) -> dict[str, Any]:
    budget = blocks.BlockBudget(max_blocks=HOME_BLOCKS, max_chars=60_000)
    if overview.org is None:
        budget.add(blocks.section(render("home/home_no_chart.j2")))
        return {"type": "home", "blocks": budget.blocks}
    budget.add(blocks.header(f"{overview.org.name}: OTP bot"))
    budget.add(blocks.section(render("home/home_org.j2", off_track=overview.off_track, metrics=overview.metrics)))
    org_buttons = scorecard_button("Open the full scorecard", "", "otp_home_org")
    org_buttons["elements"].append(ButtonElement(text="Org chart image", action_id=OPEN_CHART_IMAGE).to_dict())
    budget.add(org_buttons)
    budget.add(blocks.divider())
    if overview.actor.holder_id is None:
        budget.add(blocks.section(render("home/home_unknown.j2", user_id=user_id)))
    elif not overview.seats:
        budget.add(blocks.section(render("home/home_no_seats.j2", name=overview.actor.label)))
    if overview.queue.groups:
        for block in queue_blocks(overview.queue):
            budget.add(block)
        budget.add(blocks.divider())
    if overview.review is not None and not overview.review.empty:
        for block in review_blocks(overview.review):
            budget.add(block)
        budget.add(blocks.divider())
    if any(overview.rows.get(seat.id) for seat in overview.seats):
        budget.add(blocks.context(status_legend()))
    for seat in overview.seats:
        rows = overview.rows.get(seat.id, [])
        text = render(
            "home/home_seat.j2",
            seat=seat,
            metrics=[metric_line(r) for r in rows],
            off_track=sum(1 for r in rows if r.off_track),
        )
        if not budget.add(blocks.section(text)) or not budget.add(
            scorecard_button(f"Scorecard: {seat.title}", seat.id, f"otp_home_seat_{seat.id}"[:255])
        ):
            budget.close("More seats than fit here: `/otp scorecard` lists them all.")
            return {"type": "home", "blocks": budget.blocks}
    ledger_sections(budget, overview)
    return {"type": "home", "blocks": budget.blocks}


def ledger_sections(budget: blocks.BlockBudget, overview: Overview) -> None:
    """The trust ledgers of the agent seats this person holds or answers for (they may read the reasons)."""
    if overview.ledgers:
        budget.add(blocks.divider())
    for ledger in overview.ledgers:
        heading = render("home/home_ledger_head.j2", title=ledger.title, seat_id=ledger.seat_id, days=ledger.days)
        if not budget.add(blocks.section(ledger_section(ledger, reasons=True, heading=heading))):
            budget.close("More trust ledgers than fit here: `/otp seat <seat>` shows each.")
            return
