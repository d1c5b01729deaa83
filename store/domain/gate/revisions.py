"""A revision: the drafter's answer to a request for changes, in the original's place.

The revision is a new draft (its own id, its own decisions) that names the one it revises.
It takes the original's approval message(s): the message records are re-pointed to the
revision, so a click there decides the revision, and a click still carrying the original's
id is refused. (An escalation's DM stays the original's, updated to say it was revised.)
The previous version goes into the message's thread, which keeps the history.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from otp_bot.store.domain import audit, outbox
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid
from otp_bot.store.domain.gate.follow_chart import places
from otp_bot.store.domain.gate.notices import queue_message_update
from otp_bot.store.domain.gate.routing import Route
from otp_bot.store.models import CHANGES_REQUESTED, Draft, Seat


def check_revisable(original: Draft, seat: Seat, kind: str, subject: str) -> None:
    """Raise unless `seat` may answer `original` with a revision of this kind and subject now
    (the route's cap on versions was applied when its changes were asked)."""
    if original.seat_id != seat.id:
        raise Forbidden(
            f"draft #{original.id} is seat `{original.seat_id}`'s; a revision comes from the seat that drafted it"
        )
    if original.status == "revised":
        by = original.revised_by
        raise Conflict(
            f"draft #{original.id} was already revised{f' by draft #{by.id}' if by else ''}; nothing changed",
            hint=f"revise the latest version{f', #{by.id}' if by else ''}, once changes are requested of it",
        )
    if original.status != CHANGES_REQUESTED:
        raise Conflict(
            f"draft #{original.id} is {original.status}: only a draft whose changes were requested can be "
            "revised; nothing changed",
            hint="submit it without `revises` for a new draft",
        )
    if (kind, subject) != (original.kind, original.subject):
        raise Invalid(
            f"a revision keeps its draft's kind and subject: draft #{original.id} is "
            f"{original.kind} about `{original.subject}`",
            hint="submit a new draft (without `revises`) for another kind or subject",
        )
    # No cap here: changes were asked under the route as it was, and that request is honoured
    # even if the chart lowered `max_rounds` since (else the draft would wait for a revision
    # nobody may send). The cap applies to the next request (changes.py).


def take_place(session: Session, actor: str, original: Draft, revision: Draft, route: Route, now: dt.datetime) -> None:
    """`revision` (flushed, linked by `revises`) replaces `original` on its approval message(s),
    when `route` (the chart's route now) still posts where the original was posted."""
    original.status = "revised"
    # An escalation's message was for the person it escalated to, who may not decide the
    # revision: it stays the original's and says it was revised. So do all of them when the
    # chart moved the route meanwhile: the revision is posted afresh where its approvers are now.
    was = places(session, original.route_channel, original.approvers)
    here = was == places(session, route.channel, route.approvers)
    moved = [m for m in original.messages if m.purpose != "escalation"] if here else []
    kept = len(original.messages) > len(moved)
    for message in moved:
        message.draft_id = revision.id
    session.flush()  # the unique key on `revises` refuses a second revision of the same draft here
    session.expire(original, ["messages", "revised_by"])
    session.expire(revision, ["messages", "previous"])
    if kept:
        queue_message_update(session, original, now)
    audit.record(
        session, actor, "draft.revised", f"draft:{original.id}", by=f"draft:{revision.id}", round=revision.round
    )
    if moved:
        # The previous version goes into the message's thread: the thread keeps the history.
        outbox.enqueue(
            session,
            "notify",
            f"draft:{revision.id}:previous:{original.id}",
            {"event": "previous_version", "previous": original.id},
            draft_id=revision.id,
            now=now,
        )
