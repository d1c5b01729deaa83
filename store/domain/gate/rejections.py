"""Why people said no: the recent rejections of one seat's drafts of one kind, so the seat's
next draft of that kind does not repeat what was turned down."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.clock import as_utc
from otp_bot.store.models import Draft

RECENT = 5  # rejections shown by default: enough to see a pattern, short enough to read before drafting


@dataclass(frozen=True)
class Rejection:
    draft_id: int
    title: str
    subject: str
    reason: str
    by: list[str]  # the names of the people who rejected it
    at: dt.datetime | None


def recent_rejections(session: Session, seat_id: str, kind: str, limit: int = RECENT) -> list[Rejection]:
    """The seat's latest rejected drafts of this kind, newest first, each with the reason given."""
    rows = session.scalars(
        select(Draft)
        .where(Draft.seat_id == seat_id, Draft.kind == kind.strip().lower(), Draft.status == "rejected")
        .order_by(Draft.decided_at.desc(), Draft.id.desc())
        .limit(limit)
    ).unique()
    return [
        Rejection(
            draft_id=d.id,
            title=d.title,
            subject=d.subject,
            reason=d.reason or "no reason recorded",
            by=[x.holder.name for x in d.decisions if x.verdict == "reject"],
            at=as_utc(d.decided_at),
        )
        for d in rows
    ]
