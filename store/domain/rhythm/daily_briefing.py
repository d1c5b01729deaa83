"""The daily briefing: what needs a human today, for the whole org, as plain data (and as JSON for agents)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.collector import collector_paused
from otp_bot.store.domain.gate.ledger_warnings import RisingRejections, RubberStamp, gate_warnings
from otp_bot.store.domain.rhythm.briefing_agents import AgentLine, agent_lines
from otp_bot.store.domain.rhythm.briefing_changes import FlagItem, SeatChange, flags_in_force, seat_changes
from otp_bot.store.domain.rhythm.briefing_metrics import OffTrack, Stale, off_track, stale_metrics
from otp_bot.store.domain.rhythm.briefing_todos import LateTodo, late_todos
from otp_bot.store.domain.rhythm.briefing_waiting import (
    Held,
    Overdue,
    Waiting,
    held_drafts,
    overdue_requests,
    waiting_drafts,
)
from otp_bot.store.domain.rhythm.run_history import last_posted
from otp_bot.store.domain.rhythm.seat_facts import seat_facts
from otp_bot.store.domain.scorecard.latest import latest_values
from otp_bot.store.domain.scorecard.metric_facts import metric_facts

DEFAULT_SINCE = dt.timedelta(days=1)  # "since the last briefing" when there was none


@dataclass
class DailyBriefing:
    """The org's morning post. Its sections, in the order a person should read them (the most
    pressing first):

    1. drafts waiting for a decision (they expire) and the oldest one's age;
    2. drafts held by a policy, and why;
    3. requests between seats past their deadline, unanswered;
    4. to-dos past their due day, the longest overdue first, with the seat that owes them;
    5. metrics off track, the furthest from their goal first, with owner and distance;
    6. stale metrics: no value for the last full period (the pushing agent may have stopped);
    7. flags: new since the last briefing, then the others in force;
    8. seat changes since the last briefing (chart imports, hires, assignments, retirements);
    9. the gate's health (store/domain/gate/ledger_warnings.py): approvers who approve
       (nearly) everything unedited in seconds, and seats whose rejection rate rose;
    10. one line per agent seat: its last activity (a value, a draft, a flag or a message).

    Sections 1 to 9 are what "needs a human"; when all are empty the day is quiet. The agent
    lines are context and always listed. (`holder_briefing` is what one holder or agent reads
    for their own seats.)"""

    org: str
    timezone: str
    now: dt.datetime
    since: dt.datetime
    metrics: int  # metrics judged
    waiting: Waiting | None = None
    held: list[Held] = field(default_factory=list)
    overdue: list[Overdue] = field(default_factory=list)
    late_todos: list[LateTodo] = field(default_factory=list)
    off_track: list[OffTrack] = field(default_factory=list)  # the most pressing LISTED
    off_track_total: int = 0  # every miss
    stale: list[Stale] = field(default_factory=list)
    flags: list[FlagItem] = field(default_factory=list)
    changes: list[SeatChange] = field(default_factory=list)
    stamps: list[RubberStamp] = field(default_factory=list)
    rising: list[RisingRejections] = field(default_factory=list)
    agents: list[AgentLine] = field(default_factory=list)
    activity_window: dt.timedelta = dt.timedelta(weeks=4)

    @property
    def quiet(self) -> bool:
        return not (
            self.waiting
            or self.held
            or self.overdue
            or self.late_todos
            or self.off_track
            or self.stale
            or self.flags
            or self.changes
            or self.stamps
            or self.rising
        )

    @property
    def new_flags(self) -> list[FlagItem]:
        return [f for f in self.flags if f.new]


def daily_briefing(session: Session, now: dt.datetime | None = None, since: dt.datetime | None = None) -> DailyBriefing:
    """Build the briefing as of `now`; `since` is when the last one went out (default: a day ago)."""
    with collector_paused():
        return _build(session, now, since)


def _build(session: Session, now: dt.datetime | None, since: dt.datetime | None) -> DailyBriefing:
    now = now or utcnow()
    since = since or now - DEFAULT_SINCE
    org = get_org(session)
    today = now.astimezone(ZoneInfo(org.timezone)).date()
    seats = {s.id: s for s in seat_facts(session)}
    metrics = metric_facts(session) if seats else []
    # This period and the last: a metric with no value in either is stale, and is listed as such
    # rather than as off track on an older value. (Half the reads of the scorecard's status window.)
    # Every metric of the org: its few monthly metrics too are read period by period, not metric by metric.
    rows = latest_values(session, metrics, weeks=2, today=today, org_wide=True) if metrics else []
    b = DailyBriefing(org.name, org.timezone, now, since, len(rows))
    b.waiting = waiting_drafts(session)
    b.held = held_drafts(session)
    b.overdue = overdue_requests(session, now)
    b.late_todos = late_todos(session, today, seats)
    b.off_track, b.off_track_total = off_track(session, rows, seats)
    b.stale = stale_metrics(session, rows, seats, today)
    b.flags = flags_in_force(session, now, since)
    b.changes = seat_changes(session, since)
    warnings = gate_warnings(session, now)
    b.stamps, b.rising = warnings.stamps, warnings.rising
    b.agents = agent_lines(session, seats, now - b.activity_window)
    return b


# ---------------------------------------------------------------- as JSON, for the agent API


def as_dict(b: DailyBriefing, limit: int = 100) -> dict[str, Any]:
    """The briefing as JSON-ready data; each list cut at `limit`, with its full count (the
    misses off track are listed up to briefing_metrics.LISTED, counted in full)."""

    def listed(items: list[Any], count: int | None = None) -> dict[str, Any]:
        return {"count": len(items) if count is None else count, "items": [_json(asdict(i)) for i in items[:limit]]}

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
        "overdue_todos": listed(b.late_todos),
        "off_track": listed(b.off_track, b.off_track_total),
        "stale": listed(b.stale),
        "flags": listed(b.flags),
        "seat_changes": listed(b.changes),
        "rubber_stamps": listed(b.stamps),
        "rising_rejections": listed(b.rising),
        "agents": listed(b.agents),
    }


def _json(data: dict[str, Any]) -> dict[str, Any]:
    def plain(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return as_utc(v).isoformat()
        return v.isoformat() if isinstance(v, dt.date) else v  # a to-do's due day

    return {k: plain(v) for k, v in data.items()}


def briefing_json(session: Session, now: dt.datetime | None = None, limit: int = 100) -> dict[str, Any]:
    """GET /api/v1/briefing/daily: the org's daily briefing since the last one posted."""
    last = last_posted(session, "briefing")
    return as_dict(daily_briefing(session, now, as_utc(last.posted_at) if last else None), limit)
