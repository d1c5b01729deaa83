"""Reading the chart: seats, holders, the reporting tree."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from rapidfuzz import process
from sqlalchemy import Select, bindparam, literal, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.errors import NotFound
from otp_bot.store.models import Holder, Metric, Org, Seat

Row = TypeVar("Row", Seat, Holder, Metric)


def find_org(session: Session) -> Org | None:
    # Held for the session's life: its identity map keeps only weak references, and many
    # rules (and every per-chart cache) ask for the org, which would be a query each time.
    # Held, it is also returned without Session.get's look-up, a few times per answer.
    org = session.info.get("org")
    if org is not None and org in session:
        return org
    org = session.get(Org, 1)
    session.info["org"] = org
    return org


def get_org(session: Session) -> Org:
    org = find_org(session)
    if org is None:
        raise no_chart()
    return org


def no_chart() -> NotFound:
    return NotFound("there is no chart yet", hint="import one with `otp chart import FILE`")


def _closest(wanted: str, choices: list[str]) -> list[str]:
    return [c for c, score, _ in process.extract(wanted, choices, limit=3) if score >= 60]


def _get(session: Session, model: type[Row], key: str, noun: str, fallback: str | None) -> Row:
    row = session.get(model, key.strip().lower())
    if row is None:
        close = _closest(key, list(session.scalars(select(model.id))))
        hint = f"did you mean {', '.join(f'`{c}`' for c in close)}?" if close else fallback
        raise NotFound(f"there is no {noun} `{key}`", hint=hint)
    return row


def get_seat(session: Session, seat_id: str) -> Seat:
    return _get(session, Seat, seat_id, "seat", "`chart` lists every seat")


def get_holder(session: Session, holder_id: str) -> Holder:
    return _get(session, Holder, holder_id, "holder", None)


def get_metric(session: Session, metric_id: str) -> Metric:
    return _get(session, Metric, metric_id, "metric", "`scorecard` lists every metric")


def accountable_human(holder: Holder | None) -> Holder | None:
    """The human answerable for a seat: the holder, or an agent's supervisor."""
    if holder is None:
        return None
    return holder if holder.kind == "human" else holder.supervisor


def reporting_line(session: Session, seat: Seat) -> list[Seat]:
    """The seats above this one, nearest first."""
    ids = [s.id for s in line_above(session, seat.id)]
    found = {s.id: s for s in session.scalars(select(Seat).where(Seat.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids]


class SeatSummary(NamedTuple):
    """A seat as a line of text names it: plain columns, no ORM object."""

    id: str
    title: str
    status: str
    holder: str | None  # the holder's name
    holder_kind: str | None


def _summaries() -> Select:
    return select(Seat.id, Seat.title, Seat.status, Holder.name, Holder.kind).outerjoin(
        Holder, Holder.id == Seat.holder_id
    )


MAX_LINE = 100  # seats walked up from one seat: a guard, far above any real chart's depth


def _line_query() -> Select:
    up = (
        select(Seat.reports_to_id.label("id"), literal(1).label("depth"))
        .where(Seat.id == bindparam("seat_id"))
        .cte("up", recursive=True)
    )
    up = up.union_all(
        select(Seat.reports_to_id, up.c.depth + 1).join(up, Seat.id == up.c.id).where(up.c.depth < MAX_LINE)
    )
    return _summaries().join(up, Seat.id == up.c.id).order_by(up.c.depth)


_LINE = _line_query()  # built once: building it cost more than running it


def line_above(session: Session, seat_id: str) -> list[SeatSummary]:
    """`reporting_line` as plain rows, in one query: walking up with the ORM took three a seat."""
    return [SeatSummary(*r) for r in session.execute(_LINE, {"seat_id": seat_id})]


@dataclass
class TreeNode:
    seat: Seat
    depth: int


def seat_tree(session: Session, root: Seat | None = None) -> list[TreeNode]:
    """The chart depth-first, in chart order; below `root` when given."""
    seats = session.scalars(select(Seat).order_by(Seat.position, Seat.id)).unique().all()
    children: dict[str | None, list[Seat]] = defaultdict(list)
    for s in seats:
        children[s.reports_to_id].append(s)
    out: list[TreeNode] = []
    stack = [(root, 0)] if root is not None else [(s, 0) for s in reversed(children[None])]
    while stack:
        seat, depth = stack.pop()
        out.append(TreeNode(seat, depth))
        stack.extend((c, depth + 1) for c in reversed(children[seat.id]))
    return out


def seat_order(session: Session, root_id: str | None = None) -> list[str]:
    """Seat ids depth-first in chart order (below `root_id` when given), from plain tuples:
    cheap enough for a chart of tens of thousands of seats, when only a page is shown."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for seat_id, parent in session.execute(select(Seat.id, Seat.reports_to_id).order_by(Seat.position, Seat.id)):
        children[parent].append(seat_id)
    out: list[str] = []
    stack = [root_id] if root_id is not None else list(reversed(children[None]))
    while stack:
        seat_id = stack.pop()
        out.append(seat_id)
        stack.extend(reversed(children[seat_id]))
    return out
