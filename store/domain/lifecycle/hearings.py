"""Hearings on a seat: what the form asks, and the decision recorded, retiring the seat and placing what it held."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.chartfile.cross_checks import normalize_topic
from otp_bot.store.domain.chart.locks import lock_chart
from otp_bot.store.domain.chart.reading import reporting_line, seat_order
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.gate.follow_chart import follow_chart
from otp_bot.store.domain.lifecycle.chart_changes import live_seat, new_revision, require_above
from otp_bot.store.domain.lifecycle.hearing_input import (
    DROP,
    Capability,
    HearingErrors,
    HearingInput,
    Problem,
    capabilities,
)
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import HEARING_DECISIONS, Hearing, Seat, SeatHolding, SeatOwns

TEXT_LIMIT = 3000  # reason, findings, recommendation: what one Slack text input holds


@dataclass(frozen=True)
class SeatChoice:
    id: str
    title: str


@dataclass
class HearingForm:
    """What a hearing on a seat asks, for a surface to build its form from."""

    seat: Seat
    capabilities: list[Capability]
    targets: list[SeatChoice]  # seats a capability may move to, in chart order (up to `limit`)
    more_targets: bool  # there are more than `limit`: ask for a seat id instead of a choice
    reports: list[SeatChoice]  # its direct reports
    managers: list[SeatChoice]  # seats its reports may move under, outside its subtree (`limit + 1`: more)
    default_manager: str | None


def _choices(session: Session, exclude: set[str], limit: int) -> list[SeatChoice]:
    """Up to `limit + 1` seats in chart order (one more tells that there are more)."""
    out: list[SeatChoice] = []
    rows = session.execute(
        select(Seat.id, Seat.title)
        .where(Seat.status != "retired")
        .order_by(Seat.position, Seat.id)
        .execution_options(yield_per=500)
    )
    for seat_id, title in rows:
        if seat_id not in exclude:
            out.append(SeatChoice(seat_id, title))
            if len(out) > limit:
                break
    rows.close()
    return out


def hearing_form(session: Session, actor: Actor, seat_id: str, limit: int = 100) -> HearingForm:
    """Check the actor may hold a hearing on the seat, and gather what its form asks."""
    seat = live_seat(session, seat_id)
    require_above(session, actor, reporting_line(session, seat), f"hold a hearing on seat `{seat.id}`")
    targets = _choices(session, {seat.id}, limit)
    reports = [
        SeatChoice(s.id, s.title)
        for s in session.scalars(select(Seat).where(Seat.reports_to_id == seat.id).order_by(Seat.position, Seat.id))
    ]
    managers = _choices(session, set(seat_order(session, seat.id)), limit) if reports else []
    return HearingForm(
        seat, capabilities(seat), targets[:limit], len(targets) > limit, reports, managers, seat.reports_to_id
    )


ASKED = {
    "reason": "say why the hearing is held",
    "findings": "say what the hearing found",
    "recommendation": "give the hearing's recommendation",
}


def _text(value: str | None, name: str, problems: list[Problem]) -> str:
    try:
        value = clean_text(value, f"the {name}", multiline=True)
    except Invalid as exc:
        problems.append(Problem(name, name, exc.message))
        return ""
    if not value:
        problems.append(Problem(name, name, ASKED[name]))
    elif len(value) > TEXT_LIMIT:
        problems.append(Problem(name, name, f"at most {TEXT_LIMIT} characters"))
    return value


def _target(session: Session, seat: Seat, to: str, cap: Capability) -> str | None:
    """Why `to` cannot take `cap`, or None when it can."""
    target = session.get(Seat, to)
    if target is None:
        return f"there is no seat `{to[:64]}`"
    if target.id == seat.id:
        return "that is the seat being retired"
    if target.status == "retired":
        return f"seat `{to}` is retired; a capability can't move to a retired seat"
    if cap.kind == "owns" and normalize_topic(cap.text) in {normalize_topic(t) for t in target.does_not_own or []}:
        return f"seat `{to}` lists it under does_not_own"
    return None


def _placements(
    session: Session, seat: Seat, moves: list[tuple[str, str]], problems: list[Problem]
) -> dict[Capability, str | None]:
    """Each capability's new seat (None: dropped), one each; problems for anything else."""
    caps = capabilities(seat)
    by_key = {c.key: c for c in caps}
    by_text: dict[str, list[Capability]] = {}
    for c in caps:
        by_text.setdefault(normalize_topic(c.text), []).append(c)
    placed: dict[Capability, str | None] = {}
    flagged: set[Capability] = set()
    for ref, to in moves:
        found = [by_key[ref]] if ref in by_key else by_text.get(normalize_topic(ref or ""), [])
        if not found:
            problems.append(
                Problem(ref, f"“{(ref or '')[:60]}”", f"not an `owns` topic or accountability of `{seat.id}`")
            )
            continue
        to = (to or "").strip().lower()
        for cap in found:
            if cap in placed or cap in flagged:
                if cap not in flagged and placed[cap] != (None if to == DROP else to):
                    problems.append(Problem(cap.key, cap.label, "placed twice: a capability goes to one seat"))
                    flagged.add(cap)
                continue
            if not to:
                problems.append(Problem(cap.key, cap.label, "choose the seat that takes it, or drop it"))
            elif to == DROP:
                placed[cap] = None
                continue
            elif why := _target(session, seat, to, cap):
                problems.append(Problem(cap.key, cap.label, why))
            else:
                placed[cap] = to
                continue
            flagged.add(cap)
    problems.extend(
        Problem(cap.key, cap.label, "choose the seat that takes it, or drop it")
        for cap in caps
        if cap not in placed and cap not in flagged
    )
    return {c: placed[c] for c in caps if c in placed}


def _manager(
    session: Session, seat: Seat, wanted: str | None, problems: list[Problem]
) -> tuple[Seat | None, list[Seat]]:
    reports = list(session.scalars(select(Seat).where(Seat.reports_to_id == seat.id).order_by(Seat.position, Seat.id)))
    if not reports:
        return None, []
    wanted = (wanted or "").strip().lower() or seat.reports_to_id
    label = "its direct reports"
    if not wanted:
        problems.append(
            Problem(
                "reports_to",
                label,
                f"`{seat.id}` is at the top of the chart: name the seat its {len(reports)} direct reports move under",
            )
        )
        return None, reports
    manager = session.get(Seat, wanted)
    if manager is None:
        problems.append(Problem("reports_to", label, f"there is no seat `{wanted[:64]}`"))
    elif manager.status == "retired":
        problems.append(Problem("reports_to", label, f"seat `{wanted}` is retired"))
    elif manager.id in set(seat_order(session, seat.id)):
        problems.append(Problem("reports_to", label, f"`{wanted}` is below `{seat.id}`: reporting lines may not loop"))
    else:
        return manager, reports
    return None, reports


@dataclass
class HearingResult:
    hearing: Hearing
    seat: Seat
    moves: list[tuple[Capability, str | None]]
    manager: Seat | None
    reports: list[Seat]

    @property
    def retired(self) -> bool:
        return self.hearing.decision == "retire"


def retire(
    session: Session, actor: Actor, seat_id: str, given: HearingInput, now: dt.datetime | None = None
) -> HearingResult:
    """Record a hearing on a seat; when it decides `retire`, retire the seat and move what it held.

    The hearing gives reason, findings, recommendation and decision. When it decides
    `retire`, every `owns` topic and accountability of the seat gets an explicit place: a
    seat that is not retired (not this one), or `-`, dropped on purpose, recorded as such.
    Nothing is left behind silently. Its direct reports move under its manager unless the
    hearing names another seat (at the top of the chart it must). Its metrics stay with it,
    with their values: a retired seat takes no new values, and its record is kept."""
    now = now or utcnow()
    org = lock_chart(session)
    seat = live_seat(session, seat_id)
    require_above(session, actor, reporting_line(session, seat), f"hold a hearing on seat `{seat.id}`")
    problems: list[Problem] = []
    reason = _text(given.reason, "reason", problems)
    findings = _text(given.findings, "findings", problems)
    recommendation = _text(given.recommendation, "recommendation", problems)
    decision = (given.decision or "").strip().lower()
    if decision not in HEARING_DECISIONS:
        problems.append(Problem("decision", "decision", "choose retire or keep"))
    placed: dict[Capability, str | None] = {}
    manager: Seat | None = None
    reports: list[Seat] = []
    if decision == "retire":
        placed = _placements(session, seat, given.moves, problems)
        manager, reports = _manager(session, seat, given.reports_to, problems)
    if problems:
        raise HearingErrors(seat.id, problems)

    holder_id = seat.holder_id
    hearing = Hearing(
        seat_id=seat.id,
        reason=reason,
        findings=findings,
        recommendation=recommendation,
        decision=decision,
        held_by=actor.audit_name,
        held_at=now,
        holder_id=holder_id,
        moves=[{"capability": c.text, "kind": c.kind, "to_seat": to} for c, to in placed.items()],
        manager_id=manager.id if manager else None,
        reports=[r.id for r in reports],
    )
    session.add(hearing)
    session.flush()
    if decision == "keep":
        audit.record(session, actor.audit_name, "seat.kept", f"seat:{seat.id}", hearing=hearing.id, reason=reason)
        return HearingResult(hearing, seat, [], None, [])

    _move(session, seat, placed)
    if holder_id is not None:
        session.execute(
            update(SeatHolding)
            .where(SeatHolding.seat_id == seat.id, SeatHolding.ended_at.is_(None))
            .values(ended_at=now)
            .execution_options(synchronize_session=False)
        )
    seat.holder_id, seat.status = None, "retired"
    # Without a problem, direct reports always come with the seat they move under.
    if manager is not None:
        for report in reports:
            report.reports_to_id = manager.id
    new_revision(org)
    session.flush()
    moves = [{"capability": c.text, "kind": c.kind, "to_seat": to} for c, to in placed.items()]
    audit.record(
        session,
        actor.audit_name,
        "seat.retired",
        f"seat:{seat.id}",
        hearing=hearing.id,
        holder=holder_id,
        reason=reason,
        moves=moves,
        manager=manager.id if manager else None,
        reports=[r.id for r in reports],
        revision=org.revision,
    )
    for target in dict.fromkeys(to for to in placed.values() if to):
        got = [c for c, to in placed.items() if to == target]
        audit.record(
            session,
            actor.audit_name,
            "seat.received",
            f"seat:{target}",
            hearing=hearing.id,
            **{
                "from": seat.id,
                "owns": [c.text for c in got if c.kind == "owns"],
                "accountabilities": [c.text for c in got if c.kind == "accountability"],
            },
        )
    if manager is not None:
        for report in reports:
            audit.record(
                session,
                actor.audit_name,
                "seat.manager_changed",
                f"seat:{report.id}",
                hearing=hearing.id,
                **{"from": seat.id, "to": manager.id},
            )
    for s in {seat, *reports}:
        session.refresh(s)
    follow_chart(session, actor.audit_name, now)  # the seat's waiting drafts are withdrawn; routes above may move
    return HearingResult(hearing, seat, list(placed.items()), manager, reports)


def _move(session: Session, seat: Seat, placed: dict[Capability, str | None]) -> None:
    rows = {o.topic: o for o in seat.owns}
    for cap, to in placed.items():
        if cap.kind == "owns":
            row = rows[cap.text]
            if to is None:
                session.delete(row)
                continue
            # The row itself moves: its normalized topic stays unique across the chart.
            row.seat_id = to
            row.position = (session.scalar(select(func.max(SeatOwns.position)).where(SeatOwns.seat_id == to)) or 0) + 1
            session.flush()
        elif to is not None:
            target = session.get_one(Seat, to)  # `_target` found it, not retired, before anything moved
            if cap.text not in (target.accountabilities or []):
                target.accountabilities = [*(target.accountabilities or []), cap.text]
    seat.accountabilities = []
    session.flush()
    session.expire(seat, ["owns"])
    for to in {to for to in placed.values() if to}:
        session.expire(session.get_one(Seat, to), ["owns"])
