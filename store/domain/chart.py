"""Reading the chart: seats, holders, the reporting tree."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import process
from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.errors import NotFound
from otp_bot.store.models import Holder, Metric, Org, Seat


def get_org(session: Session) -> Org:
    org = session.get(Org, 1)
    if org is None:
        raise NotFound("there is no chart yet", hint="import one with `otp chart import FILE`")
    return org


def _closest(wanted: str, choices: list[str]) -> list[str]:
    return [c for c, score, _ in process.extract(wanted, choices, limit=3) if score >= 60]


def get_seat(session: Session, seat_id: str) -> Seat:
    seat = session.get(Seat, seat_id.strip().lower())
    if seat is None:
        close = _closest(seat_id, list(session.scalars(select(Seat.id))))
        hint = f"did you mean {', '.join(f'`{c}`' for c in close)}?" if close else "`chart` lists every seat"
        raise NotFound(f"there is no seat `{seat_id}`", hint=hint)
    return seat


def get_holder(session: Session, holder_id: str) -> Holder:
    holder = session.get(Holder, holder_id.strip().lower())
    if holder is None:
        close = _closest(holder_id, list(session.scalars(select(Holder.id))))
        hint = f"did you mean {', '.join(f'`{c}`' for c in close)}?" if close else None
        raise NotFound(f"there is no holder `{holder_id}`", hint=hint)
    return holder


def get_metric(session: Session, metric_id: str) -> Metric:
    metric = session.get(Metric, metric_id.strip().lower())
    if metric is None:
        close = _closest(metric_id, list(session.scalars(select(Metric.id))))
        hint = f"did you mean {', '.join(f'`{c}`' for c in close)}?" if close else "`scorecard` lists every metric"
        raise NotFound(f"there is no metric `{metric_id}`", hint=hint)
    return metric


def accountable_human(holder: Holder | None) -> Holder | None:
    """The human answerable for a seat: the holder, or an agent's supervisor."""
    if holder is None:
        return None
    return holder if holder.kind == "human" else holder.supervisor


def reporting_line(session: Session, seat: Seat) -> list[Seat]:
    """The seats above this one, nearest first."""
    line: list[Seat] = []
    cur = seat
    while cur.reports_to_id and len(line) < 100:
        cur = session.get(Seat, cur.reports_to_id)
        if cur is None:
            break
        line.append(cur)
    return line


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
