"""What the weekly review asks of one person, for their App Home: the open to-dos of the
seats they answer for, soonest due first, and those seats' rocks of the quarter.

A person answers here for the seats they hold and for the seats of the agents they
supervise (an agent's to-dos and rocks wait on its human as much as on it). Whether a
button is offered is the domain's answer for that item (`todos.may_report`,
`rights.may_manage`); a click is judged again when it comes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import seat_order
from otp_bot.store.domain.review import rights, todos
from otp_bot.store.domain.review.quarters import quarter_of
from otp_bot.store.models import Holder, Rock, Seat, Todo

MAX_TODOS = 10  # the Home holds 100 blocks; `/otp todos` lists the rest
MAX_ROCKS = 10


@dataclass
class TodoItem:
    id: int
    text: str
    seat_id: str
    seat: str
    due: dt.date
    days_late: int  # 0 when not overdue
    may_complete: bool


@dataclass
class RockItem:
    id: int
    title: str
    seat_id: str
    seat: str
    due: dt.date
    track: str  # on, off
    proposed: str | None  # an agent's proposed track, awaiting its accountable human
    may_confirm: bool  # this person answers the proposal


@dataclass
class ReviewItems:
    quarter: str
    today: dt.date
    todos: list[TodoItem] = field(default_factory=list)
    todo_count: int = 0  # open to-dos in all, beyond the ones listed
    rocks: list[RockItem] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.todos or self.rocks)


def answered_seats(session: Session, actor: Actor) -> list[Seat]:
    """The seats this person holds and those of the agents they supervise, in chart order."""
    if actor.holder_id is None:
        return []
    agents = select(Holder.id).where(Holder.kind == "agent", Holder.supervisor_id == actor.holder_id)
    seats = {
        s.id: s
        for s in session.scalars(
            select(Seat).where(
                Seat.status != "retired", (Seat.holder_id == actor.holder_id) | Seat.holder_id.in_(agents)
            )
        ).unique()
    }
    order = [sid for sid in seat_order(session) if sid in seats] if seats else []
    return [seats[sid] for sid in order]


def review_items(session: Session, actor: Actor, today: dt.date | None = None) -> ReviewItems:
    today = today or todos.org_today(session)
    quarter = quarter_of(today)
    seats = {s.id: s for s in answered_seats(session, actor)}
    items = ReviewItems(quarter, today)
    if not seats:
        return items
    open_todos = list(
        session.scalars(
            select(Todo).where(Todo.status == "open", Todo.seat_id.in_(sorted(seats))).order_by(Todo.due, Todo.id)
        )
    )
    items.todo_count = len(open_todos)
    reports = {sid: todos.may_report(session, actor, seat) for sid, seat in seats.items()}
    manages = {
        sid: not rights.is_agent(session, actor) and rights.may_manage(session, actor, s) for sid, s in seats.items()
    }
    items.todos = [
        TodoItem(
            t.id, t.text, t.seat_id, seats[t.seat_id].title, t.due, max(0, (today - t.due).days), reports[t.seat_id]
        )
        for t in open_todos[:MAX_TODOS]
    ]
    order = {sid: n for n, sid in enumerate(seats)}
    rocks = session.scalars(
        select(Rock).where(Rock.quarter == quarter, Rock.status == "open", Rock.seat_id.in_(sorted(seats)))
    )
    items.rocks = [
        RockItem(r.id, r.title, r.seat_id, seats[r.seat_id].title, r.due, r.track, r.proposed_track, manages[r.seat_id])
        for r in sorted(rocks, key=lambda r: (order[r.seat_id], r.due, r.id))[:MAX_ROCKS]
    ]
    return items
