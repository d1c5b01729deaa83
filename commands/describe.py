"""Small shared views of chart objects for templates (plain data, no Slack types)."""

from __future__ import annotations

from otp_bot.store.domain.chart import accountable_human
from otp_bot.store.domain.directory import SeatCard
from otp_bot.store.domain.metrics import MetricRow
from otp_bot.store.models import Holder, Seat

STATUS_EMOJI = {"green": ":large_green_circle:", "yellow": ":large_yellow_circle:", "red": ":red_circle:", "none": ":white_circle:"}
TREND = {"up": "↑", "down": "↓", "flat": "→", None: " "}


def holder_text(holder: Holder | None) -> str:
    if holder is None:
        return "vacant"
    return named_holder_text(holder.name, holder.kind)


def named_holder_text(name: str, kind: str) -> str:
    return f"{name} (agent)" if kind == "agent" else f"{name} (human)"


def seat_holder_text(seat: Seat) -> str:
    return holder_text(seat.holder) if seat.holder is not None else vacancy_text(seat.status)


def card_holder_text(seat: SeatCard) -> str:
    """`seat_holder_text` for a seat as the directory keeps it."""
    return named_holder_text(seat.holder, seat.holder_kind) if seat.holder and seat.holder_kind else vacancy_text(seat.status)


def vacancy_text(status: str) -> str:
    """What stands for the holder of a seat without one (a retired seat never has one)."""
    if status == "retired":
        return "retired"
    return "planned, not yet filled" if status == "planned" else "vacant"


def accountable_text(seat: Seat) -> str | None:
    human = accountable_human(seat.holder)
    if seat.holder is not None and seat.holder.kind == "agent" and human is not None:
        return human.name
    return None


def metric_line(row: MetricRow) -> dict[str, str]:
    latest = row.latest
    return {
        "emoji": STATUS_EMOJI[row.status],
        "name": row.metric.name,
        "id": row.metric.id,
        "value": row.show(latest.value) if latest else "no value yet",
        "goal": row.goal.describe(row.metric.unit),
        "on_track": "" if latest is None else ("on track" if latest.on_track else "off track"),
    }
