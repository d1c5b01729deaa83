"""Flags: a seat's marker on a subject (`retention` flags `client:acme` as `at-risk`).

Setting and lifting are recorded (the row stays, with who lifted it and when). A flag
may carry an expiry; when a flag ends, drafts it held are checked again and released.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.durations import parse_minutes
from otp_bot.store.domain.chart.locks import hold_chart, hold_chart_if_any
from otp_bot.store.domain.chart.reading import accountable_human, get_seat
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.errors import Forbidden, Invalid, NotFound
from otp_bot.store.domain.gate.drafts import hold_pending, lock_subject, lock_subjects, release_held, waiting_on
from otp_bot.store.domain.gate.policies import active_flag_filter
from otp_bot.store.domain.text_rules import clean_optional
from otp_bot.store.models import Draft, Flag, Seat

FLAG = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
SUBJECT = re.compile(r"^\S{1,200}$")
EXPIRED_PER_ROUND = 200  # subjects whose flags one sweep expires


@dataclass
class FlagChange:
    flag: Flag
    created: bool = True  # False: the flag was already set (its reason and expiry are updated)
    released: list[Draft] = field(default_factory=list)
    held: list[Draft] = field(default_factory=list)  # pending drafts the new flag pulled back from approval


def parse_until(text: str | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """`3d` (from now), `2026-12-01` (the start of that day, UTC) or an ISO timestamp."""
    text = (text or "").strip()
    if not text:
        return None
    now = now or utcnow()
    try:
        return now + dt.timedelta(minutes=parse_minutes(text))
    except OverflowError:
        raise Invalid(
            f"`{text[:40]}` is too far ahead", hint="give a duration like 3d or a date like 2026-12-01"
        ) from None
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(
            f"`{text[:40]}` is not a time", hint="give a duration like 3d or 12h, or a date like 2026-12-01"
        ) from None
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    if when <= now:
        raise Invalid(f"{text} is in the past; a flag's expiry must be in the future")
    return when


def _names(subject: str, flag: str) -> tuple[str, str]:
    subject, flag = (subject or "").strip().lower(), (flag or "").strip().lower()
    if not SUBJECT.match(subject):
        raise Invalid("name the subject in one word, like client:acme")
    if not FLAG.match(flag):
        raise Invalid(f"`{flag[:40]}` is not a flag name", hint="a flag is a short word like at-risk")
    return subject, flag


def acting_seat(session: Session, actor: Actor, seat_id: str | None) -> Seat:
    """The seat an actor acts for: the one named, or the only one they hold."""
    if seat_id:
        seat = get_seat(session, seat_id)
        if not actor.operator and seat.holder_id != actor.holder_id:
            raise Forbidden(f"you do not hold seat `{seat.id}`; you can flag only for seats you hold")
        return seat
    if actor.holder_id is None:
        raise Forbidden(
            "you are not on the chart, so you can read but not flag", hint="operators name the seat with --seat"
        )
    held = session.scalars(select(Seat).where(Seat.holder_id == actor.holder_id).order_by(Seat.position)).all()
    if len(held) == 1:
        return held[0]
    if not held:
        raise Forbidden("you hold no seat, so there is nothing to flag for")
    raise Invalid(f"you hold several seats ({', '.join(s.id for s in held)}); say which one with --seat")


def active_flags(session: Session, subject: str | None = None, now: dt.datetime | None = None) -> list[Flag]:
    query = select(Flag).where(*active_flag_filter(now or utcnow())).order_by(Flag.subject, Flag.set_at, Flag.id)
    if subject:
        query = query.where(Flag.subject == subject.strip().lower())
    return list(session.scalars(query))


def set_flag(
    session: Session,
    actor: Actor,
    subject: str,
    flag: str,
    *,
    seat_id: str | None = None,
    reason: str | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> FlagChange:
    now = now or utcnow()
    subject, flag = _names(subject, flag)
    hold_chart(session)  # the order of locks: the chart, the subject, the drafts, the audit chain (chart/locks.py)
    lock_subject(session, subject)
    seat = acting_seat(session, actor, seat_id)
    reason = clean_optional(reason, "the reason", multiline=False)
    reason = reason[:500] if reason else None
    existing = session.scalar(
        select(Flag).where(
            Flag.subject == subject, Flag.flag == flag, Flag.seat_id == seat.id, Flag.lifted_at.is_(None)
        )
    )
    if existing is not None and (existing.until is None or as_utc(existing.until) > now):
        existing.reason, existing.until = reason or existing.reason, until
        audit.record(
            session,
            actor.audit_name,
            "flag.updated",
            f"flag:{subject}:{flag}",
            seat=seat.id,
            reason=existing.reason,
            until=until,
        )
        return FlagChange(existing, created=False)
    if existing is not None:  # expired but not yet swept: end it, then set anew
        existing.lifted_at, existing.lifted_by = now, "expired"
        session.flush()
    pending = waiting_on(session, subject, "pending")  # before the audit entry: see waiting_on
    row = Flag(
        subject=subject, flag=flag, seat_id=seat.id, reason=reason, set_by=actor.audit_name, set_at=now, until=until
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor.audit_name, "flag.set", f"flag:{subject}:{flag}", seat=seat.id, reason=reason, until=until
    )
    return FlagChange(row, held=hold_pending(session, pending, now))


def lift_flag(
    session: Session,
    actor: Actor,
    subject: str,
    flag: str,
    *,
    seat_id: str | None = None,
    now: dt.datetime | None = None,
) -> FlagChange:
    now = now or utcnow()
    subject, flag = _names(subject, flag)
    hold_chart(session)  # as set_flag
    lock_subject(session, subject)
    query = select(Flag).where(Flag.subject == subject, Flag.flag == flag, Flag.lifted_at.is_(None))
    if seat_id:
        query = query.where(Flag.seat_id == get_seat(session, seat_id).id)
    rows = session.scalars(query.with_for_update(of=Flag)).all()  # the flags, then their drafts, as expire_flags
    if not rows:
        raise NotFound(f"{subject} is not flagged {flag}" + (f" by `{seat_id}`" if seat_id else ""))
    allowed = [r for r in rows if actor.operator or actor.holder_id in _may_lift(r)]
    if not allowed:
        raise Forbidden(
            f"only the holder of the flagging seat ({', '.join(r.seat_id for r in rows)}), the human "
            "accountable for it, or an operator can lift this flag"
        )
    held = waiting_on(session, subject, "held")  # before the audit entries: see waiting_on
    for row in allowed:
        row.lifted_at, row.lifted_by = now, actor.audit_name
        audit.record(session, actor.audit_name, "flag.lifted", f"flag:{subject}:{flag}", seat=row.seat_id)
    session.flush()
    return FlagChange(allowed[0], created=False, released=release_held(session, held, now, actor.audit_name))


def _may_lift(flag: Flag) -> set[str]:
    holder = flag.seat.holder
    human = accountable_human(holder)
    return {h.id for h in (holder, human) if h is not None}


def expire_flags(session: Session, now: dt.datetime | None = None) -> list[Draft]:
    """End flags whose expiry passed; release what they held."""
    now = now or utcnow()
    hold_chart_if_any(session)  # as set_flag; before the first import there is nothing to expire
    # A lock per subject, and the lock table is finite: after a long stop, the next rounds take the rest.
    due = list(
        session.scalars(
            select(Flag.subject)
            .where(Flag.lifted_at.is_(None), Flag.until <= now)
            .distinct()
            .order_by(Flag.subject)
            .limit(EXPIRED_PER_ROUND)
        )
    )
    if not due:
        return []
    lock_subjects(session, due)
    ended = session.execute(
        update(Flag)
        .where(Flag.lifted_at.is_(None), Flag.until <= now, Flag.subject.in_(due))
        .values(lifted_at=now, lifted_by="expired")
        .returning(Flag.subject, Flag.flag)
    ).all()
    subjects = sorted({s for s, _ in ended})
    held = {subject: waiting_on(session, subject, "held") for subject in subjects}  # see waiting_on
    released: list[Draft] = []
    for subject, flag in ended:
        audit.record(session, "system", "flag.expired", f"flag:{subject}:{flag}")
    for subject in subjects:
        released += release_held(session, held[subject], now, "system")
    return released
