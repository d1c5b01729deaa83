"""Chart as code: export the stored chart as a `ChartSpec`, diff a file against it, apply.

Import is declarative and idempotent: the file says what the chart is. The same file
twice is "no changes". Everything happens in the caller's transaction, so an error
anywhere leaves the store as it was.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.chart.chartfile import (
    ApprovalSpec,
    ChartErrors,
    ChartSpec,
    HolderSpec,
    MetricSpec,
    OrgSpec,
    PolicySpec,
    ScheduleSpec,
    SeatSpec,
    normalize_topic,
)
from otp_bot.store.domain.chart.durations import format_minutes, parse_minutes
from otp_bot.store.domain.chart.route_diff import route_changes
from otp_bot.store.domain.chart.rule_spec import RuleSpec
from otp_bot.store.domain.gate.follow_chart import Consequence, follow_chart
from otp_bot.store.domain.scorecard.goals import Goal, parse_goal
from otp_bot.store.domain.scorecard.measures import measure_of
from otp_bot.store.models import (
    ApprovalRoute,
    Hearing,
    Holder,
    Message,
    Metric,
    MetricValue,
    Org,
    Policy,
    Rule,
    Schedule,
    Seat,
    SeatHolding,
    SeatOwns,
)

# ---------------------------------------------------------------- export


def export_chart(session: Session) -> ChartSpec | None:
    org = session.get(Org, 1)
    if org is None:
        return None
    holders = session.scalars(select(Holder).order_by(Holder.position, Holder.id)).all()
    seats = session.scalars(select(Seat).order_by(Seat.position, Seat.id)).all()
    return ChartSpec(
        org=OrgSpec(
            name=org.name,
            timezone=org.timezone,
            coordination_channel=org.coordination_channel,
            decimal_mark=org.decimal_mark,
            currency=org.currency,
        ),
        holders=[
            HolderSpec(
                id=h.id, name=h.name, kind=h.kind, slack_user=h.slack_user, email=h.email, supervisor=h.supervisor_id
            )
            for h in holders
        ],
        seats=[_seat_spec(s) for s in seats],
        approvals=[
            ApprovalSpec(
                seats=a.seats,
                kinds=a.kinds,
                channel=a.channel,
                approvers=a.approvers,
                usergroup=a.usergroup,
                required=a.required,
                **_route_timings(a),
            )
            for a in session.scalars(select(ApprovalRoute).order_by(ApprovalRoute.position))
        ],
        policies=[
            PolicySpec(
                name=p.name,
                hold_kind=p.hold_kind,
                while_flag=p.while_flag,
                winner=p.winner,
                description=p.description,
                extra=p.extra,
            )
            for p in session.scalars(select(Policy).order_by(Policy.position))
        ],
        schedules=[
            ScheduleSpec(
                name=s.name if s.name != s.post else None,
                post=s.post,
                channel=s.channel,
                cron=s.cron,
                timezone=s.timezone,
                working_days=s.working_days,
                holidays=s.holidays,
                grace=format_minutes(s.grace) if s.grace else None,
            )
            for s in session.scalars(select(Schedule).order_by(Schedule.position))
        ],
        rules=[
            RuleSpec(
                id=r.id,
                section=r.section,
                rule=r.rule,
                why=r.why,
                failure_mode=r.failure_mode,
                confidence=r.confidence,
                confidence_score=r.confidence_score,
                evidence=r.evidence,
                evidence_reference=r.evidence_reference,
                scope=r.scope,
                seats=r.seats,
                extra=r.extra,
            )
            for r in session.scalars(select(Rule).order_by(Rule.position))
        ],
    )


def metric_goal(m: Metric) -> Goal:
    return Goal(m.goal_op, m.goal_value, m.goal_high)


def _seat_spec(s: Seat) -> SeatSpec:
    derived = "active" if s.holder_id else "vacant"
    return SeatSpec(
        id=s.id,
        title=s.title,
        holder=s.holder_id,
        reports_to=s.reports_to_id,
        status=None if s.status == derived else s.status,
        customer_facing=s.customer_facing,
        authority=s.authority,
        aliases=s.aliases,
        accountabilities=s.accountabilities,
        owns=[o.topic for o in s.owns],
        does_not_own=s.does_not_own,
        metrics=[
            MetricSpec(
                id=m.id,
                name=m.name,
                kind=m.kind,
                unit=m.unit,
                currency=m.currency,
                goal=metric_goal(m).to_text(measure_of(m)),
                cadence=m.cadence,
                aggregation=m.aggregation,
                formula=m.formula,
            )
            for m in s.metrics
        ],
    )


# ---------------------------------------------------------------- diff


@dataclass
class Change:
    action: str  # added, removed, changed
    entity: str  # org, holder, seat, metric, approvals, policy, schedule
    id: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)  # the change in words, where fields would not read well

    def describe(self) -> str:
        sign = {"added": "+", "removed": "-", "changed": "~"}[self.action]
        if self.words:
            return f"{sign} {self.entity}: " + "; ".join(self.words)
        if self.action != "changed":
            return f"{sign} {self.entity} {self.id} {self.action}"
        if self.entity == "rule":  # a rule's fields are paragraphs: name them, the diff would not read
            return f"{sign} rule {self.id}: {', '.join(name.replace('_', ' ') for name in self.fields)} changed"
        parts = [f"{name} {_show(old)} → {_show(new)}" for name, (old, new) in self.fields.items()]
        return f"{sign} {self.entity} {self.id}: " + "; ".join(parts)


def _show(value: Any) -> str:
    if value is None or value == []:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _field_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (old.get(k), new.get(k)) for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)}


def _dump(spec: Any, exclude: set[str] | None = None) -> dict[str, Any]:
    return spec.model_dump(mode="json", exclude=exclude)


def _keyed(entity: str, old: dict[str, Any], new: dict[str, Any], exclude: set[str] | None = None) -> list[Change]:
    changes: list[Change] = []
    for key, spec in new.items():
        if key not in old:
            changes.append(Change("added", entity, key))
        elif fields := _field_changes(_dump(old[key], exclude), _dump(spec, exclude)):
            changes.append(Change("changed", entity, key, fields))
    changes += [Change("removed", entity, key) for key in old if key not in new]
    return changes


def diff_charts(old: ChartSpec | None, new: ChartSpec) -> list[Change]:
    if old is None:
        old = ChartSpec(org=OrgSpec(name=new.org.name, timezone=new.org.timezone))
        changes = [Change("added", "org", new.org.name)]
    else:
        changes = []
        if fields := _field_changes(_dump(old.org), _dump(new.org)):
            changes.append(Change("changed", "org", old.org.name, fields))
    changes += _keyed("holder", {h.id: h for h in old.holders}, {h.id: h for h in new.holders})
    # A seat's status is compared as what it means, not as spelled.
    old_seats = {s.id: s.model_copy(update={"status": s.effective_status}) for s in old.seats}
    new_seats = {s.id: s.model_copy(update={"status": s.effective_status}) for s in new.seats}
    changes += _keyed("seat", old_seats, new_seats, exclude={"metrics"})
    old_metrics = {m.id: (s.id, m) for s in old.seats for m in s.metrics}
    new_metrics = {m.id: (s.id, m) for s in new.seats for m in s.metrics}
    for c in _keyed("metric", {k: v[1] for k, v in old_metrics.items()}, {k: v[1] for k, v in new_metrics.items()}):
        changes.append(c)
    for mid, (seat_id, _) in new_metrics.items():
        if mid in old_metrics and old_metrics[mid][0] != seat_id:
            changes.append(Change("changed", "metric", mid, {"seat": (old_metrics[mid][0], seat_id)}))
    if [_dump(a) for a in old.approvals] != [_dump(a) for a in new.approvals]:
        changes.append(
            Change(
                "changed",
                "approvals",
                "routes",
                {"routes": (len(old.approvals), len(new.approvals))},
                words=route_changes(old.approvals, new.approvals),
            )
        )
    changes += _keyed("policy", {p.name: p for p in old.policies}, {p.name: p for p in new.policies})
    changes += _keyed("schedule", {s.key: s for s in old.schedules}, {s.key: s for s in new.schedules})
    changes += _keyed("rule", {r.id: r for r in old.rules}, {r.id: r for r in new.rules})
    if not changes and _order(old) != _order(new):
        changes.append(Change("changed", "chart", "order", {"order": ("as stored", "as in the file")}))
    return changes


def _order(chart: ChartSpec) -> tuple[Any, ...]:
    return (
        [h.id for h in chart.holders],
        [s.id for s in chart.seats],
        [[m.id for m in s.metrics] for s in chart.seats],
        [p.name for p in chart.policies],
        [s.key for s in chart.schedules],
        [r.id for r in chart.rules],
    )


# ---------------------------------------------------------------- apply


@dataclass
class ImportResult:
    changes: list[Change]
    revision: int
    drafts: list[Consequence] = field(default_factory=list)  # waiting drafts withdrawn or re-routed by the change

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _history_problems(session: Session, old: ChartSpec, new: ChartSpec) -> list[tuple[str, str]]:
    """Removing what has history would destroy the record; ask for `status: retired` instead."""
    problems = []
    new_seats = {s.id for s in new.seats}
    new_metrics = {m.id: m for s in new.seats for m in s.metrics}
    new_holders = {h.id for h in new.holders}
    for s in old.seats:
        if s.id not in new_seats and session.scalar(
            select(func.count()).select_from(SeatHolding).where(SeatHolding.seat_id == s.id)
        ):
            problems.append(
                (
                    "seats",
                    f"seat {s.id!r} is missing from the file but has a holding history; keep it with `status: retired`",
                )
            )
        elif s.id not in new_seats and session.scalar(
            select(func.count())
            .select_from(Message)
            .where(or_(Message.from_seat_id == s.id, Message.to_seat_id == s.id))
        ):
            problems.append(
                ("seats", f"seat {s.id!r} is missing from the file but has messages; keep it with `status: retired`")
            )
        elif s.id not in new_seats and session.scalar(
            select(func.count()).select_from(Hearing).where(Hearing.seat_id == s.id)
        ):
            problems.append(
                (
                    "seats",
                    f"seat {s.id!r} is missing from the file but has a hearing on record; keep it with `status: retired`",
                )
            )
        for m in s.metrics:
            if m.id not in new_metrics and session.scalar(
                select(func.count()).select_from(MetricValue).where(MetricValue.metric_id == m.id)
            ):
                problems.append(
                    (
                        f"seats.{s.id}.metrics",
                        f"metric {m.id!r} is missing from the file but has recorded values; keep it",
                    )
                )
            elif (relabel := _relabels(m, new_metrics.get(m.id))) and session.scalar(
                select(func.count()).select_from(MetricValue).where(MetricValue.metric_id == m.id)
            ):
                problems.append(
                    (
                        f"seats.{s.id}.metrics",
                        f"metric {m.id!r} has recorded values {relabel}; changing "
                        "that would relabel them, not convert them: keep it, or add a new metric",
                    )
                )
    for h in old.holders:
        if h.id not in new_holders and session.scalar(
            select(func.count()).select_from(SeatHolding).where(SeatHolding.holder_id == h.id)
        ):
            problems.append(
                ("holders", f"holder {h.id!r} is missing from the file but has held seats; keep it in the file")
            )
    return problems


def _relabels(old: MetricSpec, new: MetricSpec | None) -> str | None:
    """How a metric's recorded values would be misread under its new measure, if they would.
    A duration may change its display unit: it is stored in minutes whatever it shows."""
    if new is None:
        return None
    if old.kind != new.kind and {old.kind, new.kind} != {"number", "score"}:  # the same plain numbers
        return f"as {old.kind}, and the file makes it {new.kind}"
    if old.currency != new.currency:
        return f"in {old.currency}, and the file says {new.currency}"
    return None


def apply_chart(session: Session, new: ChartSpec, *, actor: str, source: str, dry_run: bool = False) -> ImportResult:
    old = export_chart(session)
    changes = diff_charts(old, new)
    org = session.get(Org, 1)
    if not changes or dry_run:
        return ImportResult(changes, org.revision if org else 0)
    if old is not None and (problems := _history_problems(session, old, new)):
        raise ChartErrors(source, problems)

    now = dt.datetime.now(dt.UTC)
    if org is None:
        org = Org(id=1, name=new.org.name, timezone=new.org.timezone, revision=0)
        session.add(org)
    org.name, org.timezone = new.org.name, new.org.timezone
    org.coordination_channel = new.org.coordination_channel
    org.decimal_mark = new.org.decimal_mark
    org.currency = new.org.currency
    org.revision += 1
    org.etag = uuid.uuid4().hex

    holders = {h.id: h for h in session.scalars(select(Holder))}
    # Humans first (their own supervisors come after, once all exist); then agents, whose
    # supervisor is a human that exists by then, so the agent_has_supervisor check holds.
    for kind in ("human", "agent"):
        for pos, spec in enumerate(new.holders):
            if spec.kind != kind:
                continue
            h = holders.get(spec.id) or Holder(id=spec.id)
            h.name, h.kind, h.slack_user, h.email, h.position = spec.name, spec.kind, spec.slack_user, spec.email, pos
            h.supervisor_id = spec.supervisor if kind == "agent" else None
            holders[spec.id] = h
            session.add(h)
        session.flush()
    for spec in new.holders:
        holders[spec.id].supervisor_id = spec.supervisor

    seats = {s.id: s for s in session.scalars(select(Seat))}
    new_seat_ids = {s.id for s in new.seats}
    # Free every `owns` topic first, so a topic can move between seats in one import.
    session.execute(delete(SeatOwns))
    for seat in seats.values():
        seat.reports_to_id = None
    session.flush()
    for pos, spec in enumerate(new.seats):
        seat = seats.get(spec.id)
        if seat is None:
            seat = seats[spec.id] = Seat(id=spec.id, holder_id=None)
            session.add(seat)
        seat.title, seat.status, seat.customer_facing, seat.position = (
            spec.title,
            spec.effective_status,
            spec.customer_facing,
            pos,
        )
        seat.authority = spec.authority
        seat.aliases, seat.accountabilities, seat.does_not_own = spec.aliases, spec.accountabilities, spec.does_not_own
        _reassign(session, seat, spec.holder, now)
    session.flush()
    for spec in new.seats:
        seat = seats[spec.id]
        seat.reports_to_id = spec.reports_to
        session.add_all(
            SeatOwns(seat_id=spec.id, topic=t, normalized=normalize_topic(t), position=i)
            for i, t in enumerate(spec.owns)
        )

    metrics = {m.id: m for m in session.scalars(select(Metric))}
    new_metric_ids = set()
    for spec in new.seats:
        for pos, mspec in enumerate(spec.metrics):
            new_metric_ids.add(mspec.id)
            metric = metrics.get(mspec.id) or Metric(id=mspec.id)
            goal = parse_goal(mspec.goal, mspec.measure)
            metric.seat_id, metric.name, metric.position = spec.id, mspec.name, pos
            metric.kind, metric.unit, metric.currency = mspec.measure
            metric.goal_op, metric.goal_value, metric.goal_high = goal.op, goal.value, goal.high
            metric.cadence, metric.aggregation, metric.formula = mspec.cadence, mspec.aggregation, mspec.formula
            session.add(metric)
    session.flush()
    for mid, metric in metrics.items():
        if mid not in new_metric_ids:
            session.delete(metric)
    session.flush()
    for sid, seat in seats.items():
        if sid not in new_seat_ids:
            session.execute(delete(SeatHolding).where(SeatHolding.seat_id == sid))
            session.delete(seat)
    session.flush()
    new_holder_ids = {h.id for h in new.holders}
    for hid, holder in holders.items():
        if hid not in new_holder_ids:
            session.delete(holder)

    session.execute(delete(ApprovalRoute))
    session.add_all(
        ApprovalRoute(
            seats=a.seats,
            kinds=a.kinds,
            channel=a.channel,
            approvers=a.approvers,
            usergroup=a.usergroup,
            required=a.required,
            position=i,
            **{name: parse_minutes(text) for name in TIMINGS if (text := getattr(a, name))},
        )
        for i, a in enumerate(new.approvals)
    )
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

    for change in changes:
        audit.record(
            session,
            actor,
            f"chart.{change.entity}.{change.action}",
            f"{change.entity}:{change.id}",
            source=source,
            revision=org.revision,
            change=change.describe(),
        )
    # Waiting drafts follow the new chart in the same transaction: a retired seat's drafts are
    # withdrawn, a changed route moves its drafts.
    return ImportResult(changes, org.revision, follow_chart(session, actor, now))


TIMINGS = ("remind_after", "escalate_after", "expires_after")


def _route_timings(route: ApprovalRoute) -> dict[str, str]:
    return {name: format_minutes(minutes) for name in TIMINGS if (minutes := getattr(route, name))}


def _set(row: Any, **values: Any) -> None:
    for key, value in values.items():
        setattr(row, key, value)


def _replace_named(session: Session, model: type, wanted: dict[str, tuple[int, Any]], fill) -> None:
    existing = {row.name: row for row in session.scalars(select(model))}
    for name, row in existing.items():
        if name not in wanted:
            session.delete(row)
    for name, (i, spec) in wanted.items():
        row = existing.get(name) or model(name=name)
        fill(row, i, spec)
        session.add(row)


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


def _reassign(session: Session, seat: Seat, holder_id: str | None, now: dt.datetime) -> None:
    """Move a seat to a new holder, closing the old holding so history shows who held it when."""
    if seat.holder_id == holder_id:
        return
    if seat.holder_id is not None:
        with session.no_autoflush:  # the seat's new status must not reach the database before its new holder
            open_holding = session.scalar(
                select(SeatHolding).where(SeatHolding.seat_id == seat.id, SeatHolding.ended_at.is_(None))
            )
        if open_holding is not None:
            open_holding.ended_at = now
    seat.holder_id = holder_id
    # Flush the closed holding and the seat row before the new holding: the partial unique
    # index allows one open holding per seat, and the holding refers to the seat.
    session.flush()
    if holder_id is not None:
        session.add(SeatHolding(seat_id=seat.id, holder_id=holder_id, started_at=now))
