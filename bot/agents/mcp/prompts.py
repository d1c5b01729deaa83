"""Prompts a host offers its user: drafting for approval with what the org expects of the draft, and
a weekly review of a seat. Each is read as the token that asks, for a seat its holder holds."""

# No `from __future__ import annotations`: the SDK reads the functions' annotations to find the
# Context parameter and the prompts' arguments.

from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, TypeVar

from jinja2 import Environment, PackageLoader, StrictUndefined
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import INVALID_PARAMS
from pydantic import Field
from sqlalchemy.orm import Session

from otp_bot.bot.agents.api import views
from otp_bot.bot.agents.mcp.caller import Caller
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.gate.drafting import drafting_context, own_seats
from otp_bot.store.domain.gate.ledger import WINDOW_DAYS
from otp_bot.store.domain.scorecard.metrics import current_rows

T = TypeVar("T")


@cache
def _plain() -> Environment:
    """Templates of text for a model, not for Slack: nothing in them is escaped."""
    return Environment(
        loader=PackageLoader("otp_bot.templates", ""),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        auto_reload=False,
    )


def render(name: str, **values: Any) -> str:
    return _plain().get_template(name).render(**values).strip() + "\n"


def register(server: MCPServer, caller: Caller) -> None:
    """Add the prompts draft_for_approval and weekly_review."""

    def run(ctx: Context, work: Callable[[Session, Actor], T]) -> T:
        try:
            return caller.run(ctx, work)
        except ToolError as exc:  # as a tool would say it; the SDK would otherwise hide why
            raise MCPError(INVALID_PARAMS, str(exc)) from None

    @server.prompt(title="Draft for approval")
    def draft_for_approval(
        ctx: Context,
        seat: Annotated[str, Field(max_length=64, description="The drafting seat: one you hold.")],
        kind: Annotated[str, Field(max_length=64, description="What it is, one word: `retention-outreach`.")],
        subject: Annotated[str, Field(max_length=200, description="Who or what it is about: `client:acme`.")],
    ) -> str:
        """Before drafting: the seat's operating rules, why recent drafts of this kind were rejected, how people
        edited the ones they approved, and the flags in force on the subject, with how to submit the draft and
        wait for the decision."""

        def work(session: Session, actor: Actor) -> str:
            c = drafting_context(session, actor, seat, kind, subject)
            return render(
                "agents/prompt_draft_for_approval.j2",
                seat=c.seat,
                kind=c.kind,
                subject=c.subject,
                rules=[views.rule(r) for r in c.rules],
                rejections=c.learnings.rejections,
                edits=c.learnings.edits,
                changes_asked=c.learnings.changes_asked,
                days=WINDOW_DAYS,
                flags=[views.flag(session, f) for f in c.flags],
            )

        return run(ctx, work)

    @server.prompt(title="Weekly review")
    def weekly_review(
        ctx: Context,
        seat: Annotated[
            str | None, Field(max_length=64, description="A seat you hold (default: every seat you hold).")
        ] = None,
    ) -> str:
        """A review of the week for your seat: its scorecard with what is off track, your to-dos due and your
        rocks' track, and what waits (drafts, held drafts, overdue requests, unread messages, flags), framed as
        questions to answer."""

        def work(session: Session, actor: Actor) -> str:
            seats = own_seats(session, actor, seat)
            ids = {s.id for s in seats}
            briefing = views.briefing(session, actor)
            measured = [m for s in seats for m in s.metrics]
            rows = current_rows(session, measured) if measured else []
            metrics = [views.metric_status(r) for r in rows]
            return render(
                "agents/prompt_weekly_review.j2",
                seats=seats,
                as_of=briefing.as_of,
                metrics=metrics,
                off_track=[m for m, r in zip(metrics, rows, strict=True) if r.off_track],
                briefing=briefing,
                todos=[t for t in briefing.todos if t.seat in ids],
                rocks=[r for r in briefing.rocks if r.seat in ids],
            )

        return run(ctx, work)
