"""Waiting drafts follow the chart: whatever changes the chart calls `follow_chart` in the
same transaction, and every held or pending draft is checked against the chart as it is now.

- A draft whose seat was retired, vacated or handed to someone else is **withdrawn**: its
  drafter no longer speaks for the seat, so nobody may approve words written in its name.
  (A new holder did not write the draft; they submit their own.) The reason is kept on the
  draft, so the agent reads it in the draft's outcome, the approval message says it, the
  seat's accountable human gets a DM, and the audit log records it.
- A pending draft whose approval route changed is **re-routed**: the route copied onto the
  draft is replaced, a fresh approval message goes where the route now points, and the old
  messages say where the draft moved (their buttons refuse clicks).
- A pending draft nobody can decide any more under the new chart is withdrawn, saying why.
- Approvals count only while their approver is on the route (or the person it escalated
  to): a route that lost an approver loses their approval too, and a route that now asks
  for no more approvals than the draft has approves it. A draft escalated to someone the
  chart moved out of its reporting line is escalated again to whoever is up the line now.

Decisions re-check the same rules at click time (`decisions.check_decider`), so a click that
races a chart change is refused, not counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit, outbox
from otp_bot.store.domain.agents import webhooks
from otp_bot.store.domain.chart.reading import accountable_human, reporting_line
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.gate import autonomy_grants
from otp_bot.store.domain.gate.notices import notify_people, queue_message_update
from otp_bot.store.domain.gate.routing import Route, route_for
from otp_bot.store.domain.review import follow_chart as review_items
from otp_bot.store.models import CHANGES_REQUESTED, DRAFT_WAITING, Draft, Holder

MOVED = "moved"  # DraftMessage.purpose of an approval message whose draft went elsewhere


@dataclass(frozen=True)
class Consequence:
    draft_id: int
    action: str  # withdrawn | rerouted | approvers | approved | escalation withdrawn
    detail: str

    def describe(self) -> str:
        return f"draft #{self.draft_id} {self.action}: {self.detail}"


def seat_problem(session: Session, draft: Draft) -> str | None:
    """Why the draft's seat no longer lets it be decided, or None while it does."""
    seat = draft.seat
    if seat.status == "retired":
        return f"seat `{seat.id}` was retired"
    if seat.holder_id is None:
        return f"seat `{seat.id}` was vacated"
    if seat.holder_id != draft.drafted_by:
        # By id: inside the changing transaction the seat's `holder` may still be the old one.
        holder = session.get(Holder, seat.holder_id)
        name = holder.name if holder else seat.holder_id
        return f"seat `{seat.id}` is now held by {name}, not by {draft.drafter.name} who drafted it"
    return None


def current_route(session: Session, draft: Draft) -> Route:
    """The route the chart gives this draft now; raises `Invalid` when nobody could decide it."""
    return route_for(session, draft.seat, draft.kind, draft.drafter)


def same_route(draft: Draft, route: Route) -> bool:
    return (draft.route_channel, list(draft.approvers), draft.usergroup, draft.required) == (
        route.channel,
        list(route.approvers),
        route.usergroup,
        route.required,
    )


def where_to(session: Session, draft: Draft) -> str:
    """Where a pending draft waits now, in words (for messages it moved away from)."""
    if draft.route_channel:
        return f"channel {draft.route_channel}"
    names = session.scalars(select(Holder.name).where(Holder.id.in_(draft.approvers))).all()
    return "a direct message to " + (", ".join(sorted(names)) or "its approvers")


def withdraw_for_chart(session: Session, draft: Draft, reason: str, actor: str, now: dt.datetime) -> Consequence:
    # Nobody decided it: the chart did (an approver's earlier request for changes is not this).
    draft.status, draft.decided_at, draft.decided_by, draft.reason = "withdrawn", now, None, reason
    audit.record(session, actor, "draft.withdrawn", f"draft:{draft.id}", reason=reason, by="chart")
    queue_message_update(session, draft, now)
    notify_people(session, draft, "withdrawn", now)
    webhooks.queue_decision(session, draft, "withdrawn", now)
    return Consequence(draft.id, "withdrawn", reason)


def places(session: Session, channel: str, approvers: list[str]) -> list[str]:
    """Where a route's approval messages go: its channel, or its approvers' DMs."""
    if channel:
        return [channel]
    people = session.scalars(select(Holder.slack_user).where(Holder.id.in_(approvers))).all()
    return sorted(p for p in people if p)


def reroute(session: Session, draft: Draft, route: Route, actor: str, now: dt.datetime) -> Consequence:
    """Give a pending draft the route the chart has now; move its message when the place changed."""
    # Both import this module (the chart rules a decision re-checks): imported here, not at the top.
    from otp_bot.store.domain.gate.decisions import finish
    from otp_bot.store.domain.gate.reading import approvals

    before = places(session, draft.route_channel, draft.approvers)
    old = (draft.route_channel, list(draft.approvers), draft.usergroup, draft.required)
    draft.route_channel, draft.approvers, draft.usergroup, draft.required = (
        route.channel,
        list(route.approvers),
        route.usergroup,
        route.required,
    )
    after = places(session, draft.route_channel, draft.approvers)
    moved = before != after
    if moved:
        # Every approval message so far points at the old place: each now says where the
        # draft went, and its buttons refuse. A fresh message goes to each new place.
        for message in draft.messages:
            if message.purpose == "approval":
                message.purpose = MOVED
        for target in after:
            outbox.enqueue(
                session,
                "approval_post",
                f"draft:{draft.id}:post:{target}:moved:{now.timestamp()}",
                {"channel": target, "purpose": "approval"},
                draft_id=draft.id,
                now=now,
            )
        detail = f"moved to {where_to(session, draft)}"
    else:
        detail = "decided by the route's approvers as the chart names them now"
    counted = approvals(draft)
    audit.record(
        session,
        actor,
        "draft.rerouted",
        f"draft:{draft.id}",
        moved=moved,
        before={"channel": old[0], "approvers": old[1], "usergroup": old[2], "required": old[3]},
        after={
            "channel": route.channel,
            "approvers": route.approvers,
            "usergroup": route.usergroup,
            "required": route.required,
        },
        approvals_no_longer_counted=sorted(
            d.holder_id for d in draft.decisions if d.verdict == "approve" and d not in counted
        ),
    )
    if len(counted) >= draft.required:
        # The route now asks for no more than the approvals it already has: decided by them.
        finish(session, draft, counted[-1].holder_id, now)
        audit.record(
            session, actor, "draft.approved_by_route", f"draft:{draft.id}", approvals=[d.holder_id for d in counted]
        )
        detail = f"the route now needs {draft.required} approval(s), which it already had"
    queue_message_update(session, draft, now)
    return Consequence(
        draft.id, "approved" if draft.status == "approved" else "rerouted" if moved else "approvers", detail
    )


def follow_chart(session: Session, actor: str, now: dt.datetime | None = None) -> list[Consequence]:
    """Bring every waiting draft in line with the chart as it now stands (see the module doc)."""
    now = now or utcnow()
    session.flush()
    done: list[Consequence] = []
    # A draft waiting for its revision goes too when its seat can no longer draft: nobody could revise it.
    waiting = session.scalars(
        select(Draft)
        .where(Draft.status.in_((*DRAFT_WAITING, CHANGES_REQUESTED)))
        .order_by(Draft.id)
        .with_for_update(of=Draft)
    ).all()
    for draft in waiting:
        problem = seat_problem(session, draft)
        if problem is not None:
            done.append(withdraw_for_chart(session, draft, problem, actor, now))
            continue
        if draft.status != "pending":
            continue  # a held draft takes its route when it is released; a revision takes the route then
        try:
            route = current_route(session, draft)
        except Invalid as exc:
            done.append(
                withdraw_for_chart(
                    session, draft, f"nobody can decide it under the chart now: {exc.message}", actor, now
                )
            )
            continue
        if draft.escalated_to is not None and not escalation_stands(session, draft):
            done.append(unescalate(session, draft, actor, now))
        if not same_route(draft, route):
            done.append(reroute(session, draft, route, actor, now))
    autonomy_grants.follow_chart(session, actor, now)
    review_items.follow_chart(session, actor, now)
    return done


def escalation_stands(session: Session, draft: Draft) -> bool:
    """Whether the person the draft escalated to is still up its seat's reporting line."""
    line = (draft.seat, *reporting_line(session, draft.seat))
    return any((h := accountable_human(s.holder)) is not None and h.id == draft.escalated_to for s in line)


def unescalate(session: Session, draft: Draft, actor: str, now: dt.datetime) -> Consequence:
    """The chart moved the person a draft escalated to out of its reporting line: they no
    longer decide it (their message says the draft moved; an approval of theirs no longer
    counts), and the next sweep escalates it to whoever is up the line now."""
    was = session.get(Holder, draft.escalated_to)
    name = was.name if was else draft.escalated_to
    for message in draft.messages:
        if message.purpose == "escalation":
            message.purpose = MOVED
    draft.escalated_to, draft.escalate_at = None, now
    audit.record(session, actor, "draft.escalation_withdrawn", f"draft:{draft.id}", was=was.id if was else None)
    queue_message_update(session, draft, now)
    return Consequence(
        draft.id,
        "escalation withdrawn",
        f"{name} is no longer up the reporting line of `{draft.seat_id}`; it escalates again to whoever is",
    )
