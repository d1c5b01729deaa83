"""The briefing tool: what needs the agent now, at a glance."""

# No `from __future__ import annotations`: the SDK reads the tools' annotations to build
# their JSON schemas and to find the Context parameter.

from mcp.server.mcpserver import Context, MCPServer

from otp_bot.bot.agents.api import views
from otp_bot.bot.agents.api.briefing_schemas import Briefing
from otp_bot.bot.agents.mcp.caller import Caller
from otp_bot.bot.agents.mcp.tools.conventions import READ


def register(server: MCPServer, caller: Caller) -> None:
    """Add get_briefing."""

    @server.tool(annotations=READ)
    def get_briefing(ctx: Context) -> Briefing:
        """What needs you now, as JSON: your seats; your drafts waiting for a decision and those held (with
        why); drafts waiting for your decision; every flag in force; requests past their deadline to or from
        your seats; unread messages per seat; your metrics off track; the org's operating rules naming your seats
        (also at the resource otp://seat/{seat}/rules). The same as the resource otp://briefing."""
        return caller.run(ctx, views.briefing)
