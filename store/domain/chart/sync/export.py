"""The stored chart as a `ChartSpec`: what the chart file would say to make the store as it is."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.chartfile.autonomy_spec import AutonomySpec
from otp_bot.store.domain.chart.chartfile.metric_spec import MetricSpec
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
from otp_bot.store.domain.chart.durations import format_minutes
from otp_bot.store.domain.scorecard.goals import Goal
from otp_bot.store.domain.scorecard.measures import measure_of
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
    SeatOwns,
)

# The columns the chart file says, read as plain rows: at 10,000 seats, building ORM objects
# (with their holders joined and their topics and metrics loaded) cost more than the export.
_HOLDER = (Holder.id, Holder.name, Holder.kind, Holder.slack_user, Holder.email, Holder.supervisor_id)
_SEAT = (
    Seat.id,
    Seat.title,
    Seat.holder_id,
    Seat.reports_to_id,
    Seat.status,
    Seat.customer_facing,
    Seat.authority,
    Seat.aliases,
    Seat.accountabilities,
    Seat.does_not_own,
)
_METRIC = (
    Metric.seat_id,
    Metric.id,
    Metric.name,
    Metric.kind,
    Metric.unit,
    Metric.currency,
    Metric.goal_op,
    Metric.goal_value,
    Metric.goal_high,
    Metric.cadence,
    Metric.aggregation,
    Metric.formula,
    Metric.gate_figure,
    Metric.review_figure,
)


def export_chart(session: Session) -> ChartSpec | None:
    org = session.get(Org, 1)
    if org is None:
        return None
    holders = session.execute(select(*_HOLDER).order_by(Holder.position, Holder.id)).all()
    seats = session.execute(select(*_SEAT).order_by(Seat.position, Seat.id)).all()
    owns: dict[str, list[str]] = defaultdict(list)
    for seat_id, topic in session.execute(select(SeatOwns.seat_id, SeatOwns.topic).order_by(SeatOwns.position)):
        owns[seat_id].append(topic)
    metrics: dict[str, list[Any]] = defaultdict(list)
    for m in session.execute(select(*_METRIC).order_by(Metric.position)):
        metrics[m.seat_id].append(m)
    # The store keeps the decimal mark, a holder's kind and a seat's status as text: they are
    # read back through the schema's validation, which holds them to its choices.
    return ChartSpec(
        org=OrgSpec.model_validate(
            {
                "name": org.name,
                "timezone": org.timezone,
                "coordination_channel": org.coordination_channel,
                "decimal_mark": org.decimal_mark,
                "currency": org.currency,
            }
        ),
        holders=[
            HolderSpec.model_validate(
                {
                    "id": h.id,
                    "name": h.name,
                    "kind": h.kind,
                    "slack_user": h.slack_user,
                    "email": h.email,
                    "supervisor": h.supervisor_id,
                }
            )
            for h in holders
        ],
        seats=[_seat_spec(s, owns[s.id], metrics[s.id]) for s in seats],
        approvals=[
            ApprovalSpec(
                seats=a.seats,
                kinds=a.kinds,
                channel=a.channel,
                approvers=a.approvers,
                usergroup=a.usergroup,
                required=a.required,
                max_rounds=a.max_rounds,
                autonomy=AutonomySpec.model_validate(a.autonomy) if a.autonomy else None,
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
        review=_review_spec(session.get(ReviewSetup, 1)),
    )


def _review_spec(setup: ReviewSetup | None) -> ReviewSpec | None:
    if setup is None:
        return None
    return ReviewSpec(
        scorecard=setup.schedule,
        facilitator=setup.facilitator_id,
        attendees=list(setup.attendees) or None,  # none stored: every holder of an active seat
        headlines_ahead=format_minutes(setup.headlines_ahead),
    )


def _seat_spec(s: Any, owns: list[str], metrics: list[Any]) -> SeatSpec:
    derived = "active" if s.holder_id else "vacant"
    return SeatSpec.model_validate(
        {
            "id": s.id,
            "title": s.title,
            "holder": s.holder_id,
            "reports_to": s.reports_to_id,
            "status": None if s.status == derived else s.status,
            "customer_facing": s.customer_facing,
            "authority": s.authority,
            "aliases": s.aliases,
            "accountabilities": s.accountabilities,
            "owns": owns,
            "does_not_own": s.does_not_own,
            "metrics": [
                MetricSpec(
                    id=m.id,
                    name=m.name,
                    kind=m.kind,
                    unit=m.unit,
                    currency=m.currency,
                    goal=Goal(m.goal_op, m.goal_value, m.goal_high).to_text(measure_of(m)),
                    cadence=m.cadence,
                    aggregation=m.aggregation,
                    formula=m.formula,
                    gate=m.gate_figure,
                    review=m.review_figure,
                )
                for m in metrics
            ],
        }
    )


def _route_timings(route: ApprovalRoute) -> dict[str, str]:
    return {name: format_minutes(minutes) for name in ROUTE_TIMINGS if (minutes := getattr(route, name))}
