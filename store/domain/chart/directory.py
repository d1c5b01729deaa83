"""The chart at a glance, kept per chart version: every seat as its answers show it (title,
holder, owns, accountabilities, metric definitions, manager) and the Slack user of every
holder.

who-owns, `/otp seat` and knowing who is asking read it instead of the seat, its holder
and its metrics on every question: an answer then reads only its values. Rules that
decide who may do what read the live rows instead (`chart.reporting_line`): a write
changes the chart before its transaction gives it a new version.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from otp_bot.store.domain.chart.cache import per_chart
from otp_bot.store.domain.chart.reading import MAX_LINE, get_seat
from otp_bot.store.domain.errors import Conflict
from otp_bot.store.domain.scorecard.metric_facts import METRIC_COLUMNS, MetricFacts
from otp_bot.store.models import Holder, Metric, Seat, SeatOwns

T = TypeVar("T")


@dataclass(frozen=True, slots=True)  # slots: no dict per card, at 10,000 seats
class SeatCard:
    id: str
    title: str
    status: str
    holder: str | None  # the holder's name
    holder_kind: str | None
    accountable: str | None  # for a seat an agent holds: the human supervising it
    reports_to: str | None
    owns: tuple[str, ...]
    accountabilities: tuple[str, ...]
    does_not_own: tuple[str, ...]
    metrics: tuple[MetricFacts, ...]


@dataclass(frozen=True)
class Directory:
    seats: dict[str, SeatCard]
    slack_users: dict[str, tuple[str, str]]  # Slack user id -> (holder id, holder name)

    @classmethod
    def build(cls, session: Session) -> Directory:
        # Plain rows through the connection: no ORM object for each of thousands of seats.
        conn = session.connection()
        owns: dict[str, list[str]] = defaultdict(list)
        for seat_id, topic in conn.execute(select(SeatOwns.seat_id, SeatOwns.topic).order_by(SeatOwns.position)):
            owns[seat_id].append(_shared(topic))
        metrics: dict[str, list[MetricFacts]] = defaultdict(list)
        for row in conn.execute(select(*METRIC_COLUMNS).order_by(Metric.position)):
            metrics[row.seat_id].append(MetricFacts._make(map(_shared, row)))
        supervisor = aliased(Holder)
        rows = conn.execute(
            select(
                Seat.id,
                Seat.title,
                Seat.status,
                Holder.name,
                Holder.kind,
                supervisor.name,
                Seat.reports_to_id,
                Seat.accountabilities,
                Seat.does_not_own,
            )
            .outerjoin(Holder, Holder.id == Seat.holder_id)
            .outerjoin(supervisor, supervisor.id == Holder.supervisor_id)
        )
        seats = {
            seat_id: SeatCard(
                _shared(seat_id),
                _shared(title),
                _shared(status),
                _shared(holder),
                _shared(kind),
                _shared(boss) if kind == "agent" else None,
                _shared(reports_to),
                tuple(owns[seat_id]),
                tuple(map(_shared, accountabilities or ())),
                tuple(map(_shared, does_not_own or ())),
                tuple(metrics[seat_id]),
            )
            for seat_id, title, status, holder, kind, boss, reports_to, accountabilities, does_not_own in rows
        }
        users = conn.execute(select(Holder.slack_user, Holder.id, Holder.name).where(Holder.slack_user.is_not(None)))
        return cls(
            seats,
            {
                slack_user: (_shared(holder_id), _shared(name))
                for slack_user, holder_id, name in users
                if slack_user is not None
            },
        )

    def card(self, seat_id: str) -> SeatCard:
        """A seat known to be on the chart (found by search, or by `get_seat`)."""
        card = self.seats.get(seat_id)
        if card is None:
            # On the chart but not in this version of it: a change committed while the
            # answer was being made.
            raise Conflict("the chart changed while I was answering", hint="ask again")
        return card

    def line_above(self, seat_id: str) -> list[SeatCard]:
        """The seats above `seat_id`, nearest first."""
        line: list[SeatCard] = []
        up = self.seats[seat_id].reports_to if seat_id in self.seats else None
        while up is not None and len(line) < MAX_LINE:
            line.append(self.seats[up])
            up = line[-1].reports_to
        return line


def _shared(value: T) -> T:
    """One string object for every copy of a short value: the same ids, names, units and
    statuses recur in every row read (a metric names its seat, a seat its manager) and in the
    other caches of the chart version; as separate strings they took a third of its memory.
    Interned strings go when the last version holding them does."""
    return sys.intern(value) if isinstance(value, str) else value  # type: ignore[return-value]


def directory(session: Session) -> Directory:
    """The directory of the chart version `session` sees (there must be a chart)."""
    return per_chart(session, "directory", Directory.build)


def seat_card(session: Session, seat_id: str) -> SeatCard:
    """A seat by id, as `get_seat` finds it (an unknown id is NotFound, with a hint)."""
    kept = directory(session)
    card = kept.seats.get(seat_id.strip().lower())
    if card is None:
        return kept.card(get_seat(session, seat_id).id)  # get_seat: NotFound with the closest ids
    return card
