"""Domain objects → the API's models. Plain mapping: nothing here decides anything."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from otp_bot.bot.agents.api import schemas
from otp_bot.commands.views import messages as message_views
from otp_bot.store import models
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import accountable_human, reporting_line
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.gate import drafts
from otp_bot.store.domain.gate.learnings import Learnings
from otp_bot.store.domain.gate.ledger import LedgerRow, SeatLedger
from otp_bot.store.domain.gate.queries import policies_holding
from otp_bot.store.domain.rhythm.holder_briefing import briefing_for
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.measures import from_base
from otp_bot.store.domain.scorecard.metrics import MetricRow, current_rows


def holder_ref(holder: models.Holder | None) -> schemas.HolderRef | None:
    return schemas.HolderRef(id=holder.id, name=holder.name, kind=holder.kind) if holder else None


def seat(s: models.Seat) -> schemas.Seat:
    return schemas.Seat(
        id=s.id,
        title=s.title,
        status=s.status,
        customer_facing=s.customer_facing,
        holder=holder_ref(s.holder),
        accountable=holder_ref(accountable_human(s.holder)),
        reports_to=s.reports_to_id,
    )


def metric_status(row: MetricRow) -> schemas.MetricStatus:
    m, latest = row.metric, row.latest
    return schemas.MetricStatus(
        id=m.id,
        name=m.name,
        seat=m.seat_id,
        kind=m.kind,
        unit=m.unit or m.kind,
        currency=m.currency,
        goal=row.describe_goal(),
        cadence=m.cadence,
        aggregation=m.aggregation,
        formula=m.formula,
        status=row.status,
        latest=schemas.Latest(
            period=latest.period,
            label=periods.label(latest.period, m.cadence),
            value=from_base(latest.value, row.measure),
            shown=row.show(latest.value),
            on_track=bool(latest.on_track),
        )
        if latest is not None and latest.value is not None  # the latest cell is the last with a value
        else None,
    )


def seat_detail(session: Session, s: models.Seat) -> schemas.SeatDetail:
    return schemas.SeatDetail(
        **seat(s).model_dump(),
        aliases=list(s.aliases or []),
        accountabilities=list(s.accountabilities or []),
        owns=[o.topic for o in s.owns],
        does_not_own=list(s.does_not_own or []),
        reporting_line=[seat(up) for up in reporting_line(session, s)],
        metrics=[metric_status(r) for r in current_rows(session, s.metrics)] if s.metrics else [],
    )


def draft(session: Session, d: models.Draft) -> schemas.Draft:
    return schemas.Draft(
        id=d.id,
        seat=d.seat_id,
        drafted_by=d.drafted_by,
        kind=d.kind,
        subject=d.subject,
        title=d.title,
        body=d.body,
        customer_facing=d.customer_facing,
        status=d.status,
        outcome=drafts.outcome(session, d),
        final_text=d.final_body if d.status == "approved" else None,
        edited=d.edited,
        hold_reason=d.hold_reason,
        rejection_reason=d.reason,
        approvals=len(drafts.approvals(d)),
        required=d.required,
        decisions=[
            schemas.Decision(
                holder=x.holder_id,
                name=x.holder.name,
                verdict=x.verdict,
                at=as_utc(x.at),
                reason=x.reason,
                edited=x.edited_body is not None,
            )
            for x in d.decisions
        ],
        delivery=schemas.Delivery(
            destination=d.destination, state=d.delivery, error=d.delivery_error, delivered_at=as_utc(d.delivered_at)
        ),
        created_at=as_utc(d.created_at),
        queued_at=as_utc(d.queued_at),
        expires_at=as_utc(d.expires_at),
        decided_at=as_utc(d.decided_at),
    )


def draft_ref(d: models.Draft) -> schemas.DraftRef:
    return schemas.DraftRef(id=d.id, seat=d.seat_id, kind=d.kind, title=d.title, status=d.status)


def flag(session: Session, f: models.Flag) -> schemas.Flag:
    return schemas.Flag(
        id=f.id,
        subject=f.subject,
        flag=f.flag,
        seat=f.seat_id,
        by=f.seat.holder.name if f.seat.holder else None,
        reason=f.reason,
        set_at=as_utc(f.set_at),
        until=as_utc(f.until),
        holds=[p.name for p in policies_holding(session, f)],
    )


def _json(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json")


def briefing(session: Session, actor: Actor) -> dict[str, Any]:
    """What needs this agent now, as JSON: the same for GET /api/v1/briefing and MCP's get_briefing."""
    b = briefing_for(session, actor)
    return {
        "as_of": b.now.isoformat(),
        "seats": [_json(seat(s)) for s in b.seats],
        "drafts_pending": [_json(draft_ref(d)) | {"outcome": drafts.outcome(session, d)} for d in b.pending],
        "drafts_held": [_json(draft_ref(d)) | {"hold_reason": d.hold_reason} for d in b.held],
        "drafts_to_decide": [_json(draft_ref(d)) for d in b.to_decide],
        "flags": [_json(flag(session, f)) for f in b.flags],
        "overdue_requests": [message_views.view(m, b.now) for m in b.overdue],
        "unread_messages": b.unread,
        "metrics_off_track": [_json(metric_status(r)) for r in b.off_track],
        "rules": [rule(r) for r in b.rules],
        "learnings": [learnings(x).model_dump(mode="json") for x in b.learnings],
    }


def rule(r: models.Rule) -> dict[str, Any]:
    """An operating rule as agents read it (briefing, MCP): the claim's fields and the seats it names."""
    return {
        "id": r.id,
        "section": r.section,
        "rule": r.rule,
        "why": r.why,
        "failure_mode": r.failure_mode,
        "confidence": r.confidence,
        "confidence_score": r.confidence_score,
        "evidence": r.evidence,
        "evidence_reference": r.evidence_reference,
        "scope": r.scope,
        "seats": r.seats,
    }


def ledger_row(r: LedgerRow) -> schemas.LedgerRow:
    return schemas.LedgerRow(
        kind=r.kind,
        submitted=r.submitted,
        decided=r.decided,
        approved=r.approved,
        rejected=r.rejected,
        approved_unedited=r.unedited,
        approved_edited=r.edited,
        approval_rate=r.approval_rate,
        unedited_share=r.unedited_share,
        median_edit_chars=r.median_edit,
        median_decision_seconds=r.median_decision,
        p90_decision_seconds=r.p90_decision,
        rejection_reasons=[schemas.Reason(reason=t, times=n) for t, n in r.reasons],
        rounds_of_changes=r.rounds,
        drafts_revised=r.revised,
    )


def ledger(x: SeatLedger) -> schemas.Ledger:
    return schemas.Ledger(
        seat=x.seat_id,
        since=x.since,
        until=x.until,
        total=ledger_row(x.total),
        kinds=[ledger_row(k) for k in x.kinds],
    )


def learnings(x: Learnings) -> schemas.Learnings:
    return schemas.Learnings(
        seat=x.seat_id,
        kind=x.kind,
        since=x.since,
        until=x.until,
        reasons=[schemas.Reason(reason=t, times=n) for t, n in x.reasons],
        rejections=[
            schemas.Rejection(draft_id=r.draft_id, kind=r.kind, title=r.title, reason=r.reason, at=r.at)
            for r in x.rejections
        ],
        edits=[
            schemas.Edit(
                draft_id=e.draft_id,
                kind=e.kind,
                title=e.title,
                at=e.at,
                changed_chars=e.changed,
                diff=e.diff,
                cut=e.cut,
            )
            for e in x.edits
        ],
    )
