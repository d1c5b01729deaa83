"""Where a draft goes for a decision: the chart's `approvals:` routes, else the accountable human.

A route is resolved when the draft goes to approval and copied onto the draft (where its
message goes); a decision resolves it again from the chart as it is then, and a chart change
re-routes waiting drafts (chart_gate.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.reading import accountable_human, reporting_line
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.models import MAX_ROUNDS, ApprovalRoute, Holder, Seat

REMIND_AFTER = 4 * 60  # minutes
ESCALATE_AFTER = 12 * 60
EXPIRES_AFTER = 24 * 60


@dataclass(frozen=True)
class Route:
    channel: str  # a channel id; "" means a DM to each approver
    approvers: list[str]  # holder ids
    usergroup: str | None
    required: int
    remind_after: int
    escalate_after: int
    expires_after: int
    max_rounds: int = MAX_ROUNDS  # versions of a draft: changes asked of the last one reject it


def _matches(route: ApprovalRoute, seat_id: str, kind: str) -> bool:
    return seat_id in route.seats and (not route.kinds or kind in {k.lower() for k in route.kinds})


def next_human_up(session: Session, seat: Seat, exclude: set[str]) -> Holder | None:
    """The nearest accountable human above `seat` (its own first) who is not in `exclude`."""
    for candidate in (seat, *reporting_line(session, seat)):
        human = accountable_human(candidate.holder)
        if human is not None and human.id not in exclude:
            return human
    return None


def route_for(session: Session, seat: Seat, kind: str, drafter: Holder) -> Route:
    for route in session.scalars(select(ApprovalRoute).order_by(ApprovalRoute.position)):
        if _matches(route, seat.id, kind):
            eligible = [a for a in route.approvers if a != drafter.id]
            if not route.usergroup and len(eligible) < route.required:
                raise Invalid(
                    f"the approval route for `{seat.id}` needs {route.required} approvals, but only "
                    f"{len(eligible)} approver(s) besides the drafter are named",
                    hint="add approvers to the route in the chart file",
                )
            return Route(
                route.channel or "",
                eligible,
                route.usergroup,
                route.required,
                route.remind_after or REMIND_AFTER,
                route.escalate_after or ESCALATE_AFTER,
                route.expires_after or EXPIRES_AFTER,
                route.max_rounds or MAX_ROUNDS,
            )
    # No route: the human accountable for the seat decides, by DM. Nothing is dropped.
    human = next_human_up(session, seat, exclude={drafter.id})
    if human is None:
        raise Invalid(
            f"nobody can decide drafts from `{seat.id}`: it has no approval route and no human above it",
            hint="add an `approvals:` route for the seat to the chart file",
        )
    if not human.slack_user:
        raise Invalid(
            f"drafts from `{seat.id}` go to {human.name} by DM, but {human.name} has no `slack_user` in the chart",
            hint="add their Slack user id, or an `approvals:` route with a channel",
        )
    return Route("", [human.id], None, 1, REMIND_AFTER, ESCALATE_AFTER, EXPIRES_AFTER)
