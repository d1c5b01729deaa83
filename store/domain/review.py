"""The weekly scorecard review: every seat's metrics over 13 weeks, off-track rows first,
and follow-ups opened on the misses (one per metric and period, from one click).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit, periods
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart import accountable_human, get_metric, get_org, seat_order
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.daily_briefing import owner_text
from otp_bot.store.domain.errors import Forbidden, Invalid
from otp_bot.store.domain.metrics import DEFAULT_WEEKS, MetricRow, current_rows, metric_rows
from otp_bot.store.models import FollowUp, Holder, Seat


@dataclass
class ReviewRow:
    row: MetricRow
    seat: Seat
    owner: str
    follow_up: FollowUp | None = None  # opened on this row's latest miss

    @property
    def off_track(self) -> bool:
        return self.row.off_track

    def by_week(self, weeks: list[dt.date]) -> list[bool | None]:
        """On track (True), off (False) or no value (None) for each week; a monthly metric's
        weeks take their month's mark."""
        cells = {c.period: c.on_track for c in self.row.cells}
        cadence = self.row.metric.cadence
        return [cells.get(periods.period_start(week, cadence)) for week in weeks]

    @property
    def miss(self) -> float:
        """How far the latest value is from the goal, relative to the goal's size."""
        latest = self.row.latest
        if latest is None or not self.off_track:
            return 0.0
        goal = self.row.goal
        return goal.distance(latest.value) / max(abs(goal.value), abs(goal.high or 0.0), 1e-9)


@dataclass
class Review:
    org: str
    timezone: str
    today: dt.date
    weeks: list[dt.date]  # the Mondays of the window, oldest first
    rows: list[ReviewRow]  # off track first (furthest from the goal first), then in chart order
    seats: list[Seat]  # seats with metrics, in chart order

    @property
    def off_track(self) -> list[ReviewRow]:
        return [r for r in self.rows if r.off_track]

    @property
    def first(self) -> str:
        return periods.label(self.weeks[0], "weekly")

    @property
    def last(self) -> str:
        return periods.label(self.weeks[-1], "weekly")


def weekly_review(session: Session, today: dt.date | None = None, weeks: int = DEFAULT_WEEKS) -> Review:
    org = get_org(session)
    today = today or periods.today(org.timezone)
    order = {sid: i for i, sid in enumerate(seat_order(session))}
    seats = sorted(session.scalars(select(Seat).where(Seat.status != "retired")).unique(),
                   key=lambda s: order.get(s.id, len(order)))
    seats = [s for s in seats if s.metrics]
    by_id = {s.id: s for s in seats}
    rows = metric_rows(session, [m for s in seats for m in s.metrics], weeks=weeks, today=today)
    follow = follow_ups_for(session, [(r.metric.id, r.latest.period) for r in rows if r.off_track])
    review_rows = [ReviewRow(r, by_id[r.metric.seat_id], owner_text(by_id[r.metric.seat_id]),
                             follow.get((r.metric.id, r.latest.period)) if r.off_track else None) for r in rows]
    missed = sorted((r for r in review_rows if r.off_track), key=lambda r: -r.miss)
    return Review(org.name, org.timezone, today, periods.window(today, "weekly", weeks),
                  missed + [r for r in review_rows if not r.off_track], seats)


# ---------------------------------------------------------------- follow-ups

def follow_ups_for(session: Session, keys: list[tuple[str, dt.date]]) -> dict[tuple[str, dt.date], FollowUp]:
    ids = sorted({m for m, _ in keys})
    wanted = set(keys)
    found: dict[tuple[str, dt.date], FollowUp] = {}
    for chunk in range(0, len(ids), 500):
        for f in session.scalars(select(FollowUp).where(FollowUp.metric_id.in_(ids[chunk:chunk + 500]))):
            if (f.metric_id, f.period) in wanted:
                found[(f.metric_id, f.period)] = f
    return found


@dataclass
class Opened:
    follow_up: FollowUp
    created: bool  # False: someone had opened it already (a double click, or two people at once)


def open_follow_up(session: Session, actor: Actor, metric_id: str, *, run_id: int | None = None,
                   now: dt.datetime | None = None) -> Opened:
    """Turn a metric's latest miss into a follow-up, owned by the human accountable for its seat."""
    if not actor.operator and actor.holder_id is None:
        raise Forbidden("only people on the chart open follow-ups",
                        hint="ask an operator to add your Slack user to the chart file")
    now = now or utcnow()
    metric = get_metric(session, metric_id)
    row = current_rows(session, [metric])[0]
    latest = row.latest
    if latest is None or not row.off_track:
        shown = row.show(latest.value) if latest else "no value yet"
        raise Invalid(f"`{metric.id}` is not off track now ({shown}, goal {row.goal.describe(metric.unit)}); "
                      "no follow-up is needed")
    owner = accountable_human(metric.seat.holder)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    new_id = session.scalar(dialect.insert(FollowUp).values(
        metric_id=metric.id, seat_id=metric.seat_id, period=latest.period, value=latest.value,
        goal=row.goal.describe(metric.unit), owner_id=owner.id if owner else None, run_id=run_id,
        created_by=actor.audit_name, created_at=now,
    ).on_conflict_do_nothing(index_elements=["metric_id", "period"]).returning(FollowUp.id))
    if new_id is None:
        existing = session.scalar(select(FollowUp).where(FollowUp.metric_id == metric.id,
                                                         FollowUp.period == latest.period))
        return Opened(existing, False)
    audit.record(session, actor.audit_name, "followup.opened", f"metric:{metric.id}", follow_up=new_id,
                 period=latest.period.isoformat(), value=latest.value, owner=owner.id if owner else None)
    return Opened(session.get(FollowUp, new_id), True)


def opener_name(session: Session, follow_up: FollowUp) -> str:
    kind, _, name = follow_up.created_by.partition(":")
    if kind == "holder":
        holder = session.get(Holder, name)
        return holder.name if holder else name
    return "an operator"
