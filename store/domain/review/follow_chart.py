"""Review items follow the chart: when a seat is retired (by a hearing or a chart import), its
open issues, to-dos and rocks move to the nearest seat above it that is still on the chart,
in the same transaction, each move in the audit log. Left with a retired seat they would
have nobody to answer for them, and nobody would notice."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.models import Issue, Rock, Seat, Todo


def _heir(session: Session, seat: Seat) -> Seat | None:
    seen = {seat.id}
    above = session.get(Seat, seat.reports_to_id) if seat.reports_to_id else None
    while above is not None and above.id not in seen:
        if above.status != "retired":
            return above
        seen.add(above.id)
        above = session.get(Seat, above.reports_to_id) if above.reports_to_id else None
    return None


def follow_chart(session: Session, actor: str, now: dt.datetime) -> None:
    retired = select(Seat.id).where(Seat.status == "retired")
    items: list[tuple[str, Issue | Todo | Rock]] = [
        *(
            ("issue", i)
            for i in session.scalars(
                select(Issue).where(Issue.status.in_(("open", "discussed")), Issue.seat_id.in_(retired))
            )
        ),
        *(("todo", t) for t in session.scalars(select(Todo).where(Todo.status == "open", Todo.seat_id.in_(retired)))),
        *(("rock", r) for r in session.scalars(select(Rock).where(Rock.status == "open", Rock.seat_id.in_(retired)))),
    ]
    moved: dict[tuple[str, str], list[str]] = {}
    for kind, item in items:
        heir = _heir(session, session.get_one(Seat, item.seat_id))
        if heir is None:
            continue  # a retired seat at the top of the chart: its items stay listed under it
        moved.setdefault((item.seat_id, heir.id), []).append(f"{kind}:{item.id}")
        item.seat_id = heir.id
    for (old, new), names in moved.items():
        audit.record(session, actor, "review.items_moved", f"seat:{old}", to=new, items=names, at=now)
