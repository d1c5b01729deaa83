"""What the trust ledger warns about in the daily briefing.

- **Rubber stamp**: an approver who, over the last `STAMP_WINDOW`, decided at least
  `STAMP_MIN_DECISIONS` drafts, approved at least `STAMP_UNEDITED_PERCENT`% of them without an
  edit, and took a median of less than `STAMP_FAST_SECONDS` from the approval message being
  posted (the draft's `queued_at`) to their decision. A gate passed in seconds is no gate.
- **Rising rejections**: a seat whose rejection rate over the last `RISING_RECENT` is at
  least `RISING_POINTS` percentage points above its rate over the `RISING_BEFORE` before
  that, with at least `RISING_MIN_DECIDED` decided drafts in each span (by decision time).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.models import Draft, DraftDecision, Holder, Seat

STAMP_WINDOW = dt.timedelta(days=30)
STAMP_MIN_DECISIONS = 10
STAMP_UNEDITED_PERCENT = 95
STAMP_FAST_SECONDS = 15.0
RISING_RECENT = dt.timedelta(days=7)
RISING_BEFORE = dt.timedelta(days=30)
RISING_MIN_DECIDED = 5
RISING_POINTS = 20  # percentage points


@dataclass(frozen=True)
class RubberStamp:
    holder_id: str
    approver: str
    decisions: int
    unedited: int  # approvals without an edit
    median_seconds: float  # from the approval message to the decision

    @property
    def unedited_share(self) -> float:
        return self.unedited / self.decisions


@dataclass(frozen=True)
class RisingRejections:
    seat_id: str
    seat: str
    recent_rejected: int
    recent_decided: int
    before_rejected: int
    before_decided: int

    @property
    def recent_rate(self) -> float:
        return self.recent_rejected / self.recent_decided

    @property
    def before_rate(self) -> float:
        return self.before_rejected / self.before_decided


@dataclass(frozen=True)
class GateWarnings:
    stamps: list[RubberStamp]
    rising: list[RisingRejections]

    def __bool__(self) -> bool:
        return bool(self.stamps or self.rising)


def rubber_stamps(session: Session, now: dt.datetime | None = None) -> list[RubberStamp]:
    """Approvers deciding (nearly) everything unedited in seconds; the fastest first."""
    now = now or utcnow()
    since = now - STAMP_WINDOW
    in_window = (DraftDecision.at >= since, DraftDecision.at <= now)
    unedited = case(((DraftDecision.verdict == "approve") & DraftDecision.edited_body.is_(None), 1), else_=0)
    # Counted by the database; only the busy approvers' decision times are read.
    busy = {
        holder_id: (int(n), int(u or 0))
        for holder_id, n, u in session.execute(
            select(DraftDecision.holder_id, func.count(), func.sum(unedited))
            .where(*in_window)
            .group_by(DraftDecision.holder_id)
            .having(func.count() >= STAMP_MIN_DECISIONS)
        )
        if 100 * int(u or 0) >= STAMP_UNEDITED_PERCENT * int(n)  # in integers: 19 of 20 is 95%
    }
    if not busy:
        return []
    waits: dict[str, list[float]] = defaultdict(list)
    for holder_id, at, queued in session.execute(
        select(DraftDecision.holder_id, DraftDecision.at, Draft.queued_at)
        .join(Draft, Draft.id == DraftDecision.draft_id)
        .where(*in_window, DraftDecision.holder_id.in_(sorted(busy)), Draft.queued_at.is_not(None))
    ):
        waits[holder_id].append(max(0.0, (as_utc(at) - as_utc(queued or at)).total_seconds()))
    names = dict(session.execute(select(Holder.id, Holder.name).where(Holder.id.in_(sorted(busy)))).all())
    out = []
    for holder_id, (n, u) in busy.items():
        median = statistics.median(waits[holder_id]) if waits[holder_id] else None
        if median is not None and median < STAMP_FAST_SECONDS:
            out.append(RubberStamp(holder_id, names.get(holder_id, holder_id), n, u, float(median)))
    return sorted(out, key=lambda s: (s.median_seconds, s.holder_id))


def rising_rejections(session: Session, now: dt.datetime | None = None) -> list[RisingRejections]:
    """Seats whose drafts are rejected more often lately; the steepest rise first."""
    now = now or utcnow()
    split = now - RISING_RECENT
    start = split - RISING_BEFORE
    recent = Draft.decided_at >= split
    rejected = Draft.status == "rejected"
    rows = session.execute(
        select(
            Draft.seat_id,
            func.sum(case((recent, 1), else_=0)),
            func.sum(case((recent & rejected, 1), else_=0)),
            func.sum(case((~recent, 1), else_=0)),
            func.sum(case((~recent & rejected, 1), else_=0)),
        )
        .where(Draft.status.in_(("approved", "rejected")), Draft.decided_at >= start, Draft.decided_at <= now)
        .group_by(Draft.seat_id)
    )
    found = []
    for seat_id, rd, rr, bd, br in rows:
        rd, rr, bd, br = int(rd or 0), int(rr or 0), int(bd or 0), int(br or 0)
        if rd < RISING_MIN_DECIDED or bd < RISING_MIN_DECIDED:
            continue
        # rr/rd - br/bd >= points/100, in integers: 3/5 - 2/5 is exactly 20 points, not 19.999…
        if 100 * (rr * bd - br * rd) >= RISING_POINTS * rd * bd:
            found.append((seat_id, rr, rd, br, bd))
    if not found:
        return []
    titles = dict(session.execute(select(Seat.id, Seat.title).where(Seat.id.in_([f[0] for f in found]))).all())
    out = [RisingRejections(sid, titles.get(sid, sid), rr, rd, br, bd) for sid, rr, rd, br, bd in found]
    return sorted(out, key=lambda r: (-(r.recent_rate - r.before_rate), r.seat_id))


def gate_warnings(session: Session, now: dt.datetime | None = None) -> GateWarnings:
    return GateWarnings(rubber_stamps(session, now), rising_rejections(session, now))
