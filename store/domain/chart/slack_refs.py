"""What the chart points at in Slack: the channels the bot posts in, and the people it names.

Read by `otp doctor`, which asks Slack whether each is there: the bot must be a member of
every channel it posts in (or Slack answers `not_in_channel`), and each person must
resolve to a Slack user (or they cannot approve, be reminded or be told anything).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from otp_bot.store.models import ApprovalRoute, Draft, Holder, Org, Schedule
from otp_bot.store.models.gate import DRAFT_WAITING


@dataclass(frozen=True)
class ChannelUse:
    channel: str  # a channel id as the chart has it
    uses: tuple[str, ...]  # what posts there, in words: "approvals for retention, sales"


@dataclass(frozen=True)
class Person:
    holder_id: str
    name: str
    slack_user: str | None
    email: str | None


def is_channel(target: str) -> bool:
    """A public or private channel id (a DM needs no membership: a user id or a D… id)."""
    return target[:1] in ("C", "G") and target[1:].isalnum()


def channels_in_use(session: Session) -> list[ChannelUse]:
    """Every channel the bot posts in: approval routes, schedules, the coordination channel,
    and the Slack destinations of drafts not yet delivered. In the chart's order."""
    uses: dict[str, list[str]] = defaultdict(list)
    for route in session.scalars(select(ApprovalRoute).order_by(ApprovalRoute.position)):
        if route.channel:
            kinds = f" ({', '.join(route.kinds)})" if route.kinds else ""
            uses[route.channel].append(f"approvals for {', '.join(route.seats)}{kinds}")
    for schedule in session.scalars(select(Schedule).order_by(Schedule.position, Schedule.name)):
        uses[schedule.channel].append(f"the {schedule.post} (schedule {schedule.name})")
    coordination = session.scalar(select(Org.coordination_channel).where(Org.id == 1))
    if coordination:
        uses[coordination].append("seat-to-seat messages (coordination channel)")
    waiting = session.execute(
        select(Draft.destination, Draft.id)
        .where(
            Draft.destination.is_not(None),
            or_(Draft.status.in_(DRAFT_WAITING), (Draft.status == "approved") & (Draft.delivery != "delivered")),
        )
        .order_by(Draft.id)
    ).all()
    by_destination: dict[str, list[int]] = defaultdict(list)
    for destination, draft_id in waiting:
        if destination and is_channel(destination):
            by_destination[destination].append(draft_id)
    for destination, ids in by_destination.items():
        shown = ", ".join(f"#{i}" for i in ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        uses[destination].append(f"delivery of draft{'s' if len(ids) > 1 else ''} {shown}")
    return [ChannelUse(channel, tuple(what)) for channel, what in uses.items() if is_channel(channel)]


def people(session: Session) -> list[Person]:
    """The humans on the chart, in its order: each should be a Slack user."""
    rows = session.scalars(select(Holder).where(Holder.kind == "human").order_by(Holder.position, Holder.id))
    return [Person(h.id, h.name, h.slack_user, h.email) for h in rows]
