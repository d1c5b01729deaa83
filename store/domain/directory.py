"""The chart at a glance, kept per chart version: every seat's title, holder and manager,
and the Slack user of every holder.

For answers that name seats (who-owns and its closest seats, a reporting line) and for
knowing who is asking, without a query each time. Rules that decide who may do what read
the live rows instead (`chart.reporting_line`): a write changes the chart before its
transaction gives it a new version.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart import MAX_LINE, SeatSummary, summaries_query
from otp_bot.store.domain.chart_cache import per_chart
from otp_bot.store.models import Holder, Seat


@dataclass(frozen=True)
class Directory:
    seats: dict[str, SeatSummary]
    manager: dict[str, str | None]  # seat -> the seat it reports to
    slack_users: dict[str, tuple[str, str]]  # Slack user id -> (holder id, holder name)

    @classmethod
    def build(cls, session: Session) -> Directory:
        # Plain rows through the connection: no ORM object for each of thousands of seats.
        conn = session.connection()
        seats, manager = {}, {}
        for row in conn.execute(summaries_query().add_columns(Seat.reports_to_id)):
            seats[row[0]] = SeatSummary(*row[:5])
            manager[row[0]] = row[5]
        users = conn.execute(select(Holder.slack_user, Holder.id, Holder.name).where(Holder.slack_user.is_not(None)))
        return cls(seats, manager, {slack_user: (holder_id, name) for slack_user, holder_id, name in users})

    def line_above(self, seat_id: str) -> list[SeatSummary]:
        """The seats above `seat_id`, nearest first."""
        line: list[SeatSummary] = []
        up = self.manager.get(seat_id)
        while up is not None and len(line) < MAX_LINE:
            line.append(self.seats[up])
            up = self.manager.get(up)
        return line


def directory(session: Session) -> Directory:
    """The directory of the chart version `session` sees (there must be a chart)."""
    return per_chart(session, "directory", Directory.build)
