"""Policies that hold drafts: "retention wins over expansion".

A policy with `hold_kind` and `while_flag` holds every draft of that kind whose subject
carries that flag (set by the `winner` seat, when the policy names one). Policies
without both (an imported override rule, say) are kept as a record and hold nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from otp_bot.store.models import Flag, Policy


@dataclass(frozen=True)
class Hold:
    policy: Policy
    flag: Flag

    @property
    def reason(self) -> str:
        seat = self.flag.seat
        by = f"{seat.title} ({seat.holder.name})" if seat.holder else seat.title
        rule = (
            f"{self.policy.winner} wins over {self.policy.hold_kind}"
            if self.policy.winner
            else f"no {self.policy.hold_kind} while {self.flag.flag}"
        )
        why = f": {self.flag.reason}" if self.flag.reason else ""
        return f"{self.flag.subject} is flagged {self.flag.flag} by {by}{why}; policy {self.policy.name}: {rule}"


def active_flag_filter(now: dt.datetime):
    return (Flag.lifted_at.is_(None), or_(Flag.until.is_(None), Flag.until > now))


def hold_for(session: Session, kind: str, subject: str, now: dt.datetime) -> Hold | None:
    """The first policy (in chart order) that holds a draft of `kind` about `subject`, if any."""
    policies = [
        (p, p.while_flag.lower())
        for p in session.scalars(select(Policy).order_by(Policy.position))
        if p.hold_kind and p.while_flag and p.hold_kind.lower() == kind.lower()
    ]
    if not policies:
        return None
    flags = session.scalars(
        select(Flag).where(Flag.subject == subject, *active_flag_filter(now)).order_by(Flag.set_at, Flag.id)
    ).all()
    for policy, while_flag in policies:
        for flag in flags:
            if flag.flag == while_flag and (not policy.winner or flag.seat_id == policy.winner):
                return Hold(policy, flag)
    return None
