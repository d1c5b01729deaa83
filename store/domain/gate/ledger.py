"""The trust ledger: how a seat's drafts fare at the gate, per kind, computed from the drafts,
their decisions and the audit log; never entered by hand.

A window holds the drafts *submitted* in it (default: the last 30 days). For each seat and
kind, and for the seat over every kind:

- submitted: drafts created in the window, whatever became of them (a revision is a draft
  of its own: each version counts);
- decided: of those, the versions a person judged: approved, rejected, or sent back with
  changes requested (expired, withdrawn and waiting drafts are not, nor drafts approved by
  an autonomy policy: those are counted apart, `by_policy`, so that earned autonomy does not
  inflate the record it was earned on);
- approval rate: approved / decided, so a draft that needed a round of changes counts as one
  version sent back and one approved, not as a clean approval;
- unedited share: first versions approved as written / decided (what earning autonomy
  counts): a revision approved as it stands still needed a person to say what to change;
- median edit size: over the approvals a human edited, the characters changed between
  the drafted body and the approved text (`edit_size`);
- median and p90 time to decision: from the draft going to approval (`queued_at`) to its
  final decision (`decided_at`), over decided drafts; p90 by the nearest rank;
- rejection reasons by frequency (the same text counts together);
- rounds of changes: audit entries `draft.changes_requested` on the window's drafts, and
  how many drafts had at least one.

Counts, reasons and rounds are aggregated by the database; only decided drafts' two
timestamps and edited approvals' texts are read row by row (percentiles and diffs are not
portable SQL), so 10,000 drafts cost a handful of narrow queries.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_seat, reporting_line
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.errors import Forbidden, Invalid
from otp_bot.store.domain.gate.autonomy import POLICY
from otp_bot.store.models import AuditEntry, Draft, Seat

WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 365
REASONS_KEPT = 5  # per seat and kind, the most frequent first
CHANGES_REQUESTED = "draft.changes_requested"  # the audit action of a "request changes" click
CHAR_LEVEL_LIMIT = 4_000  # changed lines longer than this together count whole, not character by character
DECIDED = ("approved", "rejected", "revised", "changes-requested")  # a person judged the version
ID_CHUNK = 500  # draft ids per IN list


@dataclass(frozen=True)
class LedgerRow:
    seat_id: str
    kind: str | None  # None: the seat over every kind
    submitted: int = 0
    decided: int = 0
    approved: int = 0
    rejected: int = 0
    unedited: int = 0  # first versions approved without an edit
    edited: int = 0  # approved with an edit
    median_edit: float | None = None  # characters, over edited approvals
    median_decision: float | None = None  # seconds, queued → decided
    p90_decision: float | None = None
    reasons: tuple[tuple[str, int], ...] = ()  # (reason, times), the most frequent first
    rounds: int = 0  # changes requested, over the window's drafts
    revised: int = 0  # drafts with at least one round of changes
    by_policy: int = 0  # approved by an autonomy policy: submitted, not decided by a person

    @property
    def approval_rate(self) -> float | None:
        return self.approved / self.decided if self.decided else None

    @property
    def unedited_share(self) -> float | None:
        return self.unedited / self.decided if self.decided else None


@dataclass(frozen=True)
class SeatLedger:
    """One seat's ledger: the seat over every kind, then each kind (the busiest first)."""

    seat_id: str
    title: str
    since: dt.datetime
    until: dt.datetime
    total: LedgerRow
    kinds: list[LedgerRow] = field(default_factory=list)

    @property
    def days(self) -> int:
        return round((self.until - self.since).total_seconds() / 86400)


# ---------------------------------------------------------------- who may read it


def check_reader(session: Session, actor: Actor, seat: Seat) -> None:
    """The ledger and learnings of a seat are for its holder, the human accountable for it
    (an agent's supervisor), the people holding a seat above it in the reporting line, and
    operators. Learnings quote draft text meant for customers, so nobody else reads them."""
    if actor.operator:
        return
    if actor.holder_id is not None:
        holder = seat.holder
        if holder is not None and actor.holder_id in (holder.id, holder.supervisor_id):
            return
        if any(s.holder_id == actor.holder_id for s in reporting_line(session, seat)):
            return
    raise Forbidden(
        f"seat `{seat.id}`'s trust ledger is for its holder, the human accountable for it, "
        "the people above it in the reporting line and operators"
    )


def may_read(session: Session, actor: Actor, seat: Seat) -> bool:
    try:
        check_reader(session, actor, seat)
    except Forbidden:
        return False
    return True


def window_of(days: int | None, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    now = now or utcnow()
    days = WINDOW_DAYS if days is None else days
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise Invalid(f"a window is 1 to {MAX_WINDOW_DAYS} days, not {days}")
    return now - dt.timedelta(days=days), now


# ---------------------------------------------------------------- the figures


# Bodies run to 20,000 characters: a few hundred pairs kept is enough for a ledger read again and
# again (App Home, the weekly post), and bounds what the cache can hold to a few megabytes.
@lru_cache(maxsize=256)
def edit_size(before: str, after: str) -> int:
    """Characters changed from `before` to `after` (difflib): the changed lines are found
    first, then within them each inserted, deleted or replaced run counts its longer side.
    `Hi Jo` → `Hello Jo` is 4 (`i` replaced by `ello`); a deleted sentence counts its length."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    total = 0
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        old, new = "".join(a[i1:i2]), "".join(b[j1:j2])
        if tag == "replace" and len(old) + len(new) <= CHAR_LEVEL_LIMIT:
            total += sum(
                max(y2 - y1, z2 - z1)
                for op, y1, y2, z1, z2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
                if op != "equal"
            )
        else:
            total += max(len(old), len(new))
    return total


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value with `share` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def ledger_rows(
    session: Session,
    since: dt.datetime,
    until: dt.datetime,
    seat_ids: Iterable[str] | None = None,
    *,
    by_kind: bool = True,
) -> dict[str, list[LedgerRow]]:
    """Seat id → its rows: the seat over every kind first, then (`by_kind`) each kind, the
    busiest first. Seats without drafts in the window are left out."""
    wanted = sorted(set(seat_ids)) if seat_ids is not None else None
    if wanted == []:
        return {}

    def scoped(query: Select) -> Select:
        query = query.where(Draft.created_at >= since, Draft.created_at < until)
        return query.where(Draft.seat_id.in_(wanted)) if wanted is not None else query

    counts: dict[tuple[str, str], list[int]] = {}
    by_person = or_(Draft.decided_by.is_(None), Draft.decided_by != POLICY)
    is_approved = and_(Draft.status == "approved", by_person)
    for seat_id, kind, *numbers in session.execute(
        scoped(
            select(
                Draft.seat_id,
                Draft.kind,
                func.count(),
                func.sum(case((and_(Draft.status.in_(DECIDED), by_person), 1), else_=0)),
                func.sum(case((is_approved, 1), else_=0)),
                func.sum(case((Draft.status == "rejected", 1), else_=0)),
                func.sum(case((and_(is_approved, Draft.edited.is_(False), Draft.round == 1), 1), else_=0)),
                func.sum(case((and_(is_approved, Draft.edited.is_(True)), 1), else_=0)),
                func.sum(case((Draft.decided_by == POLICY, 1), else_=0)),
            ).group_by(Draft.seat_id, Draft.kind)
        )
    ):
        counts[(seat_id, kind)] = [int(n or 0) for n in numbers]

    waits: dict[tuple[str, str], list[float]] = defaultdict(list)
    for seat_id, kind, queued, decided in session.execute(
        scoped(
            select(Draft.seat_id, Draft.kind, Draft.queued_at, Draft.decided_at).where(
                Draft.status.in_(DECIDED), by_person, Draft.queued_at.is_not(None), Draft.decided_at.is_not(None)
            )
        )
    ):
        waits[(seat_id, kind)].append(max(0.0, (as_utc(decided) - as_utc(queued)).total_seconds()))

    edits: dict[tuple[str, str], list[float]] = defaultdict(list)
    for seat_id, kind, body, final in session.execute(
        scoped(
            select(Draft.seat_id, Draft.kind, Draft.body, Draft.final_body).where(
                is_approved, Draft.edited.is_(True), Draft.final_body.is_not(None)
            )
        )
    ):
        edits[(seat_id, kind)].append(float(edit_size(body, final)))

    reasons: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    times = func.count().label("times")
    for seat_id, kind, reason, n in session.execute(
        scoped(
            select(Draft.seat_id, Draft.kind, Draft.reason, times)
            .where(Draft.status == "rejected", Draft.reason.is_not(None))
            .group_by(Draft.seat_id, Draft.kind, Draft.reason)
            .order_by(times.desc(), Draft.reason)
        )
    ):
        reasons[(seat_id, kind)][reason] = int(n)

    rounds = _rounds(session, since, scoped)

    def row(seat_id: str, kind: str | None, keys: list[tuple[str, str]]) -> LedgerRow:
        sums = [sum(counts[k][i] for k in keys) for i in range(7)]
        merged: dict[str, int] = defaultdict(int)
        for k in keys:
            for reason, n in reasons.get(k, {}).items():
                merged[reason] += n
        all_waits = [w for k in keys for w in waits.get(k, [])]
        all_edits = [e for k in keys for e in edits.get(k, [])]
        submitted, decided, approved, rejected, unedited, edited, by_policy = sums
        return LedgerRow(
            seat_id,
            kind,
            submitted,
            decided,
            approved,
            rejected,
            unedited,
            edited,
            median_edit=_median(all_edits),
            median_decision=_median(all_waits),
            p90_decision=percentile(all_waits, 0.9),
            reasons=tuple(sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:REASONS_KEPT]),
            rounds=sum(rounds.get(k, (0, 0))[0] for k in keys),
            revised=sum(rounds.get(k, (0, 0))[1] for k in keys),
            by_policy=by_policy,
        )

    by_seat: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key in counts:
        by_seat[key[0]].append(key)
    out: dict[str, list[LedgerRow]] = {}
    for seat_id, keys in sorted(by_seat.items()):
        rows = [row(seat_id, None, keys)]
        if by_kind:
            kinds = [row(seat_id, k[1], [k]) for k in keys]
            rows += sorted(kinds, key=lambda r: (-r.submitted, r.kind or ""))
        out[seat_id] = rows
    return out


def _rounds(
    session: Session, since: dt.datetime, scoped: Callable[[Select], Select]
) -> dict[tuple[str, str], tuple[int, int]]:
    """(seat, kind) → (changes requested, drafts with any) over the window's drafts.

    Counted per draft from the audit log first (its action index; a request comes after the
    draft's submission, so none before `since` counts), then matched to the window's
    drafts by id: a join on `'draft:' || id` is at the planner's mercy when its statistics
    are stale."""
    per_draft: dict[int, int] = {}
    for subject, n in session.execute(
        select(AuditEntry.subject, func.count())
        .where(AuditEntry.action == CHANGES_REQUESTED, AuditEntry.at >= since)
        .group_by(AuditEntry.subject)
    ):
        number = subject.removeprefix("draft:")
        if number.isdigit():
            per_draft[int(number)] = int(n)
    found: dict[tuple[str, str], tuple[int, int]] = {}
    ids = sorted(per_draft)
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        for draft_id, seat_id, kind in session.execute(
            scoped(select(Draft.id, Draft.seat_id, Draft.kind).where(Draft.id.in_(chunk)))
        ):
            n, drafts = found.get((seat_id, kind), (0, 0))
            found[(seat_id, kind)] = (n + per_draft[draft_id], drafts + 1)
    return found


def seat_ledger(
    session: Session, seat_id: str, *, days: int | None = None, now: dt.datetime | None = None
) -> SeatLedger:
    """One seat's ledger over the last `days` (default 30), whoever asks: the surfaces that
    show it to anyone check `check_reader` first, or show only the figures."""
    seat = get_seat(session, seat_id)
    since, until = window_of(days, now)
    rows = ledger_rows(session, since, until, [seat.id]).get(seat.id) or [LedgerRow(seat.id, None)]
    return SeatLedger(seat.id, seat.title, since, until, rows[0], rows[1:])


def readable_ledger(
    session: Session, actor: Actor, seat_id: str, *, days: int | None = None, now: dt.datetime | None = None
) -> SeatLedger:
    """A seat's ledger for someone who may read it (`check_reader`)."""
    check_reader(session, actor, get_seat(session, seat_id))
    return seat_ledger(session, seat_id, days=days, now=now)


def agent_seat_ledgers(
    session: Session, since: dt.datetime, until: dt.datetime, seat_ids: Iterable[str] | None = None
) -> list[SeatLedger]:
    """The ledgers (every kind together) of the live seats agents hold, in chart order; of
    `seat_ids` only, when given. Seats without drafts in the window are left out."""
    from otp_bot.store.models import Holder

    query = (
        select(Seat.id, Seat.title)
        .join(Holder, Holder.id == Seat.holder_id)
        .where(Seat.status != "retired", Holder.kind == "agent")
        .order_by(Seat.position, Seat.id)
    )
    if seat_ids is not None:
        query = query.where(Seat.id.in_(sorted(set(seat_ids))))
    seats = list(session.execute(query))
    # Every seat's drafts when no seats are named: one pass, not an IN list of thousands of seats.
    rows = ledger_rows(session, since, until, [s.id for s in seats] if seat_ids is not None else None, by_kind=False)
    return [SeatLedger(s.id, s.title, since, until, rows[s.id][0]) for s in seats if s.id in rows]
