"""Autonomy's grants as people see and withdraw them: the standing of a seat, a review of a
policy approval ("Looks right" / "Should not have gone"), and revocation by hand.

Who may revoke a seat's autonomy: the seat's accountable human, anyone holding a seat above
it, or an operator. Who may review a policy approval: the approvers of its route as the chart
has it now (or its user group's members), and anyone who may revoke. A revocation ends the
grant; the count of unedited approvals starts again from zero (autonomy.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import accountable_human, get_seat, reporting_line
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid, NotFound
from otp_bot.store.domain.gate.autonomy import (
    POLICY,
    REVIEW,
    Rule,
    live_grant,
    rule_for,
    rules_of_seat,
    unedited_approvals,
)
from otp_bot.store.domain.gate.notices import queue_message_update
from otp_bot.store.domain.gate.routing import route_for
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import AuditEntry, AutonomyGrant, Draft, DraftMessage, Holder, Seat

MAX_REASON = 2_000
VERDICTS = {"right": "looks right", "wrong": "should not have gone"}


@dataclass(frozen=True)
class Standing:
    """One kind a seat may earn autonomy for: its rule, the count so far, and the live grant."""

    seat_id: str
    kind: str
    rule: Rule
    count: int
    grant: AutonomyGrant | None


@dataclass(frozen=True)
class Review:
    verdict: str  # right | wrong
    by: str  # a name
    reason: str | None


def standing(session: Session, seat_id: str) -> list[Standing]:
    seat = get_seat(session, seat_id)
    return [
        Standing(
            seat.id,
            kind,
            rule,
            unedited_approvals(session, seat.id, kind, seat.holder_id),
            live_grant(session, seat.id, kind),
        )
        for kind, rule in rules_of_seat(session, seat.id).items()
    ]


def live_grants(session: Session) -> list[AutonomyGrant]:
    return list(
        session.scalars(
            select(AutonomyGrant)
            .where(AutonomyGrant.revoked_at.is_(None))
            .order_by(AutonomyGrant.seat_id, AutonomyGrant.kind)
        )
    )


def may_revoke(session: Session, actor: Actor, seat: Seat) -> bool:
    if actor.operator:
        return True
    if actor.holder_id is None:
        return False
    human = accountable_human(seat.holder)
    if human is not None and human.id == actor.holder_id:
        return True
    return any(above.holder_id == actor.holder_id for above in reporting_line(session, seat))


def revoke(
    session: Session,
    actor: Actor,
    seat_id: str,
    kind: str | None = None,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> list[AutonomyGrant]:
    """Withdraw a seat's autonomy (for one kind, or every kind it holds): its next drafts go to a person."""
    now = now or utcnow()
    seat = get_seat(session, seat_id)
    if not may_revoke(session, actor, seat):
        raise Forbidden(
            f"only the human accountable for `{seat.id}`, someone above it, or an operator can revoke its autonomy"
        )
    reason = clean_text(reason, "the reason", multiline=False, limit=MAX_REASON) or None
    query = select(AutonomyGrant).where(AutonomyGrant.seat_id == seat.id, AutonomyGrant.revoked_at.is_(None))
    if kind is not None:
        query = query.where(AutonomyGrant.kind == kind.strip().lower())
    grants = list(session.scalars(query.with_for_update(of=AutonomyGrant)))
    if not grants:
        raise NotFound(
            f"`{seat.id}` has no autonomy{f' for `{kind[:64]}`' if kind else ''} to revoke",
            hint=f"`/otp autonomy {seat.id}` shows what it has earned",
        )
    for grant in grants:
        _end(session, grant, actor.audit_name, reason, now)
    return grants


def _end(session: Session, grant: AutonomyGrant, by: str, reason: str | None, now: dt.datetime, **detail) -> None:
    grant.revoked_at, grant.revoked_by, grant.reason = now, by, reason
    audit.record(
        session,
        by,
        "autonomy.revoked",
        f"seat:{grant.seat_id}",
        kind=grant.kind,
        grant=grant.id,
        reason=reason,
        **detail,
    )


# ------------------------------------------------------------------------- reviewing a policy approval


def review_of(session: Session, draft_id: int) -> Review | None:
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.action == "autonomy.reviewed", AuditEntry.subject == f"draft:{draft_id}")
    )
    if entry is None:
        return None
    holder = session.get(Holder, entry.actor.removeprefix("holder:"))
    return Review(entry.detail.get("verdict", ""), holder.name if holder else entry.actor, entry.detail.get("reason"))


def review(
    session: Session,
    actor: Actor,
    draft_id: int | str,
    verdict: str,
    *,
    reason: str | None = None,
    message: tuple[str, str] | None = None,
    groups: frozenset[str] = frozenset(),
    now: dt.datetime | None = None,
) -> Draft:
    """A person's look at a sampled policy approval. "Should not have gone" needs a reason and
    revokes the seat's autonomy for the kind; the review message then shows who said what."""
    now = now or utcnow()
    if verdict not in VERDICTS:
        raise Invalid(f"`{verdict}` is not a review; looks right or should not have gone")
    draft = reviewable(session, actor, draft_id, message, groups, lock=True)
    if verdict == "wrong":
        reason = clean_text(reason, "the reason", multiline=True, limit=MAX_REASON)
        if not reason:
            raise Invalid("say why it should not have gone, so the seat's accountable human learns what to change")
    audit.record(
        session,
        actor.audit_name,
        "autonomy.reviewed",
        f"draft:{draft.id}",
        verdict=verdict,
        reason=reason if verdict == "wrong" else None,
        seat=draft.seat_id,
        kind=draft.kind,
    )
    if verdict == "wrong" and (grant := live_grant(session, draft.seat_id, draft.kind, lock=True)) is not None:
        _end(session, grant, actor.audit_name, f"review of draft #{draft.id}: {reason}", now, draft=draft.id)
    queue_message_update(session, draft, now)
    return draft


def reviewable(
    session: Session,
    actor: Actor,
    draft_id: int | str,
    message: tuple[str, str] | None = None,
    groups: frozenset[str] = frozenset(),
    *,
    lock: bool = False,
) -> Draft:
    """The policy-approved draft, if this person may review it now (from this review message, when given)."""
    try:
        number = int(str(draft_id).strip().lstrip("#"))
    except ValueError:
        raise Invalid(f"`{str(draft_id)[:40]}` is not a draft number") from None
    found = session.get(Draft, number, with_for_update={"of": Draft} if lock else None) if 0 < number < 2**31 else None
    if found is None or found.decided_by != POLICY:
        raise NotFound(f"draft #{number} was not approved by policy; there is nothing to review")
    draft = found
    if message is not None and _not_its_review_message(session, draft, message):
        raise Conflict(f"that button is not on draft #{draft.id}'s review message; nothing changed")
    _check_reviewer(session, actor, draft, groups)
    if (done := review_of(session, draft.id)) is not None:
        raise Conflict(f"draft #{draft.id} was already reviewed by {done.by}: {VERDICTS[done.verdict]}")
    return draft


def _not_its_review_message(session: Session, draft: Draft, message: tuple[str, str]) -> bool:
    found = session.scalar(
        select(DraftMessage.id).where(
            DraftMessage.draft_id == draft.id,
            DraftMessage.channel == message[0],
            DraftMessage.ts == message[1],
            DraftMessage.purpose == REVIEW,
        )
    )
    return found is None


def _check_reviewer(session: Session, actor: Actor, draft: Draft, groups: frozenset[str]) -> None:
    if actor.holder_id is not None and actor.holder_id == draft.drafted_by:
        raise Forbidden(f"you drafted #{draft.id} yourself; someone else must review it")
    if may_revoke(session, actor, draft.seat):
        return
    route = route_for(session, draft.seat, draft.kind, draft.drafter)
    if actor.holder_id in route.approvers or (route.usergroup is not None and route.usergroup in groups):
        return
    raise Forbidden(f"only the approvers of `{draft.seat_id}`'s drafts or those above it can review draft #{draft.id}")


def follow_chart(session: Session, actor: str, now: dt.datetime) -> list[AutonomyGrant]:
    """After a chart change: end every grant the chart no longer stands behind. Trust was earned by
    one holder under one route; a new holder, a seat that no longer drafts, or a route that no
    longer lets the seat earn autonomy for the kind (or now sends it to a customer-facing seat's
    route without it) each end the grant, on the record, and the count starts again."""
    ended = []
    for grant in session.scalars(
        select(AutonomyGrant).where(AutonomyGrant.revoked_at.is_(None)).with_for_update(of=AutonomyGrant)
    ):
        seat = session.get(Seat, grant.seat_id)
        reason = None
        if seat is None or seat.status != "active" or seat.holder_id is None:
            reason = f"seat `{grant.seat_id}` no longer has a holder who drafts"
        elif seat.holder_id != grant.holder_id:
            holder = session.get(Holder, seat.holder_id)
            reason = f"seat `{seat.id}` is now held by {holder.name if holder else seat.holder_id}, who earns their own"
        elif rule_for(session, seat.id, grant.kind) is None:
            reason = f"the chart no longer lets `{seat.id}` earn autonomy for `{grant.kind}`"
        if reason is not None:
            _end(session, grant, actor, reason, now, by_chart=True)
            ended.append(grant)
    return ended
