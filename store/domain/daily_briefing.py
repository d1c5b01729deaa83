"""The daily briefing: what needs a human today, for the whole org, as plain data.

Sections, in the order a person should read them (the most pressing first):

1. drafts waiting for a decision (they expire) and the oldest one's age;
2. drafts held by a policy, and why;
3. requests between seats past their deadline, unanswered;
4. metrics off track, the furthest from their goal first, with owner and distance;
5. stale metrics: no value for the last full period (the pushing agent may have stopped);
6. flags: new since the last briefing, then the others in force;
7. seat changes since the last briefing (chart imports, hires, assignments, retirements);
8. one line per agent seat: its last activity (a value, a draft, a flag or a message).

Sections 1 to 7 are what "needs a human"; when all are empty the day is quiet. The agent
lines are context and always listed. (`store.domain.briefing` is what one holder or agent
reads for their own seats; this is the org's morning post.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, lazyload, load_only

from otp_bot.store.domain import periods
from otp_bot.store.domain.chart import accountable_human, get_org
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.metrics import MetricRow, metric_rows
from otp_bot.store.domain.policies import active_flag_filter
from otp_bot.store.models import AuditEntry, Draft, Flag, FollowUp, Metric, MetricValue, Seat

DEFAULT_SINCE = dt.timedelta(days=1)  # "since the last briefing" when there was none
CHANGE_PREFIXES = ("chart.seat.", "seat.")  # chart imports, and the seat lifecycle (hire, assign, retire)


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
    follow_up: int | None = None  # an open follow-up on this miss


@dataclass
class Stale:
    metric_id: str
    metric: str
    seat_id: str
    seat: str
    owner: str
    last_period: str | None  # None: never reported
    missed: int | None  # whole periods gone by without a value; None: never reported


@dataclass
class Waiting:
    count: int
    oldest_id: int
    oldest_title: str
    oldest_seat: str
    oldest_since: dt.datetime


@dataclass
class Held:
    id: int
    title: str
    seat_id: str
    seat: str
    reason: str
    since: dt.datetime


@dataclass
class FlagItem:
    subject: str
    flag: str
    seat_id: str
    seat: str
    reason: str | None
    set_at: dt.datetime
    until: dt.datetime | None
    new: bool


@dataclass
class Overdue:
    id: int
    from_seat: str
    to_seat: str
    subject: str
    deadline: dt.datetime


@dataclass
class SeatChange:
    at: dt.datetime
    action: str
    subject: str
    text: str
    by: str


@dataclass
class AgentLine:
    seat_id: str
    seat: str
    agent: str
    last: str | None  # value, draft, flag, message; None: nothing seen in the window
    last_at: dt.datetime | None


@dataclass
class DailyBriefing:
    org: str
    timezone: str
    now: dt.datetime
    since: dt.datetime
    metrics: int  # metrics judged
    waiting: Waiting | None = None
    held: list[Held] = field(default_factory=list)
    overdue: list[Overdue] = field(default_factory=list)
    off_track: list[OffTrack] = field(default_factory=list)
    stale: list[Stale] = field(default_factory=list)
    flags: list[FlagItem] = field(default_factory=list)
    changes: list[SeatChange] = field(default_factory=list)
    agents: list[AgentLine] = field(default_factory=list)
    activity_window: dt.timedelta = dt.timedelta(weeks=4)

    @property
    def quiet(self) -> bool:
        return not (self.waiting or self.held or self.overdue or self.off_track or self.stale or self.flags
                    or self.changes)

    @property
    def new_flags(self) -> list[FlagItem]:
        return [f for f in self.flags if f.new]


def owner_text(seat: Seat) -> str:
    holder = seat.holder
    if holder is None:
        return "vacant"
    human = accountable_human(holder)
    if holder.kind == "agent" and human is not None:
        return f"{holder.name} (agent, {human.name} accountable)"
    return holder.name


def daily_briefing(session: Session, now: dt.datetime | None = None,
                   since: dt.datetime | None = None) -> DailyBriefing:
    """Build the briefing as of `now`; `since` is when the last one went out (default: a day ago)."""
    now = now or utcnow()
    since = since or now - DEFAULT_SINCE
    org = get_org(session)
    today = now.astimezone(ZoneInfo(org.timezone)).date()
    # Seats without their owns, metrics and word lists (the metrics are read once, below).
    seats = {s.id: s for s in session.scalars(select(Seat).where(Seat.status != "retired").options(
        load_only(Seat.id, Seat.title, Seat.holder_id, Seat.status, Seat.position),
        lazyload(Seat.owns), lazyload(Seat.metrics))).unique()}
    metrics = metric_facts(session) if seats else []
    # This period and the last: a metric with no value in either is stale, and is listed as such
    # rather than as off track on an older value. (Half the reads of the scorecard's status window.)
    rows = metric_rows(session, metrics, weeks=2, today=today) if metrics else []
    b = DailyBriefing(org.name, org.timezone, now, since, len(rows))
    b.waiting = _waiting(session)
    b.held = _held(session)
    b.overdue = _overdue(session, now)
    b.off_track = _off_track(session, rows, seats)
    b.stale = _stale(session, rows, seats, today)
    b.flags = _flags(session, now, since)
    b.changes = _changes(session, since)
    b.agents = _agents(session, seats, now - b.activity_window)
    return b


# ---------------------------------------------------------------- the sections

@dataclass(frozen=True, slots=True)
class MetricFacts:
    """A metric as the scorecard math reads it, from plain columns: ten thousand of these
    load several times faster than ORM objects, and the briefing needs nothing more."""

    id: str
    seat_id: str
    name: str
    unit: str
    goal_op: str
    goal_value: float
    goal_high: float | None
    cadence: str
    aggregation: str
    formula: str | None
    position: int


def metric_facts(session: Session) -> list[MetricFacts]:
    """Every metric of a seat that is not retired, in chart order within its seat."""
    columns = [getattr(Metric, f) for f in MetricFacts.__slots__]
    rows = session.connection().execute(select(*columns).join(Seat, Seat.id == Metric.seat_id)
                                        .where(Seat.status != "retired").order_by(Metric.seat_id, Metric.position))
    return [MetricFacts(*row) for row in rows]


def _waiting(session: Session) -> Waiting | None:
    count = session.scalar(select(func.count()).select_from(Draft).where(Draft.status == "pending")) or 0
    if not count:
        return None
    oldest = session.scalar(select(Draft).where(Draft.status == "pending").order_by(Draft.queued_at, Draft.id).limit(1))
    return Waiting(count, oldest.id, oldest.title, oldest.seat.title, as_utc(oldest.queued_at or oldest.created_at))


def _held(session: Session) -> list[Held]:
    drafts = session.scalars(select(Draft).where(Draft.status == "held").order_by(Draft.created_at, Draft.id))
    return [Held(d.id, d.title, d.seat_id, d.seat.title, d.hold_reason or "held by a policy", as_utc(d.created_at))
            for d in drafts]


def _overdue(session: Session, now: dt.datetime) -> list[Overdue]:
    try:  # the message bus is newer than the briefing; an older store has no requests to chase
        from otp_bot.store.domain.bus import overdue_requests
    except ImportError:
        return []
    return [Overdue(m.id, m.from_seat.title, m.to_seat.title, m.subject, as_utc(m.deadline))
            for m in overdue_requests(session, now, limit=500)]


def _off_track(session: Session, rows: list[MetricRow], seats: dict[str, Seat]) -> list[OffTrack]:
    missed = [r for r in rows if r.off_track]
    follow_ups = _follow_ups(session, [(r.metric.id, r.latest.period) for r in missed])
    out = []
    for r in missed:
        latest = r.latest
        seat = seats[r.metric.seat_id]
        distance = r.goal.distance(latest.value)
        size = max(abs(r.goal.value), abs(r.goal.high or 0.0), 1e-9)
        out.append(OffTrack(r.metric.id, r.metric.name, seat.id, seat.title, owner_text(seat), r.show(latest.value),
                            r.goal.describe(r.metric.unit), r.show(distance) if r.metric.unit != "yesno" else "missed",
                            periods.label(latest.period, r.metric.cadence), distance / size,
                            follow_ups.get((r.metric.id, latest.period))))
    out.sort(key=lambda o: (-o.relative, o.seat_id, o.metric_id))
    return out


def _follow_ups(session: Session, keys: list[tuple[str, dt.date]]) -> dict[tuple[str, dt.date], int]:
    if not keys:
        return {}
    ids = sorted({m for m, _ in keys})
    found: dict[tuple[str, dt.date], int] = {}
    for chunk in range(0, len(ids), 500):
        for fid, mid, period in session.execute(select(FollowUp.id, FollowUp.metric_id, FollowUp.period).where(
                FollowUp.metric_id.in_(ids[chunk:chunk + 500]))):
            found[(mid, period)] = fid
    return found


def _stale(session: Session, rows: list[MetricRow], seats: dict[str, Seat], today: dt.date) -> list[Stale]:
    """Metrics of held seats with no value in the current period nor the one before: a
    whole period went by unreported. Formula metrics are computed, so never stale."""
    stale = [r for r in rows if not r.metric.formula and seats[r.metric.seat_id].holder_id is not None
             and len(r.cells) >= 2 and r.cells[-1].value is None and r.cells[-2].value is None]
    last = _last_periods(session, [r.metric.id for r in stale])
    out = []
    for r in stale:
        seat, cadence, before = seats[r.metric.seat_id], r.metric.cadence, last.get(r.metric.id)
        out.append(Stale(r.metric.id, r.metric.name, seat.id, seat.title, owner_text(seat),
                         periods.label(before, cadence) if before else None,
                         _periods_between(before, periods.period_start(today, cadence), cadence) if before else None))
    # The longest silent first; never reported at all after those.
    out.sort(key=lambda s: (s.last_period is None, -(s.missed or 0), s.seat_id, s.metric_id))
    return out


def _periods_between(first: dt.date, current: dt.date, cadence: str) -> int:
    """Whole periods after `first` and before `current`: how many went by without a value."""
    if cadence == "weekly":
        return max(0, (current - first).days // 7 - 1)
    return max(0, (current.year - first.year) * 12 + current.month - first.month - 1)


def _last_periods(session: Session, ids: list[str]) -> dict[str, dt.date]:
    found: dict[str, dt.date] = {}
    for chunk in range(0, len(ids), 500):
        found.update(session.execute(select(MetricValue.metric_id, func.max(MetricValue.period_start)).where(
            MetricValue.metric_id.in_(ids[chunk:chunk + 500])).group_by(MetricValue.metric_id)).all())
    return found


def _flags(session: Session, now: dt.datetime, since: dt.datetime) -> list[FlagItem]:
    flags = session.scalars(select(Flag).where(*active_flag_filter(now)).order_by(Flag.set_at.desc(), Flag.id.desc()))
    out = [FlagItem(f.subject, f.flag, f.seat_id, f.seat.title, f.reason, as_utc(f.set_at), as_utc(f.until),
                    as_utc(f.set_at) > since) for f in flags]
    out.sort(key=lambda f: not f.new)  # stable: new ones first, each group newest first
    return out


def _changes(session: Session, since: dt.datetime) -> list[SeatChange]:
    # Prefix ranges rather than LIKE: the action index serves them on both backends.
    ranges = [and_(AuditEntry.action >= p, AuditEntry.action < p[:-1] + "/") for p in CHANGE_PREFIXES]
    # The log keeps whole seconds: an entry in the second the last briefing went out counts.
    entries = session.scalars(select(AuditEntry).where(or_(*ranges), AuditEntry.at >= since.replace(microsecond=0))
                              .order_by(AuditEntry.id))
    return [SeatChange(as_utc(e.at), e.action, e.subject, _describe(e), e.actor) for e in entries]


def _describe(entry: AuditEntry) -> str:
    detail = entry.detail or {}
    for key in ("change", "summary", "text"):
        if isinstance(detail.get(key), str):
            return detail[key]
    what = entry.action.removeprefix("chart.").replace(".", " ")
    extra = ", ".join(f"{k} {v}" for k, v in detail.items() if k in ("holder", "to", "from", "decision", "reason")
                      and v not in (None, ""))
    return f"{what}: {entry.subject}" + (f" ({extra})" if extra else "")


def _agents(session: Session, seats: dict[str, Seat], horizon: dt.datetime) -> list[AgentLine]:
    mine = {sid: s for sid, s in seats.items() if s.holder is not None and s.holder.kind == "agent"}
    if not mine:
        return []
    ids = list(mine)
    last: dict[str, tuple[dt.datetime, str]] = {}

    def note(kind: str, rows) -> None:
        for seat_id, at in rows:
            at = as_utc(at)
            if at is not None and (seat_id not in last or at > last[seat_id][0]):
                last[seat_id] = (at, kind)

    # Values: looked for in the recent periods only, through the (metric, period) index.
    horizon_day = horizon.date() - dt.timedelta(days=31)
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        note("value", session.execute(
            select(Metric.seat_id, func.max(MetricValue.recorded_at)).join(Metric, Metric.id == MetricValue.metric_id)
            .where(Metric.seat_id.in_(part), MetricValue.period_start >= horizon_day).group_by(Metric.seat_id)))
        note("draft", session.execute(select(Draft.seat_id, func.max(Draft.created_at))
                                      .where(Draft.seat_id.in_(part)).group_by(Draft.seat_id)))
        note("flag", session.execute(select(Flag.seat_id, func.max(Flag.set_at))
                                     .where(Flag.seat_id.in_(part)).group_by(Flag.seat_id)))
        note("message", _messages_sent(session, part))
    out = []
    for seat_id, seat in sorted(mine.items(), key=lambda kv: (kv[1].position, kv[0])):
        at, kind = last.get(seat_id, (None, None))
        if at is not None and at < horizon:
            at, kind = None, None
        out.append(AgentLine(seat_id, seat.title, seat.holder.name, kind, at))
    # The quietest agents first: an agent that stopped is what a person should notice.
    out.sort(key=lambda a: (a.last_at is not None, a.last_at or dt.datetime.min.replace(tzinfo=dt.UTC)))
    return out


def _messages_sent(session: Session, seat_ids: list[str]):
    try:
        from otp_bot.store.models import Message
    except ImportError:
        return []
    return session.execute(select(Message.from_seat_id, func.max(Message.created_at))
                           .where(Message.from_seat_id.in_(seat_ids)).group_by(Message.from_seat_id))


# ---------------------------------------------------------------- as JSON, for the agent API

def as_dict(b: DailyBriefing, limit: int = 100) -> dict[str, Any]:
    """The briefing as JSON-ready data; each list cut at `limit`, with its full count."""

    def listed(items: list) -> dict[str, Any]:
        return {"count": len(items), "items": [_json(asdict(i)) for i in items[:limit]]}

    return {
        "org": b.org, "timezone": b.timezone, "now": b.now.isoformat(), "since": as_utc(b.since).isoformat(),
        "quiet": b.quiet, "metrics": b.metrics,
        "drafts_waiting": _json(asdict(b.waiting)) if b.waiting else None,
        "held": listed(b.held), "overdue_requests": listed(b.overdue), "off_track": listed(b.off_track),
        "stale": listed(b.stale), "flags": listed(b.flags), "seat_changes": listed(b.changes),
        "agents": listed(b.agents),
    }


def _json(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (as_utc(v).isoformat() if isinstance(v, dt.datetime) else v) for k, v in data.items()}


def briefing_json(session: Session, now: dt.datetime | None = None, limit: int = 100) -> dict[str, Any]:
    """GET /api/v1/briefing/daily: the org's daily briefing since the last one posted."""
    from otp_bot.store.domain.schedules import last_posted

    last = last_posted(session, "briefing")
    return as_dict(daily_briefing(session, now, as_utc(last.posted_at) if last else None), limit)
