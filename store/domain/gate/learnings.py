"""Learnings: what the humans at the gate told a seat lately, so its next draft is better.

For a seat (and optionally one kind): the rejection reasons by frequency, the latest
rejections with their reasons, the latest changes people asked for, and the edits people
made before approving, each as a unified diff of the drafted body against the approved
text (by sentence, so a one-paragraph draft shows what changed), cut at `MAX_DIFF` characters.
Read by the seat's holder (the agent, in its briefing and over the API), the human
accountable for it, the people above it and operators (`ledger.check_reader`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_seat
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.gate.drafts import KIND
from otp_bot.store.domain.gate.ledger import REASONS_KEPT, check_reader, edit_size, window_of
from otp_bot.store.models import Draft, DraftChangeRequest, DraftDecision, Holder

MAX_DIFF = 2_000  # characters of one edit's diff
MAX_REASON = 500  # characters of one reason as quoted here
EDITS_KEPT = 5  # the latest edits
REJECTIONS_KEPT = 5  # the latest rejections
CHANGES_KEPT = 5  # the latest changes asked for


@dataclass(frozen=True)
class Rejection:
    draft_id: int
    kind: str
    title: str
    subject: str
    reason: str
    at: dt.datetime
    by: list[str] = field(default_factory=list)  # the names of the people who rejected it


@dataclass(frozen=True)
class ChangeAsked:
    draft_id: int
    kind: str
    title: str
    text: str  # what to change, as the approver wrote it
    by: str  # the approver's name
    at: dt.datetime


@dataclass(frozen=True)
class Edit:
    draft_id: int
    kind: str
    title: str
    at: dt.datetime
    changed: int  # characters changed (ledger.edit_size)
    diff: str  # unified diff, body → approved text
    cut: bool  # the diff was longer than MAX_DIFF and is cut


@dataclass(frozen=True)
class Learnings:
    seat_id: str
    kind: str | None
    since: dt.datetime
    until: dt.datetime
    reasons: list[tuple[str, int]] = field(default_factory=list)  # the most frequent first
    rejections: list[Rejection] = field(default_factory=list)  # the latest first
    edits: list[Edit] = field(default_factory=list)  # the latest first
    changes_asked: list[ChangeAsked] = field(default_factory=list)  # the latest first

    @property
    def empty(self) -> bool:
        return not (self.reasons or self.edits or self.changes_asked)


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _sentences(text: str) -> list[str]:
    """The text's lines, each split after its sentences: an agent writes a paragraph on one line,
    and a diff of that line would show the whole paragraph twice for one word changed."""
    return [piece for line in text.splitlines() for piece in (_SENTENCE_END.split(line) if line else [line])]


def unified(before: str, after: str, draft_id: int, limit: int = MAX_DIFF) -> tuple[str, bool]:
    """`before` → `after` as a unified diff by sentence, cut at `limit` characters at a line's end
    (a single sentence longer than the room left is cut within, marked with …)."""
    lines = difflib.unified_diff(
        _sentences(before), _sentences(after), f"draft #{draft_id}", "approved", lineterm="", n=1
    )
    out: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit:
            room = limit - size - 2
            if room > 40 and not line.startswith(("---", "+++", "@@")):
                out.append(line[:room] + "…")
            return "\n".join(out), True
        out.append(line)
        size += len(line) + 1
    return "\n".join(out), False


def _quote(text: str, limit: int = MAX_REASON) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def learnings(
    session: Session,
    seat_id: str,
    *,
    kind: str | None = None,
    days: int | None = None,
    now: dt.datetime | None = None,
) -> Learnings:
    """The seat's learnings over the last `days` (default 30) of submitted drafts; no check of who asks."""
    seat = get_seat(session, seat_id)
    if kind is not None:
        kind = kind.strip().lower()
        if not KIND.match(kind):
            raise Invalid(f"`{kind[:40]}` is not a kind of draft", hint="e.g. `retention-outreach`")
    since, until = window_of(days, now)
    where = [Draft.seat_id == seat.id, Draft.created_at >= since, Draft.created_at < until]
    if kind is not None:
        where.append(Draft.kind == kind)
    times = func.count().label("times")
    reasons = [
        (_quote(reason or ""), int(n))
        for reason, n in session.execute(
            select(Draft.reason, times)
            .where(*where, Draft.status == "rejected", Draft.reason.is_not(None))
            .group_by(Draft.reason)
            .order_by(times.desc(), Draft.reason)
            .limit(REASONS_KEPT)
        )
    ]
    latest = session.execute(
        select(Draft.id, Draft.kind, Draft.title, Draft.subject, Draft.reason, Draft.decided_at)
        .where(*where, Draft.status == "rejected", Draft.decided_at.is_not(None))
        .order_by(Draft.decided_at.desc(), Draft.id.desc())
        .limit(REJECTIONS_KEPT)
    ).all()
    who = _rejected_by(session, [row[0] for row in latest])
    rejections = [
        Rejection(i, k, t, subj, _quote(r or ""), as_utc(at) or until, who.get(i, []))
        for i, k, t, subj, r, at in latest
    ]
    edits = []
    for i, k, t, body, final, at in session.execute(
        select(Draft.id, Draft.kind, Draft.title, Draft.body, Draft.final_body, Draft.decided_at)
        .where(*where, Draft.status == "approved", Draft.edited.is_(True), Draft.final_body.is_not(None))
        .order_by(Draft.decided_at.desc(), Draft.id.desc())
        .limit(EDITS_KEPT)
    ):
        final = final or body
        diff, cut = unified(body, final, i)
        edits.append(Edit(i, k, t, as_utc(at) or until, edit_size(body, final), diff, cut))
    changes_asked = [
        ChangeAsked(i, k, t, _quote(text), name, as_utc(at) or until)
        for i, k, t, text, name, at in session.execute(
            select(Draft.id, Draft.kind, Draft.title, DraftChangeRequest.text, Holder.name, DraftChangeRequest.at)
            .join(DraftChangeRequest, DraftChangeRequest.draft_id == Draft.id)
            .join(Holder, Holder.id == DraftChangeRequest.holder_id)
            .where(*where)
            .order_by(DraftChangeRequest.at.desc(), Draft.id.desc())
            .limit(CHANGES_KEPT)
        )
    ]
    return Learnings(seat.id, kind, since, until, reasons, rejections, edits, changes_asked)


def _rejected_by(session: Session, draft_ids: list[int]) -> dict[int, list[str]]:
    """Who said no to each of these drafts, by name, in the order they decided."""
    if not draft_ids:
        return {}
    names: dict[int, list[str]] = {}
    for draft_id, name in session.execute(
        select(DraftDecision.draft_id, Holder.name)
        .join(Holder, Holder.id == DraftDecision.holder_id)
        .where(DraftDecision.draft_id.in_(draft_ids), DraftDecision.verdict == "reject")
        .order_by(DraftDecision.id)
    ):
        names.setdefault(draft_id, []).append(name)
    return names


def readable_learnings(
    session: Session,
    actor: Actor,
    seat_id: str,
    *,
    kind: str | None = None,
    days: int | None = None,
    now: dt.datetime | None = None,
) -> Learnings:
    """A seat's learnings for someone who may read them (`ledger.check_reader`)."""
    check_reader(session, actor, get_seat(session, seat_id))
    return learnings(session, seat_id, kind=kind, days=days, now=now)


def learnings_of_seats(session: Session, seat_ids: list[str], now: dt.datetime | None = None) -> list[Learnings]:
    """The learnings of the seats an agent holds, for its briefing; seats with nothing to learn are left out."""
    out = []
    for seat_id in seat_ids:
        found = learnings(session, seat_id, now=now)
        if not found.empty:
            out.append(found)
    return out
