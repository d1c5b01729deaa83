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
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from otp_bot.store.domain.chart.reading import accountable_human, get_org
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.gate.policies import active_flag_filter
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.metric_facts import METRIC_COLUMNS, MetricFacts
from otp_bot.store.domain.scorecard.metrics import MetricRow, metric_rows
from otp_bot.store.models import AuditEntry, Draft, Flag, FollowUp, Holder, Metric, MetricValue, Seat

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
        return not (
            self.waiting or self.held or self.overdue or self.off_track or self.stale or self.flags or self.changes
        )

    @property
    def new_flags(self) -> list[FlagItem]:
        return [f for f in self.flags if f.new]


def owner_text(seat: Seat) -> str:
    holder = seat.holder
    human = accountable_human(holder)
    return _owner(holder.name if holder else None, holder.kind if holder else None, human.name if human else None)


def _owner(holder: str | None, kind: str | None, accountable: str | None) -> str:
    if holder is None:
        return "vacant"
    if kind == "agent" and accountable is not None:
        return f"{holder} (agent, {accountable} accountable)"
    return holder


def daily_briefing(session: Session, now: dt.datetime | None = None, since: dt.datetime | None = None) -> DailyBriefing:
    """Build the briefing as of `now`; `since` is when the last one went out (default: a day ago)."""
    now = now or utcnow()
    since = since or now - DEFAULT_SINCE
    org = get_org(session)
    today = now.astimezone(ZoneInfo(org.timezone)).date()
    seats = {s.id: s for s in seat_facts(session)}
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


class SeatFacts(NamedTuple):
    """A seat that is not retired, from plain columns: what the briefing's lines name."""

    id: str
    title: str
    holder_id: str | None
    position: int
    holder: str | None  # the holder's name
    agent: bool
    owner: str  # as `owner_text` says it


def seat_facts(session: Session) -> list[SeatFacts]:
    supervisor = aliased(Holder)
    rows = (
        session.connection()
        .execute(
            select(Seat.id, Seat.title, Seat.holder_id, Seat.position, Holder.name, Holder.kind, supervisor.name)
            .outerjoin(Holder, Holder.id == Seat.holder_id)
            .outerjoin(supervisor, supervisor.id == Holder.supervisor_id)
            .where(Seat.status != "retired")
        )
        .all()
    )
    # An agent answers to its supervisor; a human to themselves (only an agent's is named).
    return [
        SeatFacts(sid, title, holder_id, position, name, kind == "agent", _owner(name, kind, boss))
        for sid, title, holder_id, position, name, kind, boss in rows
    ]


def metric_facts(session: Session) -> list[MetricFacts]:
    """Every metric of a seat that is not retired, in chart order within its seat."""
    rows = session.connection().execute(
        select(*METRIC_COLUMNS)
        .join(Seat, Seat.id == Metric.seat_id)
        .where(Seat.status != "retired")
        .order_by(Metric.seat_id, Metric.position)
    )
    return [MetricFacts._make(row) for row in rows.all()]


# Drafts, flags and requests are read as plain columns with their seat's title: as ORM
# objects each would load its seat's word lists and metrics, and its decisions.


def _waiting(session: Session) -> Waiting | None:
    count = session.scalar(select(func.count()).select_from(Draft).where(Draft.status == "pending")) or 0
    if not count:
        return None
    did, title, seat, queued_at, created_at = session.execute(
        select(Draft.id, Draft.title, Seat.title, Draft.queued_at, Draft.created_at)
        .join(Seat, Seat.id == Draft.seat_id)
        .where(Draft.status == "pending")
        .order_by(Draft.queued_at, Draft.id)
        .limit(1)
    ).one()
    return Waiting(count, did, title, seat, as_utc(queued_at or created_at))


def _held(session: Session) -> list[Held]:
    drafts = session.execute(
        select(Draft.id, Draft.title, Draft.seat_id, Seat.title, Draft.hold_reason, Draft.created_at)
        .join(Seat, Seat.id == Draft.seat_id)
        .where(Draft.status == "held")
        .order_by(Draft.created_at, Draft.id)
    )
    return [
        Held(did, title, seat_id, seat, reason or "held by a policy", as_utc(at))
        for did, title, seat_id, seat, reason, at in drafts
    ]


def _overdue(session: Session, now: dt.datetime) -> list[Overdue]:
    try:  # the message bus is newer than the briefing; an older store has no requests to chase
        from otp_bot.store.domain.agents.inboxes import overdue_query
        from otp_bot.store.models import Message
    except ImportError:
        return []
    sender, receiver = aliased(Seat), aliased(Seat)
    rows = session.execute(
        overdue_query(now, limit=500)
        .with_only_columns(Message.id, sender.title, receiver.title, Message.subject, Message.deadline)
        .join(sender, sender.id == Message.from_seat_id)
        .join(receiver, receiver.id == Message.to_seat_id)
    )
    return [
        Overdue(mid, sender_title, receiver_title, subject, as_utc(deadline))
        for mid, sender_title, receiver_title, subject, deadline in rows
    ]


def _off_track(session: Session, rows: list[MetricRow], seats: dict[str, SeatFacts]) -> list[OffTrack]:
    missed = [(r, r.latest) for r in rows if r.off_track]
    follow_ups = _follow_ups(session, [(r.metric.id, latest.period) for r, latest in missed])
    labels: dict[tuple[dt.date, str], str] = {}  # thousands of misses share a handful of periods
    out = []
    for r, latest in missed:
        m, goal = r.metric, r.goal
        seat = seats[m.seat_id]
        distance = goal.distance(latest.value)
        size = max(abs(goal.value), abs(goal.high or 0.0), 1e-9)
        key = (latest.period, m.cadence)
        label = labels.get(key) or labels.setdefault(key, periods.label(*key))
        out.append(
            OffTrack(
                m.id,
                m.name,
                seat.id,
                seat.title,
                seat.owner,
                r.show(latest.value),
                r.describe_goal(),
                r.show(distance) if m.kind != "yesno" else "missed",
                label,
                distance / size,
                follow_ups.get((m.id, latest.period)),
            )
        )
    out.sort(key=lambda o: (-o.relative, o.seat_id, o.metric_id))
    return out


def _follow_ups(session: Session, keys: list[tuple[str, dt.date]]) -> dict[tuple[str, dt.date], int]:
    if not keys:
        return {}
    # Thousands of misses fall in a handful of periods: one read by period rather than
    # many by metric id (each a round trip on a server).
    wanted = set(keys)
    rows = session.execute(
        select(FollowUp.id, FollowUp.metric_id, FollowUp.period).where(
            FollowUp.period.in_(sorted({p for _, p in wanted}))
        )
    )
    return {(mid, period): fid for fid, mid, period in rows if (mid, period) in wanted}


def _stale(session: Session, rows: list[MetricRow], seats: dict[str, SeatFacts], today: dt.date) -> list[Stale]:
    """Metrics of held seats with no value in the current period nor the one before: a
    whole period went by unreported. Formula metrics are computed, so never stale."""
    stale = [
        r
        for r in rows
        if len(r.cells) >= 2
        and r.cells[-1].value is None
        and r.cells[-2].value is None
        and not r.metric.formula
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
                _periods_between(before, periods.period_start(today, cadence), cadence) if before else None,
            )
        )
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
        found.update(
            session.execute(
                select(MetricValue.metric_id, func.max(MetricValue.period_start))
                .where(MetricValue.metric_id.in_(ids[chunk : chunk + 500]))
                .group_by(MetricValue.metric_id)
            ).all()
        )
    return found


def _flags(session: Session, now: dt.datetime, since: dt.datetime) -> list[FlagItem]:
    flags = session.execute(
        select(Flag.subject, Flag.flag, Flag.seat_id, Seat.title, Flag.reason, Flag.set_at, Flag.until)
        .join(Seat, Seat.id == Flag.seat_id)
        .where(*active_flag_filter(now))
        .order_by(Flag.set_at.desc(), Flag.id.desc())
    )
    out = [
        FlagItem(subject, flag, seat_id, seat, reason, as_utc(set_at), as_utc(until), as_utc(set_at) > since)
        for subject, flag, seat_id, seat, reason, set_at, until in flags
    ]
    out.sort(key=lambda f: not f.new)  # stable: new ones first, each group newest first
    return out


def _changes(session: Session, since: dt.datetime) -> list[SeatChange]:
    # Prefix ranges rather than LIKE: the action index serves them on both backends.
    ranges = [and_(AuditEntry.action >= p, AuditEntry.action < p[:-1] + "/") for p in CHANGE_PREFIXES]
    # The log keeps whole seconds: an entry in the second the last briefing went out counts.
    entries = session.scalars(
        select(AuditEntry).where(or_(*ranges), AuditEntry.at >= since.replace(microsecond=0)).order_by(AuditEntry.id)
    )
    return [SeatChange(as_utc(e.at), e.action, e.subject, _describe(e), e.actor) for e in entries]


def _describe(entry: AuditEntry) -> str:
    detail = entry.detail or {}
    for key in ("change", "summary", "text"):
        if isinstance(detail.get(key), str):
            return detail[key]
    what = entry.action.removeprefix("chart.").replace(".", " ")
    extra = ", ".join(
        f"{k} {v}"
        for k, v in detail.items()
        if k in ("holder", "to", "from", "decision", "reason") and v not in (None, "")
    )
    return f"{what}: {entry.subject}" + (f" ({extra})" if extra else "")


def _agents(session: Session, seats: dict[str, SeatFacts], horizon: dt.datetime) -> list[AgentLine]:
    mine = {sid: s for sid, s in seats.items() if s.agent}
    if not mine:
        return []
    # The same seats, as a subquery: one statement each rather than one per few hundred
    # seats (on PostgreSQL each was a pass over the values).
    agent_seats = (
        select(Seat.id)
        .join(Holder, Holder.id == Seat.holder_id)
        .where(Seat.status != "retired", Holder.kind == "agent")
    )
    last: dict[str, tuple[dt.datetime, str]] = {}

    def note(kind: str, rows) -> None:
        for seat_id, at in rows:
            at = as_utc(at)
            if at is not None and (seat_id not in last or at > last[seat_id][0]):
                last[seat_id] = (at, kind)

    # Values: looked for in the recent periods only, through the (metric, period) index.
    horizon_day = horizon.date() - dt.timedelta(days=31)
    note(
        "value",
        session.execute(
            select(Metric.seat_id, func.max(MetricValue.recorded_at))
            .join(Metric, Metric.id == MetricValue.metric_id)
            .where(Metric.seat_id.in_(agent_seats), MetricValue.period_start >= horizon_day)
            .group_by(Metric.seat_id)
        ),
    )
    note(
        "draft",
        session.execute(
            select(Draft.seat_id, func.max(Draft.created_at))
            .where(Draft.seat_id.in_(agent_seats))
            .group_by(Draft.seat_id)
        ),
    )
    note(
        "flag",
        session.execute(
            select(Flag.seat_id, func.max(Flag.set_at)).where(Flag.seat_id.in_(agent_seats)).group_by(Flag.seat_id)
        ),
    )
    note("message", _messages_sent(session, agent_seats))
    out = []
    for seat_id, seat in sorted(mine.items(), key=lambda kv: (kv[1].position, kv[0])):
        at, kind = last.get(seat_id, (None, None))
        if at is not None and at < horizon:
            at, kind = None, None
        out.append(AgentLine(seat_id, seat.title, seat.holder, kind, at))
    # The quietest agents first: an agent that stopped is what a person should notice.
    out.sort(key=lambda a: (a.last_at is not None, a.last_at or dt.datetime.min.replace(tzinfo=dt.UTC)))
    return out


def _messages_sent(session: Session, seat_ids: Select[tuple[str]]):
    try:
        from otp_bot.store.models import Message
    except ImportError:
        return []
    return session.execute(
        select(Message.from_seat_id, func.max(Message.created_at))
        .where(Message.from_seat_id.in_(seat_ids))
        .group_by(Message.from_seat_id)
    )


# ---------------------------------------------------------------- as JSON, for the agent API


def as_dict(b: DailyBriefing, limit: int = 100) -> dict[str, Any]:
    """The briefing as JSON-ready data; each list cut at `limit`, with its full count."""

    def listed(items: list) -> dict[str, Any]:
        return {"count": len(items), "items": [_json(asdict(i)) for i in items[:limit]]}

    return {
        "org": b.org,
        "timezone": b.timezone,
        "now": b.now.isoformat(),
        "since": as_utc(b.since).isoformat(),
        "quiet": b.quiet,
        "metrics": b.metrics,
        "drafts_waiting": _json(asdict(b.waiting)) if b.waiting else None,
        "held": listed(b.held),
        "overdue_requests": listed(b.overdue),
        "off_track": listed(b.off_track),
        "stale": listed(b.stale),
        "flags": listed(b.flags),
        "seat_changes": listed(b.changes),
        "agents": listed(b.agents),
    }


def _json(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (as_utc(v).isoformat() if isinstance(v, dt.datetime) else v) for k, v in data.items()}


def briefing_json(session: Session, now: dt.datetime | None = None, limit: int = 100) -> dict[str, Any]:
    """GET /api/v1/briefing/daily: the org's daily briefing since the last one posted."""
    from otp_bot.store.domain.rhythm.schedules import last_posted

    last = last_posted(session, "briefing")
    return as_dict(daily_briefing(session, now, as_utc(last.posted_at) if last else None), limit)
