"""Following drafts to their outcome: waiting for the decision, withdrawing, listing your drafts."""

# No `from __future__ import annotations`: the SDK reads the tools' annotations to build
# their JSON schemas and to find the Context parameter.

import threading
from typing import Annotated

from anyio import to_thread
from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field
from sqlalchemy.orm import Session

from otp_bot.bot.agents.api import schemas, views
from otp_bot.bot.agents.api.waits import MAX_WAIT, wait_for_change
from otp_bot.bot.agents.mcp.caller import Caller
from otp_bot.bot.agents.mcp.tools.conventions import READ, WRITE
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.gate import decisions, reading
from otp_bot.store.domain.gate.queries import drafts_of

MAX_LISTED = 100

DraftId = Annotated[int, Field(ge=1, description="The draft's number, from submit_draft.")]


def register(server: MCPServer, caller: Caller, stopping: threading.Event) -> None:
    """Add wait_for_decision, withdraw_draft and list_my_drafts. `stopping` is set when the server
    begins to stop: a wait then answers at once (the agent asks again, of the next server)."""

    @server.tool(annotations=READ)
    async def wait_for_decision(
        ctx: Context,
        draft_id: DraftId,
        timeout: Annotated[
            float, Field(ge=0, le=MAX_WAIT, description="Seconds to wait, at most 60 (call again to wait longer).")
        ] = 30.0,
    ) -> schemas.Waited:
        """Wait until a person decides one of your drafts, then answer it: approved (with `final_text`, what goes
        out), rejected (with `rejection_reason`), changes requested (with `change_requests`: what to change; answer
        with submit_draft and `revises`), expired, withdrawn, or released from a hold. Answers at once
        when the draft is decided already; `changed` says whether its status moved while waiting, `timed_out`
        that `timeout` seconds passed first. No need to poll: wait again after a time-out."""

        def read_draft(session: Session, actor: Actor) -> schemas.Draft:
            return views.draft(session, reading.readable_draft(session, actor, draft_id))

        def look() -> str | None:
            with caller.db.session(readonly=True) as session:
                return reading.status_of(session, draft_id)

        async def read() -> schemas.Draft:
            return await to_thread.run_sync(caller.run, ctx, read_draft)

        async def status() -> str | None:
            return await to_thread.run_sync(look)

        async def stop() -> bool:
            return stopping.is_set()

        return await wait_for_change(read, status, timeout, stop)

    @server.tool(annotations=WRITE)
    def withdraw_draft(ctx: Context, draft_id: DraftId) -> schemas.Draft:
        """Withdraw a draft you submitted while it is still held, pending or waiting for your revision (changes
        requested): nobody decides it any more and its approval message says so. A decided draft cannot be
        withdrawn."""
        return caller.run(
            ctx, lambda session, actor: views.draft(session, decisions.withdraw(session, actor, draft_id)), writes=True
        )

    @server.tool(annotations=READ)
    def list_my_drafts(
        ctx: Context,
        status: Annotated[
            str | None,
            Field(max_length=40, description="Only drafts in this status: `pending`, `held`, `rejected`, ..."),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_LISTED, description="How many, newest first.")] = 20,
    ) -> schemas.DraftList:
        """Your drafts, newest first: those of the seats you hold and those you drafted, each with its status, the
        outcome in a sentence, the final text once approved and the rejection reason."""
        return caller.run(
            ctx,
            lambda session, actor: schemas.DraftList(
                drafts=[views.draft(session, d) for d in drafts_of(session, actor, status=status, limit=limit)]
            ),
        )
