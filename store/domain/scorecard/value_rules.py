"""The rules a value must pass to be recorded, one function each: `record_value` (one
value) and `record_values` (a batch) apply exactly these."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.errors import Forbidden, Invalid
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.measures import Measure
from otp_bot.store.domain.scorecard.value_parse import as_float, parse_value
from otp_bot.store.domain.text_rules import clean_optional

MAX_NOTE = 2_000
MAX_KEY = 200


def may_push(actor: Actor, metric_id: str, seat_id: str, holder_id: str | None, holder_name: str | None) -> None:
    if actor.operator or seat_id in actor.push_seats:
        return
    if actor.holder_id is None:
        raise Forbidden(
            "you are not on the chart, so you can read but not record values",
            hint="ask an operator to add your Slack user to the chart file",
        )
    if holder_id != actor.holder_id:
        holder = holder_name or "nobody (the seat is vacant)"
        raise Forbidden(
            f"`{metric_id}` belongs to seat `{seat_id}`, held by {holder}; "
            "you can record values only for seats you hold"
        )


def check_takes_values(
    metric_id: str, seat_id: str, seat_status: str, formula_text: str | None, gate_figure: str | None = None
) -> None:
    if seat_status == "retired":
        raise Invalid(f"seat `{seat_id}` is retired: its history is kept, and it takes no new values")
    if formula_text:
        raise Invalid(f"`{metric_id}` is computed from {formula_text}; record values for those metrics instead")
    if gate_figure:
        raise Invalid(
            f"`{metric_id}` is measured at the human gate ({gate_figure} of seat `{seat_id}`'s drafts); "
            "it takes no values by hand"
        )


def parse_number(
    metric_id: str,
    measure: Measure,
    value: str | float | Decimal,
    decimal_mark: str | None = None,
    org_currency: str | None = None,
) -> float:
    """The value to store, read exactly by value_parse (every surface's one parser) or refused."""
    try:
        return as_float(parse_value(value, measure, decimal_mark=decimal_mark, org_currency=org_currency))
    except Invalid as exc:
        raise Invalid(f"`{metric_id}`: {exc.message}", hint=exc.hint) from None


def check_note_and_key(note: str | None, key: str | None) -> str | None:
    """The note as stored (by the text rule: no control characters, nothing invisible)."""
    note = clean_optional(note, "the note", multiline=True)
    if note is not None and len(note) > MAX_NOTE:
        raise Invalid("a note is at most 2,000 characters")
    if key is not None and not 1 <= len(key) <= MAX_KEY:
        raise Invalid("an idempotency key is 1 to 200 characters")
    return note


def period_start_of(period: str | dt.date | None, cadence: str, tz: str, current: dt.date) -> dt.date:
    """The start of the period a value is for; `current` is the start of the period running now."""
    if isinstance(period, dt.date):
        start = periods.period_start(period, cadence)
    else:
        start = periods.parse(period or "", cadence, tz)
    if start > current:
        raise Invalid(
            f"{periods.label(start, cadence)} has not started yet; values are recorded for past or current periods"
        )
    return start
