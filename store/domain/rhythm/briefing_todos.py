"""The briefing's section of to-dos past their due day: who owes them and for how long."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from otp_bot.store.domain.review import todos
from otp_bot.store.domain.rhythm.seat_facts import SeatFacts


@dataclass
class LateTodo:
    id: int
    text: str
    seat_id: str
    seat: str
    owner: str  # the seat's holder, and the accountable human for an agent
    due: dt.date
    days: int  # whole days past the due day


def late_todos(session: Session, today: dt.date, seats: dict[str, SeatFacts]) -> list[LateTodo]:
    """Open to-dos due before `today` (the org's day), the longest overdue first."""
    out = []
    for todo in todos.overdue(session, today):
        seat = seats.get(todo.seat_id)
        # A seat retired since still owes its open to-dos until someone drops or moves them.
        title, owner = (seat.title, seat.owner) if seat else (todo.seat_id, "retired seat")
        out.append(LateTodo(todo.id, todo.text, todo.seat_id, title, owner, todo.due, (today - todo.due).days))
    return out
