"""`otp mcp` driven by the official MCP client over stdio: a token per agent, and one session
per scenario that fails with the server's own account of what went wrong."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import jsonschema
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from otp_bot.store.db import Database
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents import tokens
from tests.support.serve import OTP

TOOLS = {
    "who_owns",
    "get_chart",
    "get_seat",
    "list_my_metrics",
    "push_metric_values",
    "submit_draft",
    "get_draft",
    "set_flag",
    "list_flags",
    "lift_flag",
    "wait_for_decision",
    "withdraw_draft",
    "list_my_drafts",
    "send_message",
    "read_inbox",
    "get_thread",
    "raise_issue",
    "list_issues",
    "list_my_todos",
    "add_todo",
    "complete_todo",
    "list_rocks",
    "set_rock_track",
    "set_headline",
    "get_briefing",
    "search_rules",
}


def token_for(db: Database, holder: str | None, **kw: Any) -> str:
    with db.session() as s:
        return tokens.create_token(s, Actor.cli_operator(), holder_id=holder, **kw).secret


class Agent:
    """One MCP session: call tools, read their JSON (checked against the tool's declared output
    schema), see their errors."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session
        self.output_schemas: dict[str, dict[str, Any]] = {}

    async def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        if not self.output_schemas:
            listed = (await self.session.list_tools()).tools
            self.output_schemas = {t.name: t.output_schema for t in listed if t.output_schema}
        result = await self.session.call_tool(tool, arguments)
        assert not result.is_error, f"{tool}: {result.content[0].text}"
        assert result.structured_content is not None
        jsonschema.validate(result.structured_content, self.output_schemas[tool])
        # The same JSON as text, for hosts that read only text content.
        assert json.loads(result.content[0].text) == result.structured_content
        return result.structured_content

    async def read(self, uri: str) -> Any:
        """A resource's JSON, checked to be JSON."""
        contents = (await self.session.read_resource(uri)).contents
        assert len(contents) == 1 and contents[0].mime_type == "application/json", contents
        return json.loads(contents[0].text)

    async def error(self, tool: str, **arguments: Any) -> str:
        result = await self.session.call_tool(tool, arguments)
        assert result.is_error, f"{tool} should have failed: {result.content}"
        return result.content[0].text


def session_with(db: Database, token: str | None, scenario: Callable[[Agent], Awaitable[Any]]) -> Any:
    """Start `otp mcp` with this token, run the scenario in one session, return what it returns."""
    env = {"OTP_DATABASE_URL": db.url, "OTP_LOG_LEVEL": "WARNING"}
    if token is not None:
        env["OTP_TOKEN"] = token

    async def main() -> Any:
        with tempfile.TemporaryFile("w+") as errlog:
            params = StdioServerParameters(command=OTP, args=["mcp"], env=env)
            try:
                async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                    init = await session.initialize()
                    assert "get_briefing" in (init.instructions or "")
                    result = await scenario(Agent(session))
            except Exception as exc:  # the server's own account of it helps more
                errlog.seek(0)
                raise AssertionError(f"the MCP session failed; the server said:\n{errlog.read()}") from exc
            errlog.seek(0)
            logged = errlog.read()
            assert "Traceback" not in logged and "otp_" not in logged, logged  # no crash, no token in the log
            return result

    return anyio.run(main)
