"""The weekly review's tools: raise and list issues, list, add and complete to-dos, list rocks and
report their track. They answer with the agent API's models (bot/agents/api/review_schemas.py)."""

# No `from __future__ import annotations`: the SDK reads the tools' annotations to build
# their JSON schemas and to find the Context parameter.

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field
from sqlalchemy.orm import Session

from otp_bot.bot.agents.api import review_answers as answers
from otp_bot.bot.agents.api import review_schemas as rs
from otp_bot.bot.agents.api.review_schemas import Headline, IssueRaised, Issues, Rocks, Todo, TodoAdded, Todos, TrackSet
from otp_bot.bot.agents.mcp.caller import Caller
from otp_bot.bot.agents.mcp.tools.conventions import READ, WRITE
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents.request_keys import MAX_KEY
from otp_bot.store.domain.review.issues import get_issue

Seat = Annotated[str | None, Field(max_length=64, description="A seat id, e.g. `retention`.")]
Key = Annotated[
    str | None,
    Field(max_length=MAX_KEY, description="Idempotency key: calling again with it returns what the first call made."),
]


def register(server: MCPServer, caller: Caller) -> None:
    """Add raise_issue, list_issues, list_my_todos, add_todo, complete_todo, list_rocks, set_rock_track and
    set_headline."""

    @server.tool(annotations=WRITE)
    def raise_issue(
        ctx: Context,
        title: Annotated[str, Field(max_length=1000, description="What the issue is, in one line.")],
        seat: Annotated[
            str | None, Field(max_length=64, description="The seat that owns solving it (default: your first seat).")
        ] = None,
        detail: Annotated[
            str | None, Field(max_length=8000, description="Context: numbers, links, what was tried.")
        ] = None,
        draft_id: Annotated[int | None, Field(ge=1, description="The draft it came from.")] = None,
        message_ref: Annotated[
            str | None, Field(max_length=300, description="The message it came from: a permalink or a message number.")
        ] = None,
        key: Key = None,
    ) -> IssueRaised:
        """Put an issue on the weekly review's list (at the bottom; people rank, discuss and solve it): something
        stuck, a risk, a decision you need from people. Say what it is in the title; which seat owns solving it."""
        return caller.run(
            ctx,
            lambda session, actor: answers.raise_issue(
                session, actor, title, seat=seat, detail=detail, draft=draft_id, message=message_ref, key=key
            ),
            writes=True,
        )

    @server.tool(annotations=READ)
    def list_issues(
        ctx: Context,
        seat: Seat = None,
        include_closed: Annotated[bool, Field(description="Also the solved and dropped ones, latest first.")] = False,
        issue_id: Annotated[int | None, Field(ge=1, description="Just this issue.")] = None,
    ) -> Issues:
        """The weekly review's issues list: open and discussed issues by rank (1 first), each with its seat, what
        it came from, and once solved the decision and the to-dos it made."""

        def work(session: Session, _actor: Actor) -> Issues:
            if issue_id is not None:
                return Issues(issues=[rs.issue(get_issue(session, issue_id))], truncated=False)
            return answers.issues(session, seat=seat, status="all" if include_closed else "open")

        return caller.run(ctx, work)

    @server.tool(annotations=READ)
    def list_my_todos(
        ctx: Context,
        seat: Annotated[
            str | None, Field(max_length=64, description="Another seat's to-dos (default: those of your seats).")
        ] = None,
        status: Annotated[answers.TodoStatus, Field(description="open (default), done, dropped or all.")] = "open",
    ) -> Todos:
        """Your to-dos, soonest due first: what you committed to in the weekly review, each with its due day and
        `overdue` when past it. Finish them and report with complete_todo before the review."""
        return caller.run(ctx, lambda session, actor: answers.todos(session, actor, seat=seat, status=status))

    @server.tool(annotations=WRITE)
    def add_todo(
        ctx: Context,
        text: Annotated[str, Field(max_length=1000, description="What is to be done.")],
        due: Annotated[
            str | None,
            Field(max_length=40, description="`2026-12-20`, `friday`, `in 3 days` (default: in 7 days)."),
        ] = None,
        seat: Annotated[
            str | None, Field(max_length=64, description="One of your seats (default: your one seat).")
        ] = None,
        issue_id: Annotated[int | None, Field(ge=1, description="The issue it answers.")] = None,
        key: Key = None,
    ) -> TodoAdded:
        """Commit to a to-do for one of your own seats, due in 7 days unless you say. For another seat's work,
        raise an issue instead."""
        return caller.run(
            ctx,
            lambda session, actor: answers.add_todo(session, actor, text, seat=seat, due=due, issue=issue_id, key=key),
            writes=True,
        )

    @server.tool(annotations=WRITE)
    def complete_todo(
        ctx: Context,
        todo_id: Annotated[int, Field(ge=1, description="The to-do's number, from list_my_todos.")],
        note: Annotated[str | None, Field(max_length=2000, description="What was done, for the review.")] = None,
    ) -> Todo:
        """Mark one of your seat's to-dos done, with a short note of what was done."""
        return caller.run(ctx, lambda session, actor: answers.complete_todo(session, actor, todo_id, note), writes=True)

    @server.tool(annotations=READ)
    def list_rocks(
        ctx: Context,
        seat: Seat = None,
        quarter: Annotated[
            str | None, Field(max_length=10, description="`2026-Q4` (default: this quarter), or `all`.")
        ] = None,
    ) -> Rocks:
        """A quarter's rocks (each seat's 1–5 priorities): due date, milestones, on or off track, and a proposed
        track waiting for a person's confirmation."""
        return caller.run(ctx, lambda session, _a: answers.rocks(session, seat=seat, quarter=quarter))

    @server.tool(annotations=WRITE)
    def set_rock_track(
        ctx: Context,
        rock_id: Annotated[int, Field(ge=1, description="The rock's number, from list_rocks.")],
        track: Annotated[str, Field(max_length=20, description="`on` or `off`.")],
    ) -> TrackSet:
        """Report one of your seat's rocks on or off track for the weekly review. Yours is a proposal: the track
        changes when your accountable human confirms it (`awaiting` names them); say why in the review."""
        return caller.run(ctx, lambda session, actor: answers.set_track(session, actor, rock_id, track), writes=True)

    @server.tool(annotations=WRITE)
    def set_headline(
        ctx: Context,
        text: Annotated[str, Field(max_length=1000, description="One line, at most 300 characters.")],
    ) -> Headline:
        """Your headline for this week's review: one line of news the team should hear (a win, a risk, a
        change), read out in the meeting. Setting it again replaces it."""
        return caller.run(ctx, lambda session, actor: answers.headline(session, actor, text, via="mcp"), writes=True)
