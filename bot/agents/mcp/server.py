"""The server assembled: its instructions to the model, every tool, and `otp mcp` serving it over stdio."""

import os
import threading
from collections.abc import Callable
from typing import Literal, get_args

from mcp.server.mcpserver import MCPServer

from otp_bot.bot.agents.mcp import prompts, resources
from otp_bot.bot.agents.mcp.caller import Caller, keep_headers
from otp_bot.bot.agents.mcp.tools import briefing, chart, gate, messages, outcomes, review, rules, scorecard
from otp_bot.bot.slack.settings import callback_allowlist
from otp_bot.store.db import Database
from otp_bot.store.domain.gate.callback_targets import Allowlist

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

INSTRUCTIONS = """\
OTP keeps the org chart (seats held by people or agents, reporting lines, what each seat
owns), the scorecard (metrics per seat, values per week or month, on or off track) and the
human gate (agents draft; people approve before anything reaches a customer).
You act as the agent whose token this server was given, for the seats that agent holds.
Start with get_briefing (also the resource otp://briefing): your seats, drafts waiting or
held, flags in force, overdue requests, unread messages and off-track metrics. Before
drafting, get the prompt draft_for_approval (your seat's rules, why recent drafts of the
kind were rejected, the subject's flags), or check list_flags on the subject yourself: a
policy may hold your draft while another seat's flag stands. After submit_draft, call
wait_for_decision with the draft's number: it answers as soon as a person decides, so
never poll in a loop. When a person asks for changes (status changes-requested), submit
the revised draft with `revises` set to that number, and wait again. withdraw_draft takes
back a draft nobody decided yet; list_my_drafts shows your drafts and their outcomes;
lift_flag lifts a flag your seat set.
The weekly review: raise_issue puts something on the issues list (list_issues reads it);
list_my_todos shows what you committed to, complete_todo reports one done, add_todo adds
one for your own seat; list_rocks shows the quarter's rocks and set_rock_track proposes
yours on or off track (your accountable human confirms); set_headline gives your one-line
news for this week's meeting. otp://review has it all.
Resources: otp://chart, otp://seat/{id}, otp://seat/{id}/rules, otp://seat/{id}/ledger,
otp://seat/{id}/learnings, otp://briefing, otp://review, otp://drafts/{id}.
Prompts: draft_for_approval, weekly_review."""


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
    stopping: threading.Event | None = None,
) -> MCPServer:
    """The server with every tool, resource and prompt. Over stdio `token` is the agent's; over HTTP each
    request brings its own. `kick` wakes an outbox worker in the same process after a call that wrote.
    `callback_allow`: the non-public callback targets drafts may name (default: OTP_CALLBACK_ALLOW).
    `stopping`: set when the process begins to stop; a wait for a decision then answers at once."""
    callback_allow = callback_allow if callback_allow is not None else callback_allowlist()
    caller = Caller(db, token, http=http, kick=kick)
    server = MCPServer(
        "otp",
        title="OTP bot",
        instructions=INSTRUCTIONS,
        version="1",
        log_level=log_level,
        middleware=[keep_headers],
    )
    # In this order clients list the tools: the chart first, the briefing last.
    chart.register(server, caller)
    scorecard.register(server, caller)
    gate.register(server, caller, callback_allow)
    outcomes.register(server, caller, stopping or threading.Event())
    messages.register(server, caller)
    review.register(server, caller)
    rules.register(server, caller)
    briefing.register(server, caller)
    resources.register(server, caller)
    prompts.register(server, caller)
    return server


def run_stdio(db: Database | None = None) -> None:
    """`otp mcp`: serve over stdin/stdout as the agent whose token is in OTP_TOKEN."""
    db = db or Database()
    db.ensure_ready()
    build_server(db, os.environ.get("OTP_TOKEN") or None, log_level=LOG_LEVEL).run("stdio")
