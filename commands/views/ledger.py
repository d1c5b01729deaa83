"""The trust ledger as people read it: figures in words, for `/otp seat`, App Home and the
weekly scorecard post. Pure: a ledger in, plain strings for the templates out (the
templates escape them)."""

from __future__ import annotations

from typing import Any

from otp_bot.commands.views.render import Mrkdwn, render, truncate
from otp_bot.store.domain.gate.ledger import LedgerRow, SeatLedger

REASONS_SHOWN = 3
REASON_CHARS = 120
KINDS_SHOWN = 5


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f}%"


def duration(seconds: float | None) -> str:
    """`45 s`, `9 min`, `3 h`, `2 d`: a time to decision, rounded to its unit."""
    if seconds is None:
        return "–"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


def chars(size: float | None) -> str:
    return "–" if size is None else f"{size:.0f} char{'s' if size != 1 else ''}"


def row_view(row: LedgerRow) -> dict[str, Any]:
    """One row's figures as the templates show them."""
    return {
        "kind": row.kind or "",
        "submitted": row.submitted,
        "decided": row.decided,
        "approved": row.approved,
        "rejected": row.rejected,
        "approval_rate": percent(row.approval_rate),
        "unedited": percent(row.unedited_share),
        "median_edit": chars(row.median_edit),
        "edited": row.edited,
        "median_decision": duration(row.median_decision),
        "p90_decision": duration(row.p90_decision),
        "rounds": row.rounds,
        "revised": row.revised,
        "reasons": [{"reason": truncate(r, REASON_CHARS), "times": n} for r, n in row.reasons[:REASONS_SHOWN]],
    }


def ledger_section(ledger: SeatLedger, *, reasons: bool, heading: str | None = None) -> Mrkdwn:
    """The compact ledger of one seat; the rejection reasons only for who may read them."""
    return render(
        "gate/ledger_seat.j2",
        heading=heading,
        days=ledger.days,
        total=row_view(ledger.total),
        kinds=[row_view(k) for k in ledger.kinds[:KINDS_SHOWN]] if len(ledger.kinds) > 1 else [],
        more_kinds=max(0, len(ledger.kinds) - KINDS_SHOWN),
        reasons=reasons,
        seat_id=ledger.seat_id,
    )


def gate_lines(ledgers: list[SeatLedger], holders: dict[str, str], days: int) -> Mrkdwn:
    """The scorecard post's gate section: one short line per agent seat."""
    return render(
        "gate/ledger_gate_lines.j2",
        days=days,
        seats=[
            {"title": truncate(x.title, 80), "holder": holders.get(x.seat_id, ""), "row": row_view(x.total)}
            for x in ledgers
        ],
    )
