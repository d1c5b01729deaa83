"""The chart's tools: who owns a topic, the org chart, one seat in full."""

# No `from __future__ import annotations`: the SDK reads the tools' annotations to build
# their JSON schemas and to find the Context parameter.

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.bot.agents.api import schemas, views
from otp_bot.bot.agents.mcp.caller import Caller
from otp_bot.bot.agents.mcp.tools.conventions import READ
from otp_bot.store.domain.chart.reading import get_org, get_seat, seat_order
from otp_bot.store.models import Seat

CHART_SEATS = 1000  # seats get_chart lists; `below` narrows a larger chart


def chart(session: Session, below: str | None = None) -> schemas.Chart:
    """The chart, or the part of it below a seat, as get_chart and otp://chart answer it."""
    org = get_org(session)
    order = seat_order(session, get_seat(session, below).id if below else None)
    shown = order[:CHART_SEATS]
    by_id = {s.id: s for s in session.scalars(select(Seat).where(Seat.id.in_(shown)))}
    return schemas.Chart(
        org=schemas.Org(name=org.name, timezone=org.timezone, revision=org.revision),
        seats=[views.seat(by_id[i]) for i in shown],
        truncated=len(order) > len(shown),
    )


def register(server: MCPServer, caller: Caller) -> None:
    """Add who_owns, get_chart and get_seat."""

    @server.tool(name="who_owns", annotations=READ)
    def who_owns_tool(
        ctx: Context,
        topic: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="A topic, function or question: `retention`, `invoices`, `who approves ad spend`.",
            ),
        ],
    ) -> schemas.WhoOwns:
        """Find the seat that owns a topic (typos, case and plurals tolerated): the seat with its holder,
        accountable human, reporting line and metrics. When unsure, up to three candidates instead."""

        return caller.run(ctx, lambda session, _a: views.who_owns_answer(session, topic))

    @server.tool(annotations=READ)
    def get_chart(
        ctx: Context,
        below: Annotated[
            str | None,
            Field(max_length=64, description="Only this seat and the seats below it (default: the whole chart)."),
        ] = None,
    ) -> schemas.Chart:
        """The org chart: every seat depth first in chart order, with its holder (human or agent), the human
        accountable for it, its status and `reports_to` (which gives the tree). Also the resource otp://chart."""
        return caller.run(ctx, lambda session, _a: chart(session, below))

    @server.tool(name="get_seat", annotations=READ)
    def get_seat_tool(
        ctx: Context, seat: Annotated[str, Field(max_length=64, description="The seat id, e.g. `retention`.")]
    ) -> schemas.SeatDetail:
        """One seat in full: holder, accountable human, reporting line, accountabilities, what it owns and does
        not own, and its metrics with goal, latest value and green/yellow/red status. Also the resource otp://seat/{seat}."""
        return caller.run(ctx, lambda session, _a: views.seat_detail(session, get_seat(session, seat)))
