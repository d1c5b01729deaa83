"""The briefing's sections of what changed: flags in force (new since the last briefing first) and seat changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.gate.policies import active_flag_filter
from otp_bot.store.models import AuditEntry, Flag, Seat

CHANGE_PREFIXES = ("chart.seat.", "seat.")  # chart imports, and the seat lifecycle (hire, assign, retire)


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
class SeatChange:
    at: dt.datetime
    action: str
    subject: str
    text: str
    by: str


def flags_in_force(session: Session, now: dt.datetime, since: dt.datetime) -> list[FlagItem]:
    # Plain columns with the seat's title: as ORM objects each would load its seat.
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


def seat_changes(session: Session, since: dt.datetime) -> list[SeatChange]:
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
