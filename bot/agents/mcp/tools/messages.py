"""The message bus's tools: sending a message between seats, a seat's inbox, a whole thread."""

# No `from __future__ import annotations`: the SDK reads the tools' annotations to build
# their JSON schemas and to find the Context parameter.

from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field
from sqlalchemy.orm import Session

from otp_bot.bot.agents.api import message_schemas
from otp_bot.bot.agents.api.message_schemas import InboxRead, Sent, Thread
from otp_bot.bot.agents.mcp.caller import Caller
from otp_bot.bot.agents.mcp.tools.conventions import READ, WRITE
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents import bus, inboxes


def register(server: MCPServer, caller: Caller) -> None:
    """Add send_message, read_inbox and get_thread."""

    @server.tool(annotations=WRITE)
    def send_message(
        ctx: Context,
        performative: Annotated[
            Literal["REQUEST", "INFORM", "PROPOSAL", "RESPONSE"],
            Field(
                description="REQUEST asks for something (optionally by a deadline); INFORM tells; "
                "PROPOSAL suggests; RESPONSE answers a message sent to your seat (needs in_reply_to) "
                "and marks it answered."
            ),
        ],
        body: Annotated[str, Field(max_length=bus.MAX_BODY, description="The message.")],
        to_seat: Annotated[
            str | None,
            Field(
                max_length=64, description="The seat it is for; for a reply, leave it out (it goes to the other seat)."
            ),
        ] = None,
        subject: Annotated[
            str | None,
            Field(
                max_length=bus.MAX_SUBJECT, description="One line; a reply without one takes `Re:` and the original's."
            ),
        ] = None,
        in_reply_to: Annotated[
            int | None, Field(ge=1, description="The number of the message this replies to.")
        ] = None,
        deadline: Annotated[
            str | None, Field(max_length=40, description="REQUEST only: by when, as `4h`, `2d`, a date or an ISO time.")
        ] = None,
        from_seat: Annotated[
            str | None, Field(max_length=64, description="The seat it is from; needed only when you hold several.")
        ] = None,
        key: Annotated[
            str | None,
            Field(
                max_length=bus.MAX_KEY, description="Idempotency key: sending again with it returns the same message."
            ),
        ] = None,
    ) -> Sent:
        """Send a message from a seat you hold to another seat. Messages belong to seats: the recipient seat's
        holder reads them with read_inbox. A reply stays in its thread, between the same two seats."""

        def work(session: Session, actor: Actor) -> Sent:
            sent = bus.send_message(
                session,
                actor,
                to_seat=to_seat,
                performative=performative,
                subject=subject,
                body=body,
                from_seat=from_seat,
                in_reply_to=in_reply_to,
                deadline=deadline,
                key=key,
            )
            return Sent(
                created=sent.created,
                answered=sent.answered.id if sent.answered else None,
                message=message_schemas.message(sent.message),
            )

        return caller.run(ctx, work, writes=True)

    @server.tool(annotations=WRITE)
    def read_inbox(
        ctx: Context,
        seat: Annotated[
            str | None,
            Field(max_length=64, description="Whose inbox: a seat you hold (default: yours, when you hold one)."),
        ] = None,
        status: Annotated[
            Literal["open", "unread", "read", "answered", "all"],
            Field(description="`open` (default): unread, or REQUEST/PROPOSAL not answered yet."),
        ] = "open",
        limit: Annotated[int, Field(ge=1, le=inboxes.MAX_PAGE, description="Messages per page.")] = 20,
        cursor: Annotated[
            str | None, Field(max_length=20, description="`next_cursor` of the previous page, for older messages.")
        ] = None,
        mark_read: Annotated[bool, Field(description="Mark the unread messages returned as read.")] = True,
    ) -> InboxRead:
        """Messages sent to a seat, newest first. Answer a REQUEST or PROPOSAL with send_message
        (performative RESPONSE, in_reply_to its number); a REQUEST past its deadline shows as `overdue`."""

        def work(session: Session, actor: Actor) -> InboxRead:
            page = inboxes.inbox(session, actor, seat, status=status, limit=limit, cursor=cursor)
            shown = [message_schemas.message(m) for m in page.messages]
            marked = inboxes.mark_shown_read(session, actor, page.messages) if mark_read else 0
            return InboxRead(
                seat=message_schemas.seat_ref(page.seat),
                unread=page.unread - marked,
                messages=shown,
                marked_read=marked,
                next_cursor=page.next_cursor,
            )

        return caller.run(ctx, work, writes=mark_read)

    @server.tool(annotations=READ)
    def get_thread(
        ctx: Context, message_id: Annotated[int, Field(ge=1, description="Any message of the thread.")]
    ) -> Thread:
        """A whole conversation, oldest first: the first message and every reply."""
        return caller.run(
            ctx,
            lambda session, actor: Thread(
                messages=[message_schemas.message(m) for m in inboxes.thread(session, actor, message_id)]
            ),
        )
