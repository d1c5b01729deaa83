"""The weekly scorecard review: every seat's metrics over 13 weeks, off-track rows first,
and the issues raised on the misses (one per metric and period, store/domain/review/metric_issues.py).

Two passes, because a post shows only so much: the status of every metric (its last few
periods: is it off track, how far) decides the order and the counts; the 13 weeks are read
for the rows a post can show, the furthest misses and the first seats in chart order. A
chart of a dozen seats is shown whole.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload, load_only

from otp_bot.store.domain.chart.reading import get_org, seat_order
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.collector import collector_paused
from otp_bot.store.domain.gate.ledger import SeatLedger, agent_seat_ledgers
from otp_bot.store.domain.review import completion
from otp_bot.store.domain.review.metric_issues import issues_for
from otp_bot.store.domain.rhythm.seat_facts import owner_text, seat_facts
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.metric_facts import MetricFacts, metric_facts
from otp_bot.store.domain.scorecard.metrics import DEFAULT_WEEKS, MetricRow, current_rows, metric_rows
from otp_bot.store.models import Holder, Issue, Seat

DETAIL_SEATS = 120  # more seats than a post's thread holds (commands/views/scorecard_post.py)
DETAIL_MISSES = 40  # the off-track rows of the chart image and the post's buttons
GATE_DAYS = 7  # the post's gate lines: each agent seat's drafts of the last week


def miss_of(row: MetricRow) -> float:
    """How far the latest value is from the goal, relative to the goal's size (0: not off track)."""
    latest = row.latest
    if latest is None or latest.on_track is not False or latest.value is None:
        return 0.0
    goal = row.goal
    return goal.distance(latest.value) / max(abs(goal.value), abs(goal.high or 0.0), 1e-9)


@dataclass
class ReviewRow:
    row: MetricRow  # the weeks of the window
    seat: Seat
    owner: str
    off_track: bool  # by its latest value in the status periods
    miss: float  # how far off, relative to the goal
    issue: Issue | None = None  # raised on this row's latest miss

    def by_week(self, weeks: list[dt.date]) -> list[bool | None]:
        """On track (True), off (False) or no value (None) for each week; a monthly metric's
        weeks take their month's mark."""
        cells = {c.period: c.on_track for c in self.row.cells}
        cadence = self.row.metric.cadence
        return [cells.get(periods.period_start(week, cadence)) for week in weeks]


@dataclass
class Review:
    org: str
    timezone: str
    today: dt.date
    weeks: list[dt.date]  # the Mondays of the window, oldest first
    rows: list[ReviewRow]  # the rows shown: off track first (furthest first), then in chart order
    seats: list[Seat]  # the seats whose tables are shown, in chart order
    metrics: int  # every metric judged
    off_track_count: int  # every metric off track
    seat_count: int  # every seat with metrics
    gate: list[SeatLedger] = field(default_factory=list)  # agent seats' trust ledgers over GATE_DAYS, chart order
    gate_holders: dict[str, str] = field(default_factory=dict)  # seat id -> its holder's name, for the gate lines

    @property
    def off_track(self) -> list[ReviewRow]:
        return [r for r in self.rows if r.off_track]

    @property
    def first(self) -> str:
        return periods.label(self.weeks[0], "weekly")

    @property
    def last(self) -> str:
        return periods.label(self.weeks[-1], "weekly")


def weekly_review(
    session: Session,
    today: dt.date | None = None,
    weeks: int = DEFAULT_WEEKS,
    *,
    detail_seats: int = DETAIL_SEATS,
    detail_misses: int = DETAIL_MISSES,
) -> Review:
    with collector_paused():
        return _review(session, today, weeks, detail_seats, detail_misses)


def _review(session: Session, today: dt.date | None, weeks: int, detail_seats: int, detail_misses: int) -> Review:
    org = get_org(session)
    today = today or periods.today(org.timezone)
    order = {sid: i for i, sid in enumerate(seat_order(session))}
    # Metrics from plain columns, seats without their word lists: an org-wide read.
    metrics: dict[str, list[MetricFacts]] = {}
    # With each checked seat's to-do completion row (review/completion.py), after its metrics.
    for m in completion.with_completion(session, metric_facts(session)):
        metrics.setdefault(m.seat_id, []).append(m)
    # Seats with metrics, in chart order (every seat is in `order`: the tree reaches them all).
    ranked = sorted(metrics, key=lambda sid: order.get(sid, len(order)))
    in_order = [m for sid in ranked for m in metrics[sid]]

    status = {r.metric.id: r for r in current_rows(session, in_order, today=today, org_wide=True)}
    misses = sorted((r for r in status.values() if r.off_track), key=lambda r: -miss_of(r))
    shown = ranked[:detail_seats]
    wanted = {r.metric.id for r in misses[:detail_misses]} | {m.id for sid in shown for m in metrics[sid]}
    # Seats as rows only for what is shown (their tables, and the misses' seats): the post's
    # views read them; thousands more would be loaded for nothing.
    by_id = {
        seat.id: seat
        for seat in session.scalars(
            select(Seat)
            .where(Seat.id.in_(sorted({*shown, *(m.seat_id for m in in_order if m.id in wanted)})))
            .options(
                load_only(Seat.id, Seat.title, Seat.holder_id, Seat.status, Seat.position),
                lazyload(Seat.owns),
                lazyload(Seat.metrics),
            )
        ).unique()
    }
    # Who answers for each seat, kept per chart version: an agent's supervisor is not loaded
    # with the seats shown.
    owners = {f.id: f.owner for f in seat_facts(session)}
    detail = metric_rows(session, [m for m in in_order if m.id in wanted], weeks=weeks, today=today)
    raised = issues_for(
        session, [(r.metric.id, r.latest.period) for r in misses if r.metric.id in wanted and r.latest is not None]
    )

    def review_row(r: MetricRow) -> ReviewRow:
        now = status[r.metric.id]
        seat = by_id[r.metric.seat_id]
        return ReviewRow(
            r,
            seat,
            owners.get(seat.id) or owner_text(seat),
            now.off_track,
            miss_of(now),
            raised.get((r.metric.id, now.latest.period)) if now.off_track and now.latest is not None else None,
        )

    rows = [review_row(r) for r in detail]
    shown_misses = sorted((r for r in rows if r.off_track), key=lambda r: -r.miss)
    until = utcnow()
    gate = agent_seat_ledgers(session, until - dt.timedelta(days=GATE_DAYS), until)
    holders = dict(
        session.execute(
            select(Seat.id, Holder.name)
            .join(Holder, Holder.id == Seat.holder_id)
            .where(Seat.id.in_([g.seat_id for g in gate]))
        ).all()
    )
    return Review(
        org.name,
        org.timezone,
        today,
        periods.window(today, "weekly", weeks),
        shown_misses + [r for r in rows if not r.off_track],
        [by_id[sid] for sid in shown],
        len(status),
        len(misses),
        len(ranked),
        gate,
        holders,
    )
