"""The org's operating rules: a tool that searches them by topic, a resource with those naming a seat."""

# No `from __future__ import annotations`: the SDK reads the tools' annotations to build
# their JSON schemas and to find the Context parameter.

import json
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import Field
from sqlalchemy.orm import Session

from otp_bot.bot.agents.api import views
from otp_bot.bot.agents.mcp.caller import Caller
from otp_bot.bot.agents.mcp.tools.conventions import READ
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_seat
from otp_bot.store.domain.chart.rules import rules_naming, search_rules


def register(server: MCPServer, caller: Caller) -> None:
    """Add search_rules and the resource otp://seats/{seat}/rules."""

    @server.tool(name="search_rules", annotations=READ)
    def search_rules_tool(
        ctx: Context,
        topic: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="A topic, a seat's title or a rule id: `fees`, `front desk`, `C004`.",
            ),
        ],
    ) -> dict[str, Any]:
        """The org's operating rules about a topic, best first (typos, case and plurals tolerated): each with
        its rule, why, failure mode, scope, confidence, evidence and the seats it names. Read them before acting
        in an area they cover."""
        return caller.run(
            ctx,
            lambda session, _a: {"topic": topic, "rules": [views.rule(f.rule) for f in search_rules(session, topic)]},
        )

    @server.resource(
        "otp://seats/{seat}/rules",
        name="seat_rules",
        title="A seat's operating rules",
        description="The org's operating rules that name this seat, as JSON.",
        mime_type="application/json",
    )
    def seat_rules(seat: str, ctx: Context) -> str:
        def work(session: Session, _actor: Actor) -> str:
            found = get_seat(session, seat)
            return json.dumps({"seat": found.id, "rules": [views.rule(r) for r in rules_naming(session, found.id)]})

        try:
            return caller.run(ctx, work)
        except ToolError as exc:
            raise ResourceError(str(exc)) from None
