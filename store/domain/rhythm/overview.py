"""What one person needs at a glance: their seats, their numbers, the org's off-track count,
the drafts waiting for their decision."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.gate.batch import Queue, queue
from otp_bot.store.domain.gate.ledger import SeatLedger, agent_seat_ledgers, window_of
from otp_bot.store.domain.rhythm.review_items import ReviewItems, review_items
from otp_bot.store.domain.scorecard.metrics import MetricRow, current_rows
from otp_bot.store.models import Holder, Metric, Org, Seat


@dataclass
class Overview:
    org: Org | None
    actor: Actor
    seats: list[Seat]
    rows: dict[str, list[MetricRow]]  # seat id -> its metric rows this period
    off_track: int
    metrics: int
    queue: Queue = field(default_factory=lambda: Queue([], False))  # drafts waiting for this person, grouped
    now: dt.datetime = field(default_factory=utcnow)  # when it was read: ages are counted from here
    ledgers: list[SeatLedger] = field(default_factory=list)  # agent seats this person holds or answers for
    review: ReviewItems | None = None  # their to-dos and rocks (rhythm/review_items.py)


def overview_for(session: Session, actor: Actor, groups: frozenset[str] = frozenset()) -> Overview:
    org = session.get(Org, 1)
    if org is None:
        return Overview(None, actor, [], {}, 0, 0)
    seats = []
    if actor.holder_id:
        seats = list(
            session.scalars(select(Seat).where(Seat.holder_id == actor.holder_id).order_by(Seat.position)).unique()
        )
    all_metrics = list(session.scalars(select(Metric).join(Seat).where(Seat.status != "retired")))
    rows = current_rows(session, all_metrics)
    mine: dict[str, list[MetricRow]] = {s.id: [] for s in seats}
    for r in rows:
        if r.metric.seat_id in mine:
            mine[r.metric.seat_id].append(r)
    now = utcnow()
    return Overview(
        org,
        actor,
        seats,
        mine,
        sum(1 for r in rows if r.off_track),
        len(rows),
        queue(session, actor, groups),
        now,
        _ledgers(session, actor, now),
        review_items(session, actor) if actor.holder_id else None,
    )


def _ledgers(session: Session, actor: Actor, now: dt.datetime) -> list[SeatLedger]:
    """The trust ledgers of the agent seats this person holds or is the accountable human of."""
    if not actor.holder_id:
        return []
    ids = session.scalars(
        select(Seat.id)
        .join(Holder, Holder.id == Seat.holder_id)
        .where(Holder.kind == "agent", (Holder.id == actor.holder_id) | (Holder.supervisor_id == actor.holder_id))
    ).all()
    return agent_seat_ledgers(session, *window_of(None, now), ids) if ids else []
