"""What an import may not do to a chart with history: remove what has a record, or relabel values."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.chartfile.metric_spec import MetricSpec
from otp_bot.store.domain.chart.chartfile.schema import ChartSpec
from otp_bot.store.models import Delegation, Hearing, Message, MetricValue, SeatHolding


def history_problems(session: Session, old: ChartSpec, new: ChartSpec) -> list[tuple[str, str]]:
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
                    f"seat {s.id!r} is missing from the file but has a hearing on record; "
                    "keep it with `status: retired`",
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
    problems.extend(
        ("holders", f"holder {h.id!r} is missing from the file but has held seats; keep it in the file")
        for h in old.holders
        if h.id not in new_holders
        and session.scalar(select(func.count()).select_from(SeatHolding).where(SeatHolding.holder_id == h.id))
    )
    problems.extend(
        ("holders", f"holder {h.id!r} is missing from the file but has delegations on record; keep it in the file")
        for h in old.holders
        if h.id not in new_holders
        and session.scalar(
            select(func.count())
            .select_from(Delegation)
            .where(or_(Delegation.delegator_id == h.id, Delegation.delegate_id == h.id))
        )
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
