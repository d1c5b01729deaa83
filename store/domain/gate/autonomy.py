"""Graduated autonomy: earned on the record, used at submit, sampled for review after the fact.

A route's `autonomy: {kinds, after, sample}` says which kinds a seat may have approved by
policy. The count is read from the record, never kept by hand: the seat's drafts of that
kind approved unedited by a person (`decided_by` a holder, not this policy), internal ones
only, since its last revocation. When an approval brings the count to `after`, the grant
is recorded (`decisions.finish` calls `after_decision`). From then on a draft of that kind
that no policy holds is approved by policy at submit (`approved_by_policy`) and delivered as
a person's approval would be. A customer-facing draft never is, whatever the chart says.

The sample is every Nth use of a grant, N = 100 / sample rounded, starting with the first:
deterministic, so a reviewer (and a test) knows which drafts are shown. Reviews and
revocations are in autonomy_grants.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit, outbox
from otp_bot.store.domain.gate.routing import route_for
from otp_bot.store.models import ApprovalRoute, AutonomyGrant, Draft, Holder

POLICY = "policy:autonomy"  # `decided_by` and the audit actor of a policy approval
REVIEW = "review"  # the purpose of a review message among a draft's messages


@dataclass(frozen=True)
class Rule:
    kinds: list[str]
    after: int
    sample: int  # percent

    @property
    def every(self) -> int:
        """Every how many uses one is sampled; 0 for none."""
        return max(1, round(100 / self.sample)) if self.sample > 0 else 0

    def sampled(self, use: int) -> bool:
        return self.every > 0 and (use - 1) % self.every == 0


def rule_for(session: Session, seat_id: str, kind: str) -> Rule | None:
    """The autonomy rule of the route a draft of this seat and kind takes, if it names the kind."""
    for route in session.scalars(select(ApprovalRoute).order_by(ApprovalRoute.position)):
        if seat_id in route.seats and (not route.kinds or kind in {k.lower() for k in route.kinds}):
            return _rule(route.autonomy, kind)
    return None


def rules_of_seat(session: Session, seat_id: str) -> dict[str, Rule]:
    """Each kind the chart lets this seat earn autonomy for, with its rule (the first route wins)."""
    routes = session.scalars(select(ApprovalRoute).order_by(ApprovalRoute.position)).all()
    kinds = {k for r in routes if seat_id in r.seats and r.autonomy for k in r.autonomy.get("kinds", [])}
    return {k: rule for k in sorted(kinds) if (rule := rule_for(session, seat_id, k)) is not None}


def _rule(stored: dict[str, Any] | None, kind: str) -> Rule | None:
    if not stored or kind not in stored.get("kinds", []):
        return None
    return Rule(list(stored["kinds"]), int(stored["after"]), int(stored.get("sample", 0)))


def live_grant(session: Session, seat_id: str, kind: str, *, lock: bool = False) -> AutonomyGrant | None:
    query = select(AutonomyGrant).where(
        AutonomyGrant.seat_id == seat_id, AutonomyGrant.kind == kind, AutonomyGrant.revoked_at.is_(None)
    )
    return session.scalar(query.with_for_update(of=AutonomyGrant) if lock else query)


def last_revoked(session: Session, seat_id: str, kind: str) -> dt.datetime | None:
    return session.scalar(
        select(func.max(AutonomyGrant.revoked_at)).where(AutonomyGrant.seat_id == seat_id, AutonomyGrant.kind == kind)
    )


def unedited_approvals(session: Session, seat_id: str, kind: str, holder_id: str | None) -> int:
    """The seat's internal drafts of this kind that its holder drafted and a person approved without
    edits since the last revocation: a new holder of the seat earns its own record."""
    query = select(func.count(Draft.id)).where(
        Draft.seat_id == seat_id,
        Draft.drafted_by == (holder_id or ""),
        Draft.kind == kind,
        Draft.status == "approved",
        Draft.edited.is_(False),
        Draft.round == 1,  # a revision needed a person to say what to change
        Draft.customer_facing.is_(False),
        Draft.decided_by.is_not(None),
        Draft.decided_by != POLICY,
    )
    since = last_revoked(session, seat_id, kind)
    if since is not None:
        query = query.where(Draft.decided_at > since)
    return session.scalar(query) or 0


def after_decision(session: Session, draft: Draft, now: dt.datetime) -> None:
    """A final decision landed: grant autonomy if this approval brought the seat to its rule's `after`."""
    if (
        draft.status != "approved"
        or draft.decided_by in (None, POLICY)
        or draft.edited
        or draft.round != 1
        or draft.customer_facing
    ):
        return
    rule = rule_for(session, draft.seat_id, draft.kind)
    if rule is None or live_grant(session, draft.seat_id, draft.kind) is not None:
        return
    earned = unedited_approvals(session, draft.seat_id, draft.kind, draft.drafted_by)
    if earned < rule.after:
        return
    try:
        with session.begin_nested():  # two approvals landing at once: the first grant stands
            session.add(
                AutonomyGrant(
                    seat_id=draft.seat_id,
                    kind=draft.kind,
                    holder_id=draft.drafted_by,
                    earned=earned,
                    uses=0,
                    granted_at=now,
                )
            )
            session.flush()
    except IntegrityError:
        return
    audit.record(
        session,
        POLICY,
        "autonomy.granted",
        f"seat:{draft.seat_id}",
        kind=draft.kind,
        earned=earned,
        after=rule.after,
        sample=rule.sample,
        last_draft=draft.id,
    )


def approved_by_policy(session: Session, draft: Draft, now: dt.datetime) -> bool:
    """At submit, after the holding policies: approve the draft by policy if its seat has earned
    autonomy for its kind. Delivered as a person's approval is (`decisions.finish`); a sampled
    use is posted to the route's approvers for review. False: it goes to a person as usual."""
    if draft.customer_facing:
        return False
    rule = rule_for(session, draft.seat_id, draft.kind)
    grant = live_grant(session, draft.seat_id, draft.kind, lock=True) if rule is not None else None
    if rule is None or grant is None or grant.holder_id != draft.drafted_by:
        return False  # (a grant earned by the seat's previous holder ends with the chart change)
    # decisions imports drafts, which calls this module: imported here, not at the top.
    from otp_bot.store.domain.gate.decisions import finish

    route = route_for(session, draft.seat, draft.kind, draft.drafter)
    draft.route_channel, draft.approvers, draft.usergroup, draft.required = (
        route.channel,
        route.approvers,
        route.usergroup,
        1,
    )
    # No `queued_at`: it never waited for a person, so the ledger's time to decision leaves it out.
    grant.uses += 1
    sampled = rule.sampled(grant.uses)
    finish(session, draft, POLICY, now)
    audit.record(
        session,
        POLICY,
        "autonomy.used",
        f"draft:{draft.id}",
        seat=draft.seat_id,
        kind=draft.kind,
        grant=grant.id,
        use=grant.uses,
        sampled=sampled,
    )
    if sampled:
        for target in _review_targets(session, draft):
            outbox.enqueue(
                session,
                "approval_post",
                f"draft:{draft.id}:review:{target}",
                {"channel": target, "purpose": REVIEW},
                draft_id=draft.id,
                now=now,
            )
    return True


def _review_targets(session: Session, draft: Draft) -> list[str]:
    if draft.route_channel:
        return [draft.route_channel]
    people = session.scalars(select(Holder.slack_user).where(Holder.id.in_(draft.approvers))).all()
    return [p for p in people if p]
