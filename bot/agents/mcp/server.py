"""The server assembled: its instructions to the model, every tool, and `otp mcp` serving it over stdio."""

import os
from collections.abc import Callable
from typing import Literal, get_args

from mcp.server.mcpserver import MCPServer

from otp_bot.bot.agents.mcp.caller import Caller
from otp_bot.bot.agents.mcp.tools import briefing, chart, gate, messages, rules, scorecard
from otp_bot.bot.slack.settings import callback_allowlist
from otp_bot.store.db import Database
from otp_bot.store.domain.gate.callback_targets import Allowlist

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

INSTRUCTIONS = """\
OTP keeps the org chart (seats held by people or agents, reporting lines, what each seat
owns), the scorecard (metrics per seat, values per week or month, on or off track) and the
human gate (agents draft; people approve before anything reaches a customer).
You act as the agent whose token this server was given, for the seats that agent holds.
Start with get_briefing: your seats, drafts waiting or held, flags in force, overdue
requests, unread messages and off-track metrics. Check list_flags on a subject before
drafting about it: a policy may hold your draft while another seat's flag stands."""


def parse_log_level(name: str) -> LogLevel:
    """OTP_LOG_LEVEL's value as the SDK takes it; WARNING when unset or not a level."""
    return next((level for level in get_args(LogLevel) if level == name.upper()), "WARNING")


LOG_LEVEL = parse_log_level(os.environ.get("OTP_LOG_LEVEL", "WARNING"))  # the SDK logs every tool failure at INFO


def build_server(
    db: Database,
    token: str | None = None,
    *,
    http: bool = False,
    log_level: LogLevel = "WARNING",
    kick: Callable[[], None] | None = None,
    callback_allow: Allowlist | None = None,
) -> MCPServer:
    """The server with every tool. Over stdio `token` is the agent's; over HTTP each request brings its own.
    `kick` wakes an outbox worker in the same process after a call that wrote. `callback_allow`: the
    non-public callback targets drafts may name (default: OTP_CALLBACK_ALLOW)."""
    callback_allow = callback_allow if callback_allow is not None else callback_allowlist()
    caller = Caller(db, token, http=http, kick=kick)
    server = MCPServer("otp", title="OTP bot", instructions=INSTRUCTIONS, version="1", log_level=log_level)
    # In this order clients list the tools: the chart first, the briefing last.
    chart.register(server, caller)
    scorecard.register(server, caller)
    gate.register(server, caller, callback_allow)
    messages.register(server, caller)
    rules.register(server, caller)
    briefing.register(server, caller)
    return server


def run_stdio(db: Database | None = None) -> None:
    """`otp mcp`: serve over stdin/stdout as the agent whose token is in OTP_TOKEN."""
    db = db or Database()
    db.ensure_ready()
    build_server(db, os.environ.get("OTP_TOKEN") or None, log_level=LOG_LEVEL).run("stdio")
