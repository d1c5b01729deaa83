"""The message bus for agents: send to a seat, read a seat's inbox, mark read, read a thread."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import Field

from otp_bot.bot.agents.api import message_schemas, pages, schemas
from otp_bot.bot.agents.api.auth import Caller, Db, Kick
from otp_bot.bot.agents.api.idempotency import idempotency_key
from otp_bot.bot.agents.api.message_schemas import InboxPage, Message, Performative, Sent, Thread
from otp_bot.bot.agents.api.problems import responses
from otp_bot.store.domain.agents import bus, inboxes
from otp_bot.store.domain.errors import Invalid

router = APIRouter(tags=["messages"], responses=responses(401))


class MessageIn(schemas.In):
    performative: Performative = Field(
        description="REQUEST asks for something (optionally by a `deadline`); INFORM "
        "tells; PROPOSAL suggests; RESPONSE answers a message sent to the sending seat "
        "(`in_reply_to` required) and marks it answered."
    )
    to_seat: str | None = Field(
        None,
        max_length=64,
        description="The seat it is for. A reply goes to the other seat of its thread: leave it out.",
    )
    from_seat: str | None = Field(
        None,
        max_length=64,
        description="The sending seat, one the token's holder holds; "
        "needed only when it holds several (or for an admin token).",
    )
    subject: str | None = Field(
        None,
        max_length=bus.MAX_SUBJECT,
        description="One line. A reply without one takes `Re:` and the subject it replies to.",
    )
    body: str = Field(max_length=bus.MAX_BODY)
    in_reply_to: int | None = Field(None, ge=1, description="The message this one replies to.")
    deadline: str | None = Field(
        None, max_length=40, description="REQUEST only: `4h`, `2d`, a date or an ISO time, in the future."
    )
    key: str | None = Field(
        None,
        max_length=bus.MAX_KEY,
        description="Idempotency key (or the Idempotency-Key "
        "header): the same key and content from the same seat return the same message.",
    )


@router.post(
    "/messages",
    status_code=201,
    response_model=Sent,
    response_model_by_alias=True,
    responses={
        200: {"model": Sent, "description": "Already sent with this key: the same message"},
        **responses(400, 403, 404, 409, 413, 422),
    },
)
def send(
    body: MessageIn,
    actor: Caller,
    db: Db,
    kick: Kick,
    request: Request,
    response: Response,
    idempotency_key_header: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> Sent:
    """Send a message from a seat the token's holder holds to another seat. A reply
    (`in_reply_to`) stays in its thread, between the same two seats. 201 with the new
    message; 200 with the same message when its idempotency key was seen before."""
    key = idempotency_key(body.key, idempotency_key_header)
    with db.session() as session:
        sent = bus.send_message(
            session,
            actor,
            performative=body.performative,
            body=body.body,
            to_seat=body.to_seat,
            subject=body.subject,
            from_seat=body.from_seat,
            in_reply_to=body.in_reply_to,
            deadline=body.deadline,
            key=key,
        )
        out = Sent(
            message=message_schemas.message(sent.message),
            created=sent.created,
            answered=sent.answered.id if sent.answered else None,
        )
    if sent.created:
        kick()  # a coordination channel's mirror goes out now
    response.status_code = 201 if sent.created else 200
    response.headers["Location"] = f"{request.scope.get('root_path', '')}/messages/{out.message.id}"
    return out


@router.get("/inbox", response_model=InboxPage, response_model_by_alias=True, responses=responses(403, 404, 422))
def inbox(
    actor: Caller,
    db: Db,
    seat: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Whose inbox: a seat the token's holder holds "
            "or is accountable for (default: the one seat it holds).",
        ),
    ] = None,
    status: Annotated[
        Literal["open", "unread", "read", "answered", "all"],
        Query(description="`open`: unread, or a REQUEST/PROPOSAL not answered yet."),
    ] = "open",
    limit: Annotated[int, Query(ge=1, le=inboxes.MAX_PAGE, description=f"1 to {inboxes.MAX_PAGE}.")] = 50,
    cursor: pages.Cursor = None,
) -> InboxPage:
    """Messages sent to a seat, newest first. Reading does not mark them read: POST
    /messages/{id}/read does, for the seat's holder."""
    after = pages.decode(
        "inbox",
        cursor,
        lambda a: isinstance(a, list) and len(a) == 3 and all(isinstance(x, str) for x in a[:2]) and type(a[2]) is int,
    )
    with db.session(readonly=True) as session:
        if after is not None and [after[0], after[1]] != [seat or "", status]:
            raise Invalid(
                "this cursor belongs to another inbox or filter",
                hint="pass `next_cursor` with the same seat and status",
            )
        page = inboxes.inbox(session, actor, seat, status=status, limit=limit, cursor=after[2] if after else None)
        return InboxPage(
            seat=message_schemas.seat_ref(page.seat),
            unread=page.unread,
            messages=[message_schemas.message(m) for m in page.messages],
            next_cursor=pages.encode("inbox", [seat or "", status, int(page.next_cursor)])
            if page.next_cursor
            else None,
        )


@router.get(
    "/messages/{message_id}", response_model=Message, response_model_by_alias=True, responses=responses(403, 404)
)
def show(message_id: int, actor: Caller, db: Db) -> Message:
    """One message, to or from a seat the token's holder holds or is accountable for."""
    with db.session(readonly=True) as session:
        return message_schemas.message(bus.readable_message(session, actor, message_id))


@router.post(
    "/messages/{message_id}/read", response_model=Message, response_model_by_alias=True, responses=responses(403, 404)
)
def mark_read(message_id: int, actor: Caller, db: Db) -> Message:
    """Mark a message read (the recipient seat's holder, or an admin token). Reading it
    again changes nothing; an answered message stays answered."""
    with db.session() as session:
        return message_schemas.message(inboxes.mark_read(session, actor, message_id))


@router.get(
    "/messages/{message_id}/thread", response_model=Thread, response_model_by_alias=True, responses=responses(403, 404)
)
def thread(message_id: int, actor: Caller, db: Db) -> Thread:
    """The whole conversation a message belongs to, oldest first."""
    with db.session(readonly=True) as session:
        return Thread(messages=[message_schemas.message(m) for m in inboxes.thread(session, actor, message_id)])
