"""The briefing's sections about metrics: off track, the furthest from its goal first, and stale (unreported)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from operator import itemgetter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.rhythm.seat_facts import SeatFacts
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.goals import Goal
from otp_bot.store.domain.scorecard.latest import Latest
from otp_bot.store.domain.scorecard.measures import Measure, format_value, measure_of
from otp_bot.store.models import Issue, MetricValue


@dataclass
class OffTrack:
    metric_id: str
    metric: str
    seat_id: str
    seat: str
    owner: str  # the seat's holder, and the accountable human for an agent
    value: str
    goal: str
    distance: str
    period: str  # the period of the value that missed
    relative: float  # distance over the goal's size: what "furthest from the goal" sorts by
    issue: int | None = None  # the open issue raised on this miss


@dataclass
class Stale:
    metric_id: str
    metric: str
    seat_id: str
    seat: str
    owner: str
    last_period: str | None  # None: never reported
    missed: int | None  # whole periods gone by without a value; None: never reported


LISTED = 200  # misses described in full; the briefing shows at most 150 and the API 100


def off_track(
    session: Session, rows: list[Latest], seats: dict[str, SeatFacts], listed: int | None = None
) -> tuple[list[OffTrack], int]:
    """The `listed` misses furthest from their goals, described, and how many there are in all.

    Every miss is ranked, but only the ones anybody is shown are formatted: an org with
    thousands off track spent most of this section writing lines no reader would see."""
    ranked = []
    for r in rows:
        latest = r.latest
        if latest is None or latest.on_track is not False or latest.value is None:
            continue
        goal = r.goal
        size = max(abs(goal.value), abs(goal.high or 0.0), 1e-9)
        ranked.append((-goal.distance(latest.value) / size, r.metric.seat_id, r.metric.id, r))
    ranked.sort(key=itemgetter(0, 1, 2))  # the rows themselves are left out of the key
    shown = ranked[: LISTED if listed is None else listed]
    issues = _open_issues(session, [(r.metric.id, r.latest.period) for *_, r in shown if r.latest is not None])
    labels: dict[tuple[dt.date, str], str] = {}  # the misses share a handful of periods
    goals: dict[tuple[Goal, Measure], str] = {}  # and a few dozen goals
    out = []
    for below, _, _, r in shown:
        m, goal, latest = r.metric, r.goal, r.latest
        assert latest is not None and latest.value is not None  # ranked above only with a value
        value = latest.value
        seat = seats[m.seat_id]
        measure = measure_of(m)
        distance = goal.distance(value)
        key = (latest.period, m.cadence)
        label = labels.get(key) or labels.setdefault(key, periods.label(*key))
        if goal.value and goal.high != 0.0:
            shown_goal = goals.get((goal, measure)) or goals.setdefault((goal, measure), goal.describe(measure))
        else:  # 0.0 and -0.0 are one key, but read `0` and `-0`
            shown_goal = goal.describe(measure)
        out.append(
            OffTrack(
                m.id,
                m.name,
                seat.id,
                seat.title,
                seat.owner,
                format_value(value, measure),
                shown_goal,
                format_value(distance, measure) if m.kind != "yesno" else "missed",
                label,
                -below,  # the distance over the goal's size, as ranked
                issues.get((m.id, latest.period)),
            )
        )
    return out, len(ranked)


def _open_issues(session: Session, keys: list[tuple[str, dt.date]]) -> dict[tuple[str, dt.date], int]:
    if not keys:
        return {}
    # Thousands of misses fall in a handful of periods: one read by period rather than
    # many by metric id (each a round trip on a server).
    wanted = set(keys)
    rows = session.execute(
        select(Issue.id, Issue.metric_id, Issue.period).where(
            Issue.period.in_(sorted({p for _, p in wanted})), Issue.status.in_(("open", "discussed"))
        )
    )
    found: dict[tuple[str, dt.date], int] = {}
    for fid, mid, period in rows:
        if mid is not None and period is not None and (mid, period) in wanted:
            found[(mid, period)] = fid
    return found


def stale_metrics(session: Session, rows: list[Latest], seats: dict[str, SeatFacts], today: dt.date) -> list[Stale]:
    """Metrics of held seats with no value in the current period nor the one before: a
    whole period went by unreported. Formula, gate and review metrics are computed, so never stale."""
    stale = [
        r
        for r in rows
        if r.silent
        and not r.metric.formula
        and not r.metric.gate_figure
        and not r.metric.review_figure
        and seats[r.metric.seat_id].holder_id is not None
    ]
    last = _last_periods(session, [r.metric.id for r in stale])
    out = []
    for r in stale:
        seat, cadence, before = seats[r.metric.seat_id], r.metric.cadence, last.get(r.metric.id)
        out.append(
            Stale(
                r.metric.id,
                r.metric.name,
                seat.id,
                seat.title,
                seat.owner,
                periods.label(before, cadence) if before else None,
                periods.between(before, periods.period_start(today, cadence), cadence) if before else None,
            )
        )
    # The longest silent first; never reported at all after those.
    out.sort(key=lambda s: (s.last_period is None, -(s.missed or 0), s.seat_id, s.metric_id))
    return out


def _last_periods(session: Session, ids: list[str]) -> dict[str, dt.date]:
    found: dict[str, dt.date] = {}
    for chunk in range(0, len(ids), 500):
        found.update(
            session.execute(
                select(MetricValue.metric_id, func.max(MetricValue.period_start))
                .where(MetricValue.metric_id.in_(ids[chunk : chunk + 500]))
                .group_by(MetricValue.metric_id)
            ).all()
        )
    return found
