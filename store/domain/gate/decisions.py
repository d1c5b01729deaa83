"""Deciding a draft: who may, approve or reject, the final decision, and a drafter's withdrawal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from otp_bot.store.domain import audit, outbox
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents import webhooks
from otp_bot.store.domain.chart.reading import accountable_human
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid
from otp_bot.store.domain.gate import autonomy
from otp_bot.store.domain.gate.delegation import on_behalf_of
from otp_bot.store.domain.gate.drafts import MAX_BODY, required_text
from otp_bot.store.domain.gate.follow_chart import current_route, same_route, seat_problem
from otp_bot.store.domain.gate.notices import notify_people, queue_message_update
from otp_bot.store.domain.gate.reading import approvals, check_message, current_text, get_draft, outcome, route_names
from otp_bot.store.domain.gate.routing import Route
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import CHANGES_REQUESTED, DRAFT_WAITING, Draft, DraftDecision, Holder

MAX_REASON = 2_000


@dataclass
class Decided:
    draft: Draft
    decision: DraftDecision | None  # None for a request for changes (a DraftChangeRequest)
    final: bool  # the draft is now approved or rejected; False while more approvals are needed
    update: outbox.Claimed | None = None  # the approval message's update, claimed for the caller (`claim_update`)
    queued: bool = True  # anything else queued for the outbox worker (a delivery, a DM)


def can_decide(draft: Draft, actor: Actor, groups: frozenset[str] = frozenset(), route: Route | None = None) -> bool:
    """May this person decide the draft: an approver of `route` (the chart's route now; by
    default the one copied onto the draft), the person it escalated to, or a user group member."""
    if actor.holder_id is None or actor.holder_id == draft.drafted_by:
        return False
    approvers, usergroup = (route.approvers, route.usergroup) if route else (draft.approvers, draft.usergroup)
    return (
        actor.holder_id in approvers
        or actor.holder_id == draft.escalated_to
        or (usergroup is not None and usergroup in groups)
        or on_behalf_of(draft, actor, approvers) is not None  # out of office: a delegate stands in
    )


def _decided_already(session: Session, draft: Draft) -> Conflict:
    if draft.status == "held":
        return Conflict(f"draft #{draft.id} is held and cannot be decided yet: {draft.hold_reason}")
    if draft.status == "changes-requested":
        return Conflict(f"draft #{draft.id} waits for its revision: {outcome(session, draft)}; nothing changed")
    return Conflict(f"draft #{draft.id} was already {outcome(session, draft)}; nothing changed")


def check_decider(
    session: Session,
    actor: Actor,
    draft: Draft,
    message: tuple[str, str] | None = None,
    groups: frozenset[str] = frozenset(),
) -> Draft:
    """Raise unless this person may decide this draft now (from this message, when given).

    Decided from the chart as it is now, not from what was copied onto the draft when it was
    queued: the seat must be live and held by the drafter, and the approvers are the ones the
    chart's route names now."""
    route_for_decider(session, actor, draft, message, groups)
    return draft


def route_for_decider(
    session: Session, actor: Actor, draft: Draft, message: tuple[str, str] | None, groups: frozenset[str]
) -> Route:
    """`check_decider`, answering the chart's route for the draft now."""
    check_message(session, draft, message)
    if draft.status != "pending":
        raise _decided_already(session, draft)
    if (problem := seat_problem(session, draft)) is not None:
        raise Conflict(f"draft #{draft.id} can no longer be decided: {problem}; nothing changed")
    try:
        route = current_route(session, draft)
    except Invalid as exc:
        raise Conflict(
            f"draft #{draft.id} can no longer be decided: {exc.message}; nothing changed", hint=exc.hint
        ) from None
    if actor.holder_id is not None and actor.holder_id == draft.drafted_by:
        raise Forbidden(f"you drafted #{draft.id} yourself; someone else must decide it")
    if not can_decide(draft, actor, groups, route):
        raise Forbidden(
            f"you are not an approver for draft #{draft.id}; approvers are {route_names(session, route, draft)}"
        )
    if any(d.holder_id == actor.holder_id for d in draft.decisions):
        left = draft.required - len(approvals(draft))
        raise Conflict(f"you already approved draft #{draft.id}; it waits for {left} more approval(s)")
    return route


def decide(
    session: Session,
    actor: Actor,
    draft_id: int | str,
    verdict: str,
    *,
    reason: str | None = None,
    edited_body: str | None = None,
    message: tuple[str, str] | None = None,
    groups: frozenset[str] = frozenset(),
    now: dt.datetime | None = None,
    again: bool = False,
    claim_update: dt.timedelta | None = None,
) -> Decided:
    """Approve (optionally with edits) or reject. Exactly one final decision per draft:
    the row is locked (PostgreSQL) or the transaction holds the write lock (SQLite), and
    a person decides a draft at most once (a unique key).

    `again`: this repeats a request whose earlier attempt lost the database connection,
    perhaps after its commit landed. If this person's decision with this verdict is on
    record, that is the answer: the earlier attempt succeeded, nothing is decided twice.

    `claim_update`: the approval message's update is queued claimed for this lease, and
    `Decided.update` is the claim: the caller sends it the moment this commits."""
    now = now or utcnow()
    if verdict not in ("approve", "reject"):
        raise Invalid(f"`{verdict}` is not a decision; approve or reject")
    if again and actor.holder_id is not None and (landed := _recorded(session, draft_id, actor.holder_id, verdict)):
        return landed
    draft = get_draft(session, draft_id, lock=True)
    route = route_for_decider(session, actor, draft, message, groups)
    if not same_route(draft, route):  # the chart changed and nothing re-routed it yet: decide by the chart
        draft.approvers, draft.usergroup, draft.required = list(route.approvers), route.usergroup, route.required

    text = current_text(draft)
    edit = None
    if verdict == "reject":
        reason = clean_text(reason, "the reason", multiline=True)
        if not reason:
            raise Invalid("a rejection needs a reason, so the drafter learns what to change")
        reason = reason[:MAX_REASON]
    elif edited_body is not None:
        edited = required_text(edited_body, "edited text", MAX_BODY, multiline=True)
        edit = edited if edited != text.strip() else None
    decision = DraftDecision(
        draft_id=draft.id,
        holder_id=actor.holder_id,
        holder=session.get(Holder, actor.holder_id),  # loaded: its name is shown after the commit
        verdict=verdict,
        reason=reason if verdict == "reject" else None,
        edited_body=edit,
        at=now,
    )
    # The draft's decisions were read after its lock was taken: with this one, they are all.
    draft.decisions.append(decision)
    session.flush()  # the database counts approvals before it lets the status change
    audit.record(
        session,
        actor.audit_name,
        f"draft.{verdict}",
        f"draft:{draft.id}",
        reason=decision.reason,
        edited=edit is not None,
        before=text if edit else None,
        after=edit,
    )
    if edit is not None:
        draft.final_body, draft.edited = edit, True

    final = verdict == "reject" or len(approvals(draft)) >= draft.required
    queued = final and finish(
        session, draft, actor.holder_id, now, rejected_for=reason if verdict == "reject" else None
    )
    update = queue_message_update(session, draft, now, claim_for=claim_update)
    return Decided(draft, decision, final, update, queued=queued or update is None)


def finish(
    session: Session, draft: Draft, decided_by: str | None, now: dt.datetime, *, rejected_for: str | None = None
) -> bool:
    """The final decision: rejected with a reason, or approved and its delivery queued.
    True when it queued work for the outbox (the delivery, the drafter's human told)."""
    queued = False
    draft.decided_at, draft.decided_by = now, decided_by
    if rejected_for is not None:
        draft.status, draft.reason = "rejected", rejected_for
    else:
        draft.final_body = current_text(draft)
        draft.status = "approved"
        session.flush()
        if draft.destination:
            draft.delivery = "pending"
            outbox.enqueue(
                session,
                "deliver",
                f"draft:{draft.id}:deliver",
                {"destination": draft.destination},
                draft_id=draft.id,
                now=now,
            )
            queued = True
    autonomy.after_decision(session, draft, now)  # an unedited approval may earn the seat autonomy
    human = accountable_human(draft.drafter)
    if human is not None and human.id != decided_by:  # who decided needs no news of it
        notify_people(session, draft, draft.status, now, to=[human.id])
        queued = True
    return webhooks.queue_decision(session, draft, draft.status, now) or queued


def _recorded(session: Session, draft_id: int | str, holder_id: str, verdict: str) -> Decided | None:
    draft = get_draft(session, draft_id)
    mine = next((d for d in draft.decisions if d.holder_id == holder_id and d.verdict == verdict), None)
    return Decided(draft, mine, draft.status not in DRAFT_WAITING) if mine else None


def withdraw(session: Session, actor: Actor, draft_id: int | str, now: dt.datetime | None = None) -> Draft:
    now = now or utcnow()
    draft = get_draft(session, draft_id, lock=True)
    if not actor.operator and actor.holder_id != draft.drafted_by:
        raise Forbidden(f"only the drafter of #{draft.id} or an operator can withdraw it")
    # A draft whose changes were requested may be dropped instead of revised.
    if draft.status not in (*DRAFT_WAITING, CHANGES_REQUESTED):
        raise _decided_already(session, draft)
    # Who withdrew it is who decided it now, not the approver who asked for changes before.
    draft.status, draft.decided_at, draft.decided_by = "withdrawn", now, actor.holder_id
    audit.record(session, actor.audit_name, "draft.withdrawn", f"draft:{draft.id}")
    webhooks.queue_decision(session, draft, "withdrawn", now, by=actor.holder_id)
    queue_message_update(session, draft, now)
    return draft
