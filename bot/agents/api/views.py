"""Domain objects → the API's models. Plain mapping: nothing here decides anything."""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.bot.agents.api import briefing_schemas, ledger_schemas, message_schemas, review_schemas, schemas
from otp_bot.bot.agents.api.problems import classify
from otp_bot.commands.views import messages as message_views
from otp_bot.store import models
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import accountable_human, get_seat, reporting_line
from otp_bot.store.domain.chart.search import who_owns
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.gate import reading
from otp_bot.store.domain.gate.changes import change_requests
from otp_bot.store.domain.gate.learnings import Learnings
from otp_bot.store.domain.gate.ledger import LedgerRow, SeatLedger
from otp_bot.store.domain.gate.queries import policies_holding
from otp_bot.store.domain.review import completion
from otp_bot.store.domain.rhythm.holder_briefing import briefing_for
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.measures import from_base
from otp_bot.store.domain.scorecard.metrics import MetricRow, current_rows
from otp_bot.store.domain.scorecard.value_batches import BatchResult


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
        gate=m.gate_figure,
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


def who_owns_answer(session: Session, topic: str) -> schemas.WhoOwns:
    """The seat that owns a topic, and the closest candidates when unsure (the API's and MCP's answer)."""
    match = who_owns(session, topic)
    best = seat_detail(session, get_seat(session, match.best.seat_id)) if match.best else None
    return schemas.WhoOwns(
        query=topic,
        topic=match.query,
        seat=best,
        matched=match.best.matched if match.best else None,
        candidates=[
            schemas.Candidate(
                seat=seat(get_seat(session, c.seat_id)),
                matched=c.matched,
                field=c.field,
                score=round(c.score, 1),
            )
            for c in match.candidates
        ],
    )


def seat_detail(session: Session, s: models.Seat) -> schemas.SeatDetail:
    return schemas.SeatDetail(
        **seat(s).model_dump(),
        aliases=list(s.aliases or []),
        accountabilities=list(s.accountabilities or []),
        owns=[o.topic for o in s.owns],
        does_not_own=list(s.does_not_own or []),
        reporting_line=[seat(up) for up in reporting_line(session, s)],
        # With the seat's to-do completion row once its to-dos were checked (review/completion.py).
        metrics=[
            metric_status(r) for r in current_rows(session, completion.with_completion(session, s.metrics, [s.id]))
        ],
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
        outcome=reading.outcome(session, d),
        final_text=d.final_body if d.status == "approved" else None,
        edited=d.edited,
        hold_reason=d.hold_reason,
        rejection_reason=d.reason,
        approvals=len(reading.approvals(d)),
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
        round=d.round,
        revises=d.revises,
        revised_by=d.revised_by.id if d.revised_by else None,
        change_requests=[
            schemas.ChangeRequest(
                draft=version.id,
                round=version.round,
                holder=asked.holder_id,
                name=asked.holder.name,
                at=as_utc(asked.at),
                text=asked.text,
            )
            for version, asked in change_requests(d)
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


def briefing(session: Session, actor: Actor) -> briefing_schemas.Briefing:
    """What needs this agent now: the same for GET /api/v1/briefing, MCP's get_briefing and otp://briefing."""
    b = briefing_for(session, actor)
    return briefing_schemas.Briefing(
        as_of=b.now,
        seats=[seat(s) for s in b.seats],
        drafts_pending=[
            briefing_schemas.DraftWaiting(**draft_ref(d).model_dump(), outcome=reading.outcome(session, d))
            for d in b.pending
        ],
        drafts_held=[
            briefing_schemas.DraftHeld(**draft_ref(d).model_dump(), hold_reason=d.hold_reason) for d in b.held
        ],
        drafts_changes_requested=[
            briefing_schemas.DraftWaiting(**draft_ref(d).model_dump(), outcome=reading.outcome(session, d))
            for d in b.changes_requested
        ],
        drafts_to_decide=[draft_ref(d) for d in b.to_decide],
        flags=[flag(session, f) for f in b.flags],
        overdue_requests=[message_schemas.Message.model_validate(message_views.view(m, b.now)) for m in b.overdue],
        unread_messages=b.unread,
        metrics_off_track=[metric_status(r) for r in b.off_track],
        rules=[rule(r) for r in b.rules],
        learnings=[learnings(x) for x in b.learnings],
        todos=[review_schemas.todo(t, b.today) for t in b.todos],
        rocks=[review_schemas.rock(r) for r in b.rocks],
    )


def rule(r: models.Rule) -> briefing_schemas.Rule:
    """An operating rule as agents read it (briefing, MCP): the claim's fields and the seats it names."""
    return briefing_schemas.Rule(
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
        seats=list(r.seats or []),
    )


def push_out(batch: BatchResult) -> schemas.PushOut:
    """A batch of pushed values, each answered in order: the same for the API and MCP."""
    labels: dict[tuple, str] = {}
    out: list[dict] = []
    for r in batch.results:
        error, label = None, None
        if r.error is not None:
            status, code, title = classify(r.error)
            error = {"status": status, "code": code, "title": title, "detail": r.error.message, "hint": r.error.hint}
        elif (
            r.period_start is not None  # a value answered without an error has its period and cadence
            and r.cadence is not None
            and (label := labels.get((r.period_start, r.cadence))) is None
        ):
            label = labels[(r.period_start, r.cadence)] = periods.label(r.period_start, r.cadence)
        out.append(
            {
                "index": r.index,
                "metric": r.metric_id,
                "outcome": r.outcome,
                "value": r.value_in_unit,
                "period": r.period_start,
                "period_label": label,
                "on_track": r.on_track,
                "error": error,
            }
        )
    # Plain dicts validated in one call: for thousands of items, faster than a model apiece.
    return schemas.PushOut.model_validate(
        {
            "recorded": batch.count("recorded"),
            "duplicates": batch.count("duplicate"),
            "errors": batch.count("error"),
            "results": out,
        }
    )


def ledger_row(r: LedgerRow) -> ledger_schemas.LedgerRow:
    return ledger_schemas.LedgerRow(
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
        rejection_reasons=[ledger_schemas.Reason(reason=t, times=n) for t, n in r.reasons],
        rounds_of_changes=r.rounds,
        drafts_revised=r.revised,
        approved_by_policy=r.by_policy,
    )


def ledger(x: SeatLedger) -> ledger_schemas.Ledger:
    return ledger_schemas.Ledger(
        seat=x.seat_id,
        since=x.since,
        until=x.until,
        total=ledger_row(x.total),
        kinds=[ledger_row(k) for k in x.kinds],
    )


def learnings(x: Learnings) -> ledger_schemas.Learnings:
    return ledger_schemas.Learnings(
        seat=x.seat_id,
        kind=x.kind,
        since=x.since,
        until=x.until,
        reasons=[ledger_schemas.Reason(reason=t, times=n) for t, n in x.reasons],
        rejections=[
            ledger_schemas.Rejection(
                draft_id=r.draft_id, kind=r.kind, title=r.title, subject=r.subject, reason=r.reason, at=r.at, by=r.by
            )
            for r in x.rejections
        ],
        edits=[
            ledger_schemas.Edit(
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
        changes_asked=[
            ledger_schemas.ChangeAsked(draft_id=c.draft_id, kind=c.kind, title=c.title, text=c.text, by=c.by, at=c.at)
            for c in x.changes_asked
        ],
    )
