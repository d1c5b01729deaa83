"""An approver's queue, and approving a group of it at once without approving anything unseen.

The queue is the drafts waiting for this person's decision, grouped by kind and subject,
the group waiting longest first. "Approve these" shows at most `MAX_BATCH` drafts of a
group, each in full, and carries what it showed: each draft's id and a fingerprint of
what was on screen (title, text, destination, the flags on its subject). On submit each
draft is decided on its own (`on_behalf.decide`, so its own decision and audit entry),
and one decided meanwhile, held by a flag, or changed since it was shown is skipped with
the reason, never approved unseen.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Conflict, Invalid
from otp_bot.store.domain.gate import decisions, on_behalf
from otp_bot.store.domain.gate.flags import active_flags
from otp_bot.store.domain.gate.queries import waiting_for
from otp_bot.store.domain.gate.reading import current_text, get_draft
from otp_bot.store.models import Draft, Flag

MAX_BATCH = 10  # drafts a person approves at once: each must be read, so a screenful, not a page of hundreds
QUEUE_READ = 500  # drafts read to group the queue; more are counted as "more" on the Home


@dataclass(frozen=True)
class QueueGroup:
    kind: str
    subject: str
    drafts: list[Draft]  # oldest first

    @property
    def count(self) -> int:
        return len(self.drafts)

    @property
    def oldest(self) -> dt.datetime | None:
        return self.drafts[0].queued_at


@dataclass(frozen=True)
class Queue:
    groups: list[QueueGroup]
    more: bool  # more drafts wait than were read


def queue(session: Session, actor: Actor, groups: frozenset[str] = frozenset(), read: int = QUEUE_READ) -> Queue:
    """The drafts waiting for this person, grouped by kind and subject, the longest waiting group first."""
    waiting = waiting_for(session, actor, groups, limit=read + 1)
    grouped: dict[tuple[str, str], list[Draft]] = {}
    for draft in waiting[:read]:  # oldest first, so each group's first draft sets its place
        grouped.setdefault((draft.kind, draft.subject), []).append(draft)
    return Queue([QueueGroup(k, s, ds) for (k, s), ds in grouped.items()], len(waiting) > read)


@dataclass(frozen=True)
class Shown:
    """One draft as the batch shows it, and the fingerprint of what it shows."""

    draft: Draft
    text: str
    flags: list[Flag]
    seen: str


@dataclass(frozen=True)
class Batch:
    kind: str
    subject: str
    drafts: list[Shown]  # the oldest of the group, at most MAX_BATCH
    total: int  # drafts in the group


def fingerprint(draft: Draft, flags: list[Flag]) -> str:
    """What an approver reads before approving: any change to it makes an earlier look stale."""
    seen = [
        draft.kind,
        draft.subject,
        draft.seat_id,
        draft.title,
        current_text(draft),
        draft.destination,
        sorted([f.id, f.flag, f.seat_id, f.reason or ""] for f in flags),
    ]
    return hashlib.sha256(json.dumps(seen).encode()).hexdigest()[:32]


def batch_for(
    session: Session,
    actor: Actor,
    kind: str,
    subject: str,
    groups: frozenset[str] = frozenset(),
    now: dt.datetime | None = None,
) -> Batch:
    """The oldest drafts of one group of this person's queue, each with what it shows."""
    group = next((g for g in queue(session, actor, groups).groups if (g.kind, g.subject) == (kind, subject)), None)
    if group is None:
        raise Conflict(f"no {kind[:64]} draft on {subject[:200]} waits for your decision now; nothing to approve")
    flags = active_flags(session, subject, now)
    shown = [Shown(d, current_text(d), flags, fingerprint(d, flags)) for d in group.drafts[:MAX_BATCH]]
    return Batch(kind, subject, shown, group.count)


def read_seen(raw: Any) -> list[tuple[int, str]]:
    """The (draft id, fingerprint) pairs a batch carried, checked: never more than `MAX_BATCH`."""
    if not isinstance(raw, list) or not raw:
        raise Invalid("this batch names no drafts; open it again from your queue")
    if len(raw) > MAX_BATCH:
        raise Invalid(f"a batch approves at most {MAX_BATCH} drafts; nothing changed")
    seen = []
    for pair in raw:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], int) and isinstance(pair[1], str)):
            raise Invalid("this batch is malformed; open it again from your queue")
        seen.append((pair[0], pair[1]))
    if len({i for i, _ in seen}) != len(seen):
        raise Invalid("this batch names a draft twice; open it again from your queue")
    return seen


def approve_seen(
    session: Session,
    actor: Actor,
    draft_id: int,
    seen: str,
    *,
    groups: frozenset[str] = frozenset(),
    now: dt.datetime | None = None,
    claim_update: dt.timedelta | None = None,
) -> decisions.Decided:
    """Approve one draft of a batch if it is still exactly what was shown; else raise why not."""
    now = now or utcnow()
    draft = get_draft(session, draft_id, lock=True)
    decisions.check_decider(session, actor, draft, None, groups)  # decided meanwhile, held, not yours
    if fingerprint(draft, active_flags(session, draft.subject, now)) != seen:
        raise Conflict(
            f"draft #{draft.id} changed after you opened the batch (its text, destination or the flags on "
            f"{draft.subject}); it was not approved",
            hint="open it from your queue again to read it as it is now",
        )
    return on_behalf.decide(session, actor, draft.id, "approve", groups=groups, now=now, claim_update=claim_update)
