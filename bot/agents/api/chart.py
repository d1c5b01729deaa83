"""Reading the chart: every token may (seats, holders, who owns what, one seat)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from otp_bot.bot.agents.api import pages, schemas, views
from otp_bot.bot.agents.api.auth import Caller, Db
from otp_bot.bot.agents.api.problems import responses
from otp_bot.store.domain.chart.reading import get_org, get_seat, seat_order
from otp_bot.store.domain.errors import Conflict
from otp_bot.store.models import Holder, Seat

router = APIRouter(tags=["chart"], responses=responses(401))


@router.get("/chart", response_model=schemas.ChartPage, responses=responses(409, 422))
def chart(_actor: Caller, db: Db, limit: pages.Limit = 100, cursor: pages.Cursor = None) -> schemas.ChartPage:
    """The org and its seats (with holders and reporting lines), depth first in chart order."""
    with db.session(readonly=True) as session:
        org = get_org(session)
        order = seat_order(session)
        after = pages.decode("chart", cursor, pages.is_pair)
        start = 0
        if after is not None:
            # The cursor carries the chart's version: a page of a chart that changed since
            # the first page could skip or repeat seats, so it is refused instead.
            if after[0] != org.etag or after[1] not in order:
                raise Conflict("the chart changed since the first page", hint="start again without a cursor")
            start = order.index(after[1]) + 1
        ids = order[start : start + limit]
        by_id = {s.id: s for s in session.scalars(select(Seat).where(Seat.id.in_(ids)))} if ids else {}
        more = start + limit < len(order)
        return schemas.ChartPage(
            org=schemas.Org(name=org.name, timezone=org.timezone, revision=org.revision),
            seats=[views.seat(by_id[i]) for i in ids],
            next_cursor=pages.encode("chart", [org.etag, ids[-1]]) if more and ids else None,
        )


@router.get("/seats/{seat_id}", response_model=schemas.SeatDetail, responses=responses(404))
def seat(seat_id: str, _actor: Caller, db: Db) -> schemas.SeatDetail:
    """One seat: holder, accountable human, reporting line, what it owns, its metrics and their status."""
    with db.session(readonly=True) as session:
        return views.seat_detail(session, get_seat(session, seat_id))


@router.get("/holders", response_model=schemas.HoldersPage, responses=responses(422))
def holders(_actor: Caller, db: Db, limit: pages.Limit = 100, cursor: pages.Cursor = None) -> schemas.HoldersPage:
    """People and agents on the chart, by id, with the seats each holds."""
    with db.session(readonly=True) as session:
        after = pages.decode("holders", cursor, pages.is_text)
        query = select(Holder).order_by(Holder.id).limit(limit + 1)
        if after is not None:
            query = query.where(Holder.id > after)
        rows = list(session.scalars(query))
        page, more = rows[:limit], len(rows) > limit
        held: dict[str, list[str]] = {}
        ids = [h.id for h in page]
        for seat_id, holder_id in (
            session.execute(
                select(Seat.id, Seat.holder_id).where(Seat.holder_id.in_(ids)).order_by(Seat.position, Seat.id)
            )
            if ids
            else []
        ):
            if holder_id is not None:  # always, as the query asks; this tells the type checker
                held.setdefault(holder_id, []).append(seat_id)
        return schemas.HoldersPage(
            holders=[
                schemas.Holder(id=h.id, name=h.name, kind=h.kind, supervisor=h.supervisor_id, seats=held.get(h.id, []))
                for h in page
            ],
            next_cursor=pages.encode("holders", page[-1].id) if more else None,
        )


@router.get("/who-owns", response_model=schemas.WhoOwns, responses=responses(422))
def owner(
    _actor: Caller,
    db: Db,
    q: Annotated[str, Query(min_length=1, max_length=200, description="A topic: `retention`, `invoices`, ...")],
) -> schemas.WhoOwns:
    """The seat that owns a topic (typos, case and plurals tolerated); when unsure, the closest three."""
    with db.session(readonly=True) as session:
        return views.who_owns_answer(session, q)


@router.get("/me", response_model=schemas.Me)
def me(actor: Caller, db: Db) -> schemas.Me:
    """Who this token acts as: its holder, the seats it acts for, the seats granted for pushes."""
    with db.session(readonly=True) as session:
        holder = session.get(Holder, actor.holder_id) if actor.holder_id else None
        return schemas.Me(
            holder=views.holder_ref(holder),
            admin=actor.operator,
            seats=sorted(actor.held_seat_ids(session)),
            push_seats=sorted(actor.push_seats),
        )
