"""Hiring: a new seat on the chart, active with a holder or vacant without."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.chartfile.cross_checks import normalize_topic
from otp_bot.store.domain.chart.locks import lock_chart
from otp_bot.store.domain.chart.reading import get_holder, reporting_line
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Conflict, Invalid
from otp_bot.store.domain.lifecycle.chart_changes import live_seat, new_revision, require_above
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import Seat, SeatHolding, SeatOwns

SEAT_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def _texts(values: list[str] | tuple[str, ...], what: str, limit: int) -> list[str]:
    out: list[str] = []
    for value in values:
        value = clean_text(re.sub(r"[ \t\r\n]+", " ", str(value)), what, multiline=False)
        if not value:
            continue
        if len(value) > limit:
            raise Invalid(f"{what} “{value[:40]}…” is over {limit} characters")
        if value not in out:
            out.append(value)
    return out


def hire(
    session: Session,
    actor: Actor,
    seat_id: str,
    title: str,
    *,
    reports_to: str | None = None,
    holder: str | None = None,
    aliases: list[str] | tuple[str, ...] = (),
    accountabilities: list[str] | tuple[str, ...] = (),
    owns: list[str] | tuple[str, ...] = (),
    now: dt.datetime | None = None,
) -> Seat:
    """Create a seat: active with a holder, vacant without."""
    now = now or utcnow()
    org = lock_chart(session)
    seat_id = (seat_id or "").strip().lower()
    if not SEAT_ID.match(seat_id):
        raise Invalid(f"`{seat_id[:40]}` is not a valid seat id", hint="lower-case letters, digits, '-', '_' or '.'")
    title = clean_text(re.sub(r"[ \t\r\n]+", " ", title or ""), "the seat's title", multiline=False)
    if not title or len(title) > 200:
        raise Invalid("give the seat a title of 1 to 200 characters")
    existing = session.get(Seat, seat_id)
    if existing is not None:
        state = " (retired; its record keeps the id)" if existing.status == "retired" else ""
        raise Conflict(f"there is already a seat `{seat_id}`{state}", hint="choose another id")
    manager = live_seat(session, reports_to) if reports_to else None
    require_above(session, actor, [manager, *reporting_line(session, manager)] if manager else [], "hire seats here")
    person = get_holder(session, holder) if holder else None
    aliases = _texts(aliases, "alias", 200)
    accountabilities = _texts(accountabilities, "accountability", 500)
    owns = _texts(owns, "`owns` topic", 200)
    keys = [normalize_topic(t) for t in owns]
    if len(set(keys)) != len(keys):
        raise Invalid("the same `owns` topic is named twice")
    taken = dict(
        session.execute(select(SeatOwns.normalized, SeatOwns.seat_id).where(SeatOwns.normalized.in_(keys))).all()
    )
    for topic, key in zip(owns, keys, strict=True):
        if key in taken:
            raise Conflict(f"“{topic}” is already owned by seat `{taken[key]}`: one function, one seat")
    position = (session.scalar(select(func.max(Seat.position))) or 0) + 1
    seat = Seat(
        id=seat_id,
        title=title,
        holder_id=person.id if person else None,
        reports_to_id=manager.id if manager else None,
        status="active" if person else "vacant",
        aliases=aliases,
        accountabilities=accountabilities,
        does_not_own=[],
        position=position,
    )
    session.add(seat)
    session.flush()
    session.add_all(
        SeatOwns(seat_id=seat_id, topic=t, normalized=k, position=i)
        for i, (t, k) in enumerate(zip(owns, keys, strict=True))
    )
    if person:
        session.add(SeatHolding(seat_id=seat_id, holder_id=person.id, started_at=now))
    new_revision(org)
    session.flush()
    session.refresh(seat)
    audit.record(
        session,
        actor.audit_name,
        "seat.hired",
        f"seat:{seat_id}",
        title=title,
        reports_to=seat.reports_to_id,
        holder=seat.holder_id,
        owns=owns,
        revision=org.revision,
    )
    return seat
