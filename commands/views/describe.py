"""Small shared views of chart objects for templates (plain data, no Slack types)."""

from __future__ import annotations

from otp_bot.store.domain.chart.directory import SeatCard
from otp_bot.store.domain.chart.reading import accountable_human
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.metrics import STATUS_WINDOW, MetricRow
from otp_bot.store.models import Holder, Seat

STATUS_EMOJI = {
    "green": ":large_green_circle:",
    "yellow": ":large_yellow_circle:",
    "red": ":red_circle:",
    "none": ":white_circle:",
}
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
    return (
        named_holder_text(seat.holder, seat.holder_kind)
        if seat.holder and seat.holder_kind
        else vacancy_text(seat.status)
    )


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


def status_legend() -> str:
    """One line saying what the colours mean: once per answer, where it first uses them."""
    from otp_bot.commands.views.render import render  # describe is imported by render's users only

    return render("chart/status_legend.j2", window=STATUS_WINDOW)


def _last(count: int, cadence: str) -> str:
    unit = periods.UNIT.get(cadence, "week")
    return f"the last {unit}" if count == 1 else f"the last {count} {unit}s"


def status_words(row: MetricRow) -> str:
    """The colour in words, with the latest value's judgement, so the two never disagree
    (the definitions are in store/domain/scorecard/metrics.py): `latest on track, but missed 2 of
    the last 3 weeks` under a red circle."""
    latest = row.latest
    if latest is None:
        return "no value yet"
    now = "on track" if latest.on_track else "off track"
    last = _last(row.window, row.metric.cadence)
    if row.status == "none":
        return f"latest {now}, no value in {last}"
    if row.status == "green":
        return f"on track {'in' if row.window == 1 else 'each of'} {last}"
    if row.unreported and row.missed:
        misses = f"missed {row.missed} and no value in {row.unreported} of {last}"
    elif row.unreported:
        misses = f"no value in {row.unreported} of {last}"
    else:
        misses = f"missed {row.missed} of {last}"
    return f"latest on track, but {misses}" if latest.on_track else f"off track, {misses}"


def metric_line(row: MetricRow) -> dict[str, str]:
    latest = row.latest
    return {
        "emoji": STATUS_EMOJI[row.status],
        "name": row.metric.name,
        "id": row.metric.id,
        "value": row.show(latest.value) if latest else "no value yet",
        "goal": row.describe_goal(),
        "status": status_words(row) if latest else "",
    }
