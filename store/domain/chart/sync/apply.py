"""Applying a chart file to the store in one transaction, audited, with waiting drafts following it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.chart.chartfile.cross_checks import normalize_topic
from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.rule_spec import RuleSpec
from otp_bot.store.domain.chart.chartfile.schema import (
    ROUTE_TIMINGS,
    ApprovalSpec,
    ChartSpec,
    HolderSpec,
    OrgSpec,
    PolicySpec,
    ReviewSpec,
    ScheduleSpec,
    SeatSpec,
)
from otp_bot.store.domain.chart.durations import parse_minutes
from otp_bot.store.domain.chart.locks import lock_chart_if_any
from otp_bot.store.domain.chart.sync.diff import Change, diff_charts
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.chart.sync.history_guard import history_problems
from otp_bot.store.domain.gate.follow_chart import Consequence, follow_chart
from otp_bot.store.domain.scorecard.goals import parse_goal
from otp_bot.store.models import (
    ApprovalRoute,
    Holder,
    Metric,
    Org,
    Policy,
    ReviewSetup,
    Rule,
    Schedule,
    Seat,
    SeatHolding,
    SeatOwns,
)

_IN_CHUNK = 1000  # ids per `IN (...)`: well under every backend's limit on bound parameters
Named = TypeVar("Named", Policy, Schedule)
NamedSpec = TypeVar("NamedSpec", PolicySpec, ScheduleSpec)


@dataclass
class ImportResult:
    changes: list[Change]
    revision: int
    drafts: list[Consequence] = field(default_factory=list)  # waiting drafts withdrawn or re-routed by the change

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def apply_chart(session: Session, new: ChartSpec, *, actor: str, source: str, dry_run: bool = False) -> ImportResult:
    if not dry_run:
        # Before the chart is read: the changes are worked out from the chart as it is, not
        # as it was before a hearing or another import that commits meanwhile (locks.py).
        lock_chart_if_any(session)
    old = export_chart(session)
    changes = diff_charts(old, new)
    org = session.get(Org, 1)
    if not changes or dry_run:
        return ImportResult(changes, org.revision if org else 0)
    if old is not None and (problems := history_problems(session, old, new)):
        raise ChartErrors(source, problems)

    now = dt.datetime.now(dt.UTC)
    org = _update_org(session, org, new.org)
    holders = _upsert_holders(session, new.holders)
    seats = _upsert_seats(session, new.seats, now)
    _replace_metrics(session, new.seats)
    # Removed seats and their holdings go before removed holders: they refer to them.
    new_seat_ids = {s.id for s in new.seats}
    for sid, seat in seats.items():
        if sid not in new_seat_ids:
            session.execute(delete(SeatHolding).where(SeatHolding.seat_id == sid))
            session.delete(seat)
    session.flush()
    # The review's facilitator is set before holders go: the old one may be among them.
    _set_review(session, new.review)
    new_holder_ids = {h.id for h in new.holders}
    for hid, holder in holders.items():
        if hid not in new_holder_ids:
            session.delete(holder)

    _replace_routes(session, new.approvals)
    _replace_named(
        session,
        Policy,
        {p.name: (i, p) for i, p in enumerate(new.policies)},
        lambda row, i, p: _set(
            row,
            hold_kind=p.hold_kind,
            while_flag=p.while_flag,
            winner=p.winner,
            description=p.description,
            extra=p.extra,
            position=i,
        ),
    )
    _replace_named(
        session,
        Schedule,
        {s.key: (i, s) for i, s in enumerate(new.schedules)},
        lambda row, i, s: _set(
            row,
            post=s.post,
            channel=s.channel,
            cron=s.cron,
            timezone=s.timezone,
            working_days=s.working_days,
            holidays=s.holidays,
            grace=parse_minutes(s.grace) if s.grace else None,
            position=i,
        ),
    )
    _replace_rules(session, new.rules)
    session.flush()

    audit.record_many(
        session,
        actor,
        (
            (
                f"chart.{change.entity}.{change.action}",
                f"{change.entity}:{change.id}",
                {"source": source, "revision": org.revision, "change": change.describe()},
            )
            for change in changes
        ),
    )
    # Waiting drafts follow the new chart in the same transaction: a retired seat's drafts are
    # withdrawn, a changed route moves its drafts.
    return ImportResult(changes, org.revision, follow_chart(session, actor, now))


def _update_org(session: Session, org: Org | None, spec: OrgSpec) -> Org:
    if org is None:
        org = Org(id=1, name=spec.name, timezone=spec.timezone, revision=0)
        session.add(org)
    org.name, org.timezone = spec.name, spec.timezone
    org.coordination_channel = spec.coordination_channel
    org.decimal_mark = spec.decimal_mark
    org.currency = spec.currency
    org.revision += 1
    org.etag = uuid.uuid4().hex
    return org


def _upsert_holders(session: Session, specs: list[HolderSpec]) -> dict[str, Holder]:
    """Every holder as the file says; the ones it leaves out are returned with the rest."""
    holders = {h.id: h for h in session.scalars(select(Holder))}
    # Humans first (their own supervisors come after, once all exist); then agents, whose
    # supervisor is a human that exists by then, so the agent_has_supervisor check holds.
    for kind in ("human", "agent"):
        for pos, spec in enumerate(specs):
            if spec.kind != kind:
                continue
            h = holders.get(spec.id) or Holder(id=spec.id)
            h.name, h.kind, h.slack_user, h.email, h.position = spec.name, spec.kind, spec.slack_user, spec.email, pos
            h.supervisor_id = spec.supervisor if kind == "agent" else None
            holders[spec.id] = h
            session.add(h)
        session.flush()
    for spec in specs:
        holders[spec.id].supervisor_id = spec.supervisor
    return holders


def _upsert_seats(session: Session, specs: list[SeatSpec], now: dt.datetime) -> dict[str, Seat]:
    """Every seat as the file says, with its holder, reporting line and topics; the ones it
    leaves out are returned with the rest."""
    seats = {s.id: s for s in session.scalars(select(Seat))}
    # Free every `owns` topic first, so a topic can move between seats in one import.
    session.execute(delete(SeatOwns))
    for seat in seats.values():
        seat.reports_to_id = None
    session.flush()
    moved: dict[str, str | None] = {}  # seat id -> its new holder, for the seats changing hands
    for pos, spec in enumerate(specs):
        found = seats.get(spec.id)
        if found is None:
            found = seats[spec.id] = Seat(id=spec.id, holder_id=None)
            session.add(found)
        found.title, found.status, found.customer_facing, found.position = (
            spec.title,
            spec.effective_status,
            spec.customer_facing,
            pos,
        )
        found.authority = spec.authority
        found.aliases, found.accountabilities, found.does_not_own = (
            spec.aliases,
            spec.accountabilities,
            spec.does_not_own,
        )
        if found.holder_id != spec.holder:
            moved[spec.id] = spec.holder
    _reassign(session, seats, moved, now)
    for spec in specs:
        seats[spec.id].reports_to_id = spec.reports_to
    session.flush()
    owns = [
        {"seat_id": spec.id, "topic": t, "normalized": normalize_topic(t), "position": i}
        for spec in specs
        for i, t in enumerate(spec.owns)
    ]
    if owns:
        session.execute(insert(SeatOwns), owns)
    return seats


def _replace_metrics(session: Session, seats: list[SeatSpec]) -> None:
    metrics = {m.id: m for m in session.scalars(select(Metric))}
    new_metric_ids = set()
    for spec in seats:
        for pos, mspec in enumerate(spec.metrics):
            new_metric_ids.add(mspec.id)
            metric = metrics.get(mspec.id) or Metric(id=mspec.id)
            goal = parse_goal(mspec.goal, mspec.measure)
            metric.seat_id, metric.name, metric.position = spec.id, mspec.name, pos
            metric.kind, metric.unit, metric.currency = mspec.measure
            metric.goal_op, metric.goal_value, metric.goal_high = goal.op, goal.value, goal.high
            metric.cadence, metric.aggregation, metric.formula = mspec.cadence, mspec.aggregation, mspec.formula
            metric.gate_figure, metric.review_figure = mspec.gate, mspec.review
            session.add(metric)
    session.flush()
    for mid, metric in metrics.items():
        if mid not in new_metric_ids:
            session.delete(metric)
    session.flush()


def _replace_routes(session: Session, routes: list[ApprovalSpec]) -> None:
    session.execute(delete(ApprovalRoute))
    session.add_all(
        ApprovalRoute(
            seats=a.seats,
            kinds=a.kinds,
            channel=a.channel,
            approvers=a.approvers,
            usergroup=a.usergroup,
            required=a.required,
            max_rounds=a.max_rounds,
            autonomy=a.autonomy.model_dump() if a.autonomy else None,
            position=i,
            **{name: parse_minutes(text) for name in ROUTE_TIMINGS if (text := getattr(a, name))},
        )
        for i, a in enumerate(routes)
    )


def _set(row: object, **values: Any) -> None:
    for key, value in values.items():
        setattr(row, key, value)


def _replace_named(
    session: Session,
    model: type[Named],
    wanted: dict[str, tuple[int, NamedSpec]],
    fill: Callable[[Named, int, NamedSpec], None],
) -> None:
    existing = {row.name: row for row in session.scalars(select(model))}
    for name, row in existing.items():
        if name not in wanted:
            session.delete(row)
    for name, (i, spec) in wanted.items():
        row = existing.get(name) or model(name=name)
        fill(row, i, spec)
        session.add(row)


def _set_review(session: Session, spec: ReviewSpec | None) -> None:
    row = session.get(ReviewSetup, 1)
    if spec is None:
        if row is not None:
            session.delete(row)
            session.flush()
        return
    row = row or ReviewSetup(id=1)
    # The schema names the one scorecard schedule when the file does not; cross-checks refuse
    # a review without one, so by now it is set.
    assert spec.scorecard is not None
    row.schedule, row.facilitator_id = spec.scorecard, spec.facilitator
    row.attendees = list(spec.attendees or [])  # none: every holder of an active seat, as they are then
    row.headlines_ahead = parse_minutes(spec.headlines_ahead)
    session.add(row)
    session.flush()


def _replace_rules(session: Session, rules: list[RuleSpec]) -> None:
    existing = {row.id: row for row in session.scalars(select(Rule))}
    wanted = {r.id for r in rules}
    for rid, row in existing.items():
        if rid not in wanted:
            session.delete(row)
    for i, spec in enumerate(rules):
        row = existing.get(spec.id) or Rule(id=spec.id)
        _set(row, **spec.model_dump(exclude={"id"}), position=i)
        session.add(row)


def _reassign(session: Session, seats: dict[str, Seat], moved: dict[str, str | None], now: dt.datetime) -> None:
    """Move seats to their new holders, closing the old holdings so history shows who held
    each seat when."""
    if not moved:
        session.flush()
        return
    held = [sid for sid in moved if seats[sid].holder_id is not None]
    with session.no_autoflush:  # the seats' new status must not reach the database before their new holders
        for start in range(0, len(held), _IN_CHUNK):
            for holding in session.scalars(
                select(SeatHolding).where(
                    SeatHolding.seat_id.in_(held[start : start + _IN_CHUNK]), SeatHolding.ended_at.is_(None)
                )
            ):
                holding.ended_at = now
    for sid, holder_id in moved.items():
        seats[sid].holder_id = holder_id
    # Flush the closed holdings and the seat rows before the new holdings: the partial unique
    # index allows one open holding per seat, and a holding refers to its seat.
    session.flush()
    opened = [
        {"seat_id": sid, "holder_id": holder_id, "started_at": now}
        for sid, holder_id in moved.items()
        if holder_id is not None
    ]
    if opened:
        session.execute(insert(SeatHolding), opened)
