"""Scorecard metrics measured at the human gate: a seat's trust-ledger figures, period by period.

A metric in the chart file may say `gate: approval-rate` instead of taking values: its value
in each week (or month) is the ledger figure of the drafts the seat submitted in that
period (store/domain/gate/ledger.py), computed when the scorecard is read, never entered by
hand. So an agent's approval rate, unedited share or time to decision sits on its
scorecard row with a goal the chart sets, on or off track like any other metric.

A period's bounds are its days in the org's time zone. A rate has no value in a period
without a decided draft (nothing to judge), a count is 0 in a period without drafts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from otp_bot.store.domain.gate.ledger import LedgerRow, ledger_rows
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.models import MetricKind


@dataclass(frozen=True)
class Figure:
    kind: MetricKind  # the metric's kind must be this one
    unit: str | None  # the display unit when the chart file names none
    read: Callable[[LedgerRow], float | None]  # in the kind's stored form: percent points, minutes
    count: bool = False  # 0 in a period without drafts, rather than no value
    about: str = ""


def _share(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


FIGURES: dict[str, Figure] = {
    "drafts-submitted": Figure("number", "drafts", lambda r: float(r.submitted), True, "drafts submitted"),
    "approval-rate": Figure("percent", None, lambda r: _share(r.approved, r.decided), about="approved / decided"),
    "unedited-share": Figure(
        "percent", None, lambda r: _share(r.unedited, r.decided), about="approved without an edit / decided"
    ),
    "rejection-rate": Figure("percent", None, lambda r: _share(r.rejected, r.decided), about="rejected / decided"),
    "median-edit": Figure(
        "number", "characters", lambda r: r.median_edit, about="characters people changed, median over edited approvals"
    ),
    "median-time-to-decision": Figure(
        "duration", "minutes", lambda r: _minutes(r.median_decision), about="from approval request to decision"
    ),
    "p90-time-to-decision": Figure(
        "duration", "minutes", lambda r: _minutes(r.p90_decision), about="the slowest tenth of decisions start here"
    ),
    "rounds-of-changes": Figure("number", "rounds", lambda r: float(r.rounds), True, "changes requested"),
}


class GateMetric(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def seat_id(self) -> str: ...
    @property
    def gate_figure(self) -> str | None: ...


def figure(name: str) -> Figure:
    """The figure a chart file names; ValueError lists the ones there are."""
    found = FIGURES.get(name.strip().lower())
    if found is None:
        raise ValueError(f"unknown gate figure {name!r}; use one of {', '.join(FIGURES)}")
    return found


def _instant(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)


def gate_values(
    session: Session,
    metrics: Sequence[GateMetric],
    window: Sequence[dt.date],
    cadence: str,
    timezone: str,
    today: dt.date,
) -> dict[str, list[float | None]]:
    """Each gate metric's value in each period of `window` (periods that have not begun have none).
    One ledger read per period for all of them, whatever their number."""
    measured = [m for m in metrics if m.gate_figure]
    if not measured or not window:
        return {}
    zone = ZoneInfo(timezone)
    seats = sorted({m.seat_id for m in measured})
    found: dict[str, list[float | None]] = {m.id: [None] * len(window) for m in measured}
    for slot, start in enumerate(window):
        if start > today:
            continue
        since, until = _instant(start, zone), _instant(periods.shift(start, cadence, 1), zone)
        rows = ledger_rows(session, since, until, seats, by_kind=False)
        for m in measured:
            spec = FIGURES[m.gate_figure or ""]
            row = rows.get(m.seat_id)
            found[m.id][slot] = spec.read(row[0]) if row else (0.0 if spec.count else None)
    return found
