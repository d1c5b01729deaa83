"""Seat lifecycle: hire a seat, assign or vacate its holder, retire it after a hearing.

Who may: an operator (the CLI), or a person holding a seat above the seat in the
reporting line. A seat at the top of the chart (no manager) is hired, assigned or retired
by an operator or by a person holding a top-level seat. Agents never change the chart,
even from a seat above: hiring and retiring are human decisions.

Retiring takes a hearing (reason, findings, recommendation, decision). When it decides
`retire`, every `owns` topic and accountability of the seat gets an explicit place: a seat
that is not retired (not this one), or `-`, dropped on purpose, recorded as such. Nothing
is left behind silently. Its direct reports move under its manager unless the hearing names
another seat (at the top of the chart it must). Its metrics stay with it, with their
values: a retired seat takes no new values, and its record is kept.

Every change is one transaction, bumps the chart revision and etag as an import does (so
who-owns sees a moved topic at once), and is in the audit log; the briefing reads these:

    seat.hired            seat:<id>      title, reports_to, holder, owns
    seat.assigned         seat:<id>      holder, previous
    seat.vacated          seat:<id>      previous
    seat.retired          seat:<id>      hearing, holder, moves, manager, reports
    seat.kept             seat:<id>      hearing (a hearing that decided to keep the seat)
    seat.received         seat:<target>  hearing, from, owns, accountabilities
    seat.manager_changed  seat:<report>  hearing, from, to
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.chartfile.cross_checks import normalize_topic
from otp_bot.store.domain.chart.chartfile.errors import location
from otp_bot.store.domain.chart.chartfile.yaml_text import parse_yaml
from otp_bot.store.domain.chart.reading import get_holder, get_seat, reporting_line, seat_order
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid, NotFound
from otp_bot.store.domain.gate.follow_chart import follow_chart
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import HEARING_DECISIONS, AuditEntry, Hearing, Holder, Org, Seat, SeatHolding, SeatOwns

SEAT_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
DROP = "-"  # where a capability goes when the hearing drops it on purpose
TEXT_LIMIT = 3000  # reason, findings, recommendation: what one Slack text input holds


# ---------------------------------------------------------------- who may


def _require_above(session: Session, actor: Actor, line: list[Seat], what: str) -> None:
    """`line`: the seats above the one acted on, nearest first; empty at the top of the chart."""
    if actor.operator:
        return
    if actor.holder_id is None:
        raise Forbidden(f"you are not on the chart, so you can read it but not {what}")
    holder = session.get(Holder, actor.holder_id)
    if holder is None or holder.kind != "human":
        raise Forbidden(f"only people {what}; an agent cannot, even from a seat above")
    held = actor.held_seat_ids(session)
    if line:
        if held & {s.id for s in line}:
            return
        people = [f"{s.holder.name} ({s.title})" for s in line if s.holder is not None and s.holder.kind == "human"]
        raise Forbidden(
            f"only a person above it in the reporting line or an operator can {what}"
            + (f": {', '.join(people[:4])}" if people else "")
        )
    tops = session.scalar(
        select(func.count())
        .select_from(Seat)
        .where(Seat.reports_to_id.is_(None), Seat.status != "retired", Seat.holder_id == actor.holder_id)
    )
    if not tops:
        raise Forbidden(f"at the top of the chart only the holder of a top-level seat or an operator can {what}")


def _lock_chart(session: Session) -> Org:
    # One chart change at a time: two hearings must not each move a topic to the seat the
    # other is retiring. SQLite writers are serialised already; PostgreSQL locks the row.
    # populate_existing: the session may hold the org from before the lock (finding the
    # caller reads it), and the revision bumped from must be the one just locked.
    org = session.scalar(select(Org).where(Org.id == 1).with_for_update().execution_options(populate_existing=True))
    if org is None:
        raise NotFound("there is no chart yet", hint="import one with `otp chart import FILE`")
    return org


def _changed(org: Org) -> None:
    # Caches (who-owns) key on the etag: a new one makes them rebuild at once.
    org.revision += 1
    org.etag = uuid.uuid4().hex


def _live_seat(session: Session, seat_id: str) -> Seat:
    seat = get_seat(session, seat_id)
    if seat.status == "retired":
        raise Conflict(f"seat `{seat.id}` is retired", hint=f"`/otp history {seat.id}` shows its record")
    return seat


# ---------------------------------------------------------------- hire


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
    org = _lock_chart(session)
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
    manager = _live_seat(session, reports_to) if reports_to else None
    _require_above(session, actor, [manager, *reporting_line(session, manager)] if manager else [], "hire seats here")
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
    _changed(org)
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


# ---------------------------------------------------------------- assign


@dataclass
class Assignment:
    seat: Seat
    previous: str | None  # the holder before, if any
    changed: bool


def assign(
    session: Session, actor: Actor, seat_id: str, holder_id: str | None, now: dt.datetime | None = None
) -> Assignment:
    """Give a seat a holder (None: vacate it). The open holding closes, a new one opens."""
    now = now or utcnow()
    org = _lock_chart(session)
    seat = _live_seat(session, seat_id)
    verb = "assign" if holder_id else "vacate"
    _require_above(session, actor, reporting_line(session, seat), f"{verb} seat `{seat.id}`")
    person = get_holder(session, holder_id) if holder_id else None
    previous = seat.holder_id
    if (person.id if person else None) == previous:
        return Assignment(seat, previous, changed=False)
    if previous is not None:
        open_holding = session.scalar(
            select(SeatHolding).where(SeatHolding.seat_id == seat.id, SeatHolding.ended_at.is_(None))
        )
        if open_holding is not None:
            open_holding.ended_at = now
    seat.holder_id = person.id if person else None
    seat.status = "active" if person else "vacant"
    # The closed holding first: the partial unique index allows one open holding per seat.
    session.flush()
    if person:
        session.add(SeatHolding(seat_id=seat.id, holder_id=person.id, started_at=now))
    _changed(org)
    session.flush()
    session.refresh(seat)
    if person:
        audit.record(
            session,
            actor.audit_name,
            "seat.assigned",
            f"seat:{seat.id}",
            holder=person.id,
            previous=previous,
            revision=org.revision,
        )
    else:
        audit.record(
            session, actor.audit_name, "seat.vacated", f"seat:{seat.id}", previous=previous, revision=org.revision
        )
    # The previous holder's waiting drafts no longer speak for the seat: withdrawn, saying why.
    follow_chart(session, actor.audit_name, now)
    return Assignment(seat, previous, changed=True)


def vacate(session: Session, actor: Actor, seat_id: str, now: dt.datetime | None = None) -> Assignment:
    return assign(session, actor, seat_id, None, now)


# ---------------------------------------------------------------- hearings


@dataclass(frozen=True)
class Capability:
    """An `owns` topic or an accountability of a seat: what a hearing gives a new place."""

    kind: str  # owns | accountability
    text: str

    @property
    def key(self) -> str:
        # Stable for the same text, so a form opened before a chart change cannot place
        # one capability under another's name.
        prefix = "own" if self.kind == "owns" else "acc"
        return f"{prefix}-{hashlib.sha256(self.text.encode()).hexdigest()[:12]}"

    @property
    def label(self) -> str:
        return f"owns “{self.text}”" if self.kind == "owns" else f"accountability “{self.text}”"


def capabilities(seat: Seat) -> list[Capability]:
    return [Capability("owns", o.topic) for o in seat.owns] + [
        Capability("accountability", a) for a in dict.fromkeys(seat.accountabilities or [])
    ]


@dataclass
class HearingInput:
    reason: str = ""
    findings: str = ""
    recommendation: str = ""
    decision: str = ""
    # (capability key or its text, seat id or "-" to drop it): one per capability to retire
    moves: list[tuple[str, str]] = field(default_factory=list)
    reports_to: str | None = None  # where its direct reports go (default: its manager)


@dataclass(frozen=True)
class Problem:
    field: str  # reason, findings, recommendation, decision, reports_to, or a capability's key
    label: str
    message: str


class HearingErrors(Invalid):
    """Everything wrong with a hearing, each problem tied to its field."""

    def __init__(self, seat_id: str, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [f"{p.label}: {p.message}" for p in problems]
        super().__init__(f"the hearing on `{seat_id}` was not recorded (nothing changed):\n" + "\n".join(lines))

    def by_field(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for p in self.problems:
            out.setdefault(p.field, p.message)
        return out


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
    seat = _live_seat(session, seat_id)
    _require_above(session, actor, reporting_line(session, seat), f"hold a hearing on seat `{seat.id}`")
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
    for cap in caps:
        if cap not in placed and cap not in flagged:
            problems.append(Problem(cap.key, cap.label, "choose the seat that takes it, or drop it"))
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
    """Record a hearing on a seat; when it decides `retire`, retire the seat and move what it held."""
    now = now or utcnow()
    org = _lock_chart(session)
    seat = _live_seat(session, seat_id)
    _require_above(session, actor, reporting_line(session, seat), f"hold a hearing on seat `{seat.id}`")
    problems: list[Problem] = []
    reason = _text(given.reason, "reason", problems)
    findings = _text(given.findings, "findings", problems)
    recommendation = _text(given.recommendation, "recommendation", problems)
    decision = (given.decision or "").strip().lower()
    if decision not in HEARING_DECISIONS:
        problems.append(Problem("decision", "decision", "choose retire or keep"))
    placed: dict[Capability, str | None] = {}
    manager, reports = None, []
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
            SeatHolding.__table__.update()
            .where(SeatHolding.seat_id == seat.id, SeatHolding.ended_at.is_(None))
            .values(ended_at=now)
        )
    seat.holder_id, seat.status = None, "retired"
    for report in reports:
        report.reports_to_id = manager.id
    _changed(org)
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
            target = session.get(Seat, to)
            if cap.text not in (target.accountabilities or []):
                target.accountabilities = [*(target.accountabilities or []), cap.text]
    seat.accountabilities = []
    session.flush()
    session.expire(seat, ["owns"])
    for to in {to for to in placed.values() if to}:
        session.expire(session.get(Seat, to), ["owns"])


# ---------------------------------------------------------------- hearing files (the CLI)


class _MoveSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    capability: str = Field(min_length=1)
    to_seat: str = Field(min_length=1)  # a seat id, or "-" to drop it


class _HearingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = ""
    findings: str = ""
    recommendation: str = ""
    decision: str = ""
    moves: list[_MoveSpec] = Field(default_factory=list)
    reports_to: str | None = None


def hearing_from_text(text: str, source: str) -> HearingInput:
    """A hearing file (YAML or JSON): reason, findings, recommendation, decision,
    moves: [{capability, to_seat}], and optionally reports_to."""
    data = parse_yaml(text, source)
    try:
        spec = _HearingSpec.model_validate(data if data is not None else {})
    except ValidationError as exc:
        lines = [f"{source}: {location(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise Invalid(
            f"{source} is not a hearing file:\n" + "\n".join(lines),
            hint="keys: reason, findings, recommendation, decision, moves [{capability, to_seat}], reports_to",
        ) from None
    return HearingInput(
        spec.reason,
        spec.findings,
        spec.recommendation,
        spec.decision,
        [(m.capability, m.to_seat) for m in spec.moves],
        spec.reports_to,
    )


# ---------------------------------------------------------------- history


@dataclass(frozen=True)
class Holding:
    holder: str  # the holder's name
    kind: str
    started_at: dt.datetime
    ended_at: dt.datetime | None


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    who: str
    action: str
    detail: dict[str, Any]


@dataclass
class SeatHistory:
    seat: Seat
    holdings: list[Holding]  # oldest first
    hearings: list[Hearing]  # oldest first
    events: list[Event]  # the newest `limit` audit entries about the seat, oldest first
    more_events: int


def history(session: Session, seat_id: str, limit: int = 30) -> SeatHistory:
    seat = get_seat(session, seat_id)
    holdings = [
        Holding(name, kind, start, end)
        for name, kind, start, end in session.execute(
            select(Holder.name, Holder.kind, SeatHolding.started_at, SeatHolding.ended_at)
            .join(Holder, Holder.id == SeatHolding.holder_id)
            .where(SeatHolding.seat_id == seat.id)
            .order_by(SeatHolding.started_at, SeatHolding.id)
        )
    ]
    hearings = list(session.scalars(select(Hearing).where(Hearing.seat_id == seat.id).order_by(Hearing.id)))
    subject = f"seat:{seat.id}"
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.subject == subject)) or 0
    entries = list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.id.desc()).limit(limit)
        )
    )[::-1]
    return SeatHistory(
        seat,
        holdings,
        hearings,
        [Event(e.at, who(session, e.actor), e.action, e.detail or {}) for e in entries],
        max(0, total - len(entries)),
    )


def who(session: Session, audit_name: str) -> str:
    """A person's name for an audit actor (`holder:bogdan` → Bogdan), `an operator` for the CLI."""
    kind, _, name = audit_name.partition(":")
    if kind == "holder":
        holder = session.get(Holder, name)
        return holder.name if holder else name
    if kind == "operator":
        return "an operator" if name in ("operator", "cli", "") else f"operator {name}"
    return audit_name
