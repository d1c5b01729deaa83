"""The briefing's agent lines: each agent seat's last value, draft, flag or message; the quietest first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.rhythm.seat_facts import SeatFacts
from otp_bot.store.domain.scorecard import seat_activity
from otp_bot.store.models import Draft, Flag, Holder, Seat

# (seat id, when): the latest of one kind of activity per seat.
Activity = Iterable[tuple[str, dt.datetime | None]]


@dataclass
class AgentLine:
    seat_id: str
    seat: str
    agent: str
    last: str | None  # value, draft, flag, message; None: nothing seen in the window
    last_at: dt.datetime | None


def agent_lines(session: Session, seats: dict[str, SeatFacts], horizon: dt.datetime) -> list[AgentLine]:
    # An agent seat always has its holder's name (the agent); the check only tells the types so.
    mine = {sid: (s, s.holder) for sid, s in seats.items() if s.agent and s.holder is not None}
    if not mine:
        return []
    # The same seats, as a subquery: one statement per kind of activity, whatever their number.
    agent_seats = (
        select(Seat.id)
        .join(Holder, Holder.id == Seat.holder_id)
        .where(Seat.status != "retired", Holder.kind == "agent")
    )
    last: dict[str, tuple[dt.datetime, str]] = {}

    def note(kind: str, rows: Activity) -> None:
        for seat_id, seen_at in rows:
            at = as_utc(seen_at)
            if at is not None and (seat_id not in last or at > last[seat_id][0]):
                last[seat_id] = (at, kind)

    # A value's time is kept per seat as it is written: looking for it among the values
    # themselves read most of the table on PostgreSQL.
    note("value", seat_activity.last_values(session, agent_seats))
    note(
        "draft",
        session.execute(
            select(Draft.seat_id, func.max(Draft.created_at))
            .where(Draft.seat_id.in_(agent_seats))
            .group_by(Draft.seat_id)
        ),
    )
    note(
        "flag",
        session.execute(
            select(Flag.seat_id, func.max(Flag.set_at)).where(Flag.seat_id.in_(agent_seats)).group_by(Flag.seat_id)
        ),
    )
    note("message", _messages_sent(session, agent_seats))
    out = []
    for seat_id, (seat, agent) in sorted(mine.items(), key=lambda kv: (kv[1][0].position, kv[0])):
        at: dt.datetime | None
        kind: str | None
        at, kind = last.get(seat_id, (None, None))
        if at is not None and at < horizon:
            at, kind = None, None
        out.append(AgentLine(seat_id, seat.title, agent, kind, at))
    # The quietest agents first: an agent that stopped is what a person should notice.
    out.sort(key=lambda a: (a.last_at is not None, a.last_at or dt.datetime.min.replace(tzinfo=dt.UTC)))
    return out


def _messages_sent(session: Session, seat_ids: Select[str]) -> Activity:
    try:
        from otp_bot.store.models import Message
    except ImportError:
        return []
    return session.execute(
        select(Message.from_seat_id, func.max(Message.created_at))
        .where(Message.from_seat_id.in_(seat_ids))
        .group_by(Message.from_seat_id)
    )
