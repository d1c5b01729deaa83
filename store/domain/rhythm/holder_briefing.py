"""What one holder (or an operator) should look at now: their seats' drafts waiting or held,
the flags in force, requests past their deadline, unread messages, metrics off track, the
org's operating rules that name their seats, and from the weekly review their open to-dos
and this quarter's rocks.

Today this is what an agent reads with `get_briefing`; the daily briefing adds to it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents.inboxes import overdue_requests
from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.chart.rules import all_rules
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.gate.flags import active_flags
from otp_bot.store.domain.gate.learnings import Learnings, learnings_of_seats
from otp_bot.store.domain.gate.queries import waiting_for
from otp_bot.store.domain.review.quarters import quarter_of
from otp_bot.store.domain.review.rocks import list_rocks
from otp_bot.store.domain.review.todos import list_todos
from otp_bot.store.domain.scorecard.metrics import MetricRow, current_rows
from otp_bot.store.models import CHANGES_REQUESTED, Draft, Flag, Message, Metric, Rock, Rule, Seat, Todo

LISTED = 50  # of each kind; an operator's briefing covers the whole org


@dataclass
class Briefing:
    now: dt.datetime
    seats: list[Seat]  # the seats it covers: those held, or every seat for an operator
    pending: list[Draft]  # their drafts waiting for a decision, oldest first
    held: list[Draft]  # their drafts held by a policy
    changes_requested: list[Draft]  # their drafts an approver asked to change: a revision answers
    to_decide: list[Draft]  # drafts waiting for this person's decision
    flags: list[Flag]  # every flag in force: policies hold drafts by any seat's flags
    overdue: list[Message]  # requests past their deadline, to or from their seats
    unread: dict[str, int]  # seat id -> unread messages
    off_track: list[MetricRow]  # their seats' metrics whose latest value misses its goal
    rules: list[Rule]  # the org's operating rules that name their seats: how the org expects them to work
    # What people told the seats it holds at the gate lately (rejection reasons, edits as diffs);
    # an operator's briefing covers every seat and leaves them out (`GET /seats/{seat}/learnings`).
    learnings: list[Learnings]
    today: dt.date  # in the org's timezone: a to-do due before it is overdue
    todos: list[Todo]  # their seats' open to-dos, soonest due first (the overdue ones lead)
    rocks: list[Rock]  # their seats' rocks of this quarter, with the track people stand behind


def briefing_for(session: Session, actor: Actor, now: dt.datetime | None = None) -> Briefing:
    now = now or utcnow()
    query = select(Seat).where(Seat.status != "retired").order_by(Seat.position, Seat.id)
    if not actor.operator:
        query = query.where(Seat.holder_id == (actor.holder_id or ""))
    seats = list(session.scalars(query).unique())
    ids = {s.id for s in seats}

    def drafts(status: str) -> list[Draft]:
        return (
            list(
                session.scalars(
                    select(Draft).where(Draft.status == status, Draft.seat_id.in_(ids)).order_by(Draft.id).limit(LISTED)
                ).unique()
            )
            if ids
            else []
        )

    unread = (
        dict(
            session.execute(
                select(Message.to_seat_id, func.count())
                .where(Message.status == "unread", Message.to_seat_id.in_(ids))
                .group_by(Message.to_seat_id)
            ).all()
        )
        if ids
        else {}
    )
    metrics = list(session.scalars(select(Metric).where(Metric.seat_id.in_(ids)))) if ids else []
    today = as_utc(now).astimezone(ZoneInfo(get_org(session).timezone)).date()
    return Briefing(
        now=now,
        seats=seats,
        pending=drafts("pending"),
        held=drafts("held"),
        changes_requested=drafts(CHANGES_REQUESTED),
        to_decide=waiting_for(session, actor, limit=LISTED),
        flags=active_flags(session, now=now)[: LISTED * 4],
        overdue=overdue_requests(session, now, None if actor.operator else ids, limit=LISTED),
        unread={s.id: unread.get(s.id, 0) for s in seats},
        off_track=[r for r in current_rows(session, metrics) if r.off_track] if metrics else [],
        rules=[r for r in all_rules(session) if ids & set(r.seats)][:LISTED],
        learnings=[] if actor.operator else learnings_of_seats(session, [s.id for s in seats], now),
        today=today,
        todos=[t for t in list_todos(session) if t.seat_id in ids][:LISTED],
        rocks=[r for r in list_rocks(session, quarter=quarter_of(today)) if r.seat_id in ids][:LISTED],
    )
