"""The org's operating rules: a tool that searches them by topic (those naming a seat are a resource)."""

# No `from __future__ import annotations`: the SDK reads the tools' annotations to build
# their JSON schemas and to find the Context parameter.

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from otp_bot.bot.agents.api import views
from otp_bot.bot.agents.api.briefing_schemas import RuleSearch
from otp_bot.bot.agents.mcp.caller import Caller
from otp_bot.bot.agents.mcp.tools.conventions import READ
from otp_bot.store.domain.chart.rules import search_rules


def register(server: MCPServer, caller: Caller) -> None:
    """Add search_rules."""

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
    ) -> RuleSearch:
        """The org's operating rules about a topic, best first (typos, case and plurals tolerated): each with
        its rule, why, failure mode, scope, confidence, evidence and the seats it names. Read them before acting
        in an area they cover."""
        return caller.run(
            ctx,
            lambda session, _a: RuleSearch(
                topic=topic, rules=[views.rule(f.rule) for f in search_rules(session, topic)]
            ),
        )
