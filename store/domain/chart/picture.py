"""What a picture of the chart shows: each seat with its holder, whether a human or an agent
holds it (or nobody), and how its metrics stand now, in the tree's order.

Plain data, read in one pass over the seats and one over the metrics' current status, for
whoever draws it (commands/views/chart_image.py); no rule here decides anything new: the
off-track count is the scorecard's own (`MetricRow.off_track`: the latest value misses its
goal), and a metric without a value yet is neither on nor off track.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.reading import get_org, get_seat, seat_tree
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.metrics import current_rows


@dataclass(frozen=True, slots=True)
class PictureSeat:
    id: str
    title: str
    parent: str | None  # the seat above it in the picture; None for the picture's top seats
    holder: str | None  # the holder's name
    holder_kind: str | None  # human, agent; None when nobody holds it
    status: str  # active, vacant, planned, retired
    metrics: int
    off_track: int  # metrics whose latest value misses its goal
    on_track: int  # metrics whose latest value meets it (the rest have no value yet)


@dataclass(frozen=True)
class ChartPicture:
    org: str
    branch: str | None  # the title of the seat the picture starts at, when not the whole chart
    seats: list[PictureSeat]  # depth first, in chart order: a seat comes after its parent
    as_of: dt.date

    @property
    def humans(self) -> int:
        return sum(1 for s in self.seats if s.holder_kind == "human")

    @property
    def agents(self) -> int:
        return sum(1 for s in self.seats if s.holder_kind == "agent")

    @property
    def vacant(self) -> int:
        return sum(1 for s in self.seats if s.holder_kind is None and s.status != "retired")

    @property
    def off_track_seats(self) -> int:
        return sum(1 for s in self.seats if s.off_track)


def chart_picture(session: Session, root_id: str | None = None) -> ChartPicture:
    """The chart (below `root_id` when given) as a picture shows it. A retired seat is left
    out unless seats still report to it: then it stays, so their line stays true."""
    org = get_org(session)
    today = periods.today(org.timezone)
    root = get_seat(session, root_id) if root_id else None
    nodes = seat_tree(session, root)
    kept: set[str] = set()
    needed: set[str | None] = set()  # the seats a kept seat reports to
    for n in reversed(nodes):  # a seat comes after its parent: reversed, the reports come first
        if n.seat.status != "retired" or n.seat.id in needed or n.seat is root:
            kept.add(n.seat.id)
            needed.add(n.seat.reports_to_id)
    seats = [n.seat for n in nodes if n.seat.id in kept]
    rows = current_rows(session, [m for s in seats if s.status != "retired" for m in s.metrics], today=today)
    metrics: dict[str, int] = {}
    off: dict[str, int] = {}
    on: dict[str, int] = {}
    for r in rows:
        seat_id = r.metric.seat_id
        metrics[seat_id] = metrics.get(seat_id, 0) + 1
        off[seat_id] = off.get(seat_id, 0) + int(r.off_track)
        on[seat_id] = on.get(seat_id, 0) + int(r.latest is not None and r.latest.on_track is True)
    return ChartPicture(
        org=org.name,
        branch=root.title if root is not None else None,
        seats=[
            PictureSeat(
                id=s.id,
                title=s.title,
                parent=s.reports_to_id if s.reports_to_id in kept else None,
                holder=s.holder.name if s.holder else None,
                holder_kind=s.holder.kind if s.holder else None,
                status=s.status,
                metrics=metrics.get(s.id, 0),
                off_track=off.get(s.id, 0),
                on_track=on.get(s.id, 0),
            )
            for s in seats
        ],
        as_of=today,
    )
