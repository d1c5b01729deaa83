"""What one person needs at a glance: their seats, their numbers, the org's off-track count."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.metrics import MetricRow, current_rows
from otp_bot.store.models import Metric, Org, Seat


@dataclass
class Overview:
    org: Org | None
    actor: Actor
    seats: list[Seat]
    rows: dict[str, list[MetricRow]]  # seat id -> its metric rows this period
    off_track: int
    metrics: int


def overview_for(session: Session, actor: Actor) -> Overview:
    org = session.get(Org, 1)
    if org is None:
        return Overview(None, actor, [], {}, 0, 0)
    seats = []
    if actor.holder_id:
        seats = list(session.scalars(select(Seat).where(Seat.holder_id == actor.holder_id).order_by(Seat.position)).unique())
    all_metrics = list(session.scalars(select(Metric).join(Seat).where(Seat.status != "retired")))
    rows = current_rows(session, all_metrics)
    mine: dict[str, list[MetricRow]] = {s.id: [] for s in seats}
    for r in rows:
        if r.metric.seat_id in mine:
            mine[r.metric.seat_id].append(r)
    return Overview(org, actor, seats, mine, sum(1 for r in rows if r.off_track), len(rows))
