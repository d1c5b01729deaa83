"""Reading values by period: each metric's aggregated value in each period of a window,
formula metrics computed from their inputs, gate figures and to-do completion rows from
their own tables. What the scorecard, the briefing and the review judge (metrics.py)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias, cast

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.review import completion
from otp_bot.store.domain.scorecard import formula, periods
from otp_bot.store.domain.scorecard.gate_figures import gate_values
from otp_bot.store.domain.scorecard.measures import from_base, measure_of, to_base
from otp_bot.store.models import Metric, MetricValue

if TYPE_CHECKING:
    from otp_bot.store.domain.scorecard.metric_facts import MetricFacts

# A metric read in this session, or its plain columns: reading and judging values needs
# only what both have.
MetricLike: TypeAlias = "Metric | MetricFacts"

ORG_WIDE = 1_000  # metrics read at once from which one range read beats look-ups by metric
_AGGREGATE: dict[str, Callable[[list[float]], float]] = {
    "last": lambda xs: xs[-1],
    "sum": sum,
    "avg": lambda xs: math.fsum(xs) / len(xs),  # statistics.fmean, without its overhead
    "min": min,
    "max": max,
}


def _with_formula_inputs(session: Session, metrics: Sequence[MetricLike]) -> dict[str, MetricLike]:
    wanted = {m.id: m for m in metrics}
    todo = [m for m in metrics if m.formula]
    while todo:
        for ref in formula.references(todo.pop().formula or ""):
            if ref not in wanted and (m := session.get(Metric, ref)) is not None:
                wanted[ref] = m
                if m.formula:
                    todo.append(m)
    return wanted


def period_values(
    session: Session, metrics: Iterable[MetricLike], window: Sequence[dt.date], *, org_wide: bool | None = None
) -> dict[str, list[float | None]]:
    """Each metric's aggregated value in each period of `window` (None where it has none),
    formula metrics computed; metrics without any value are left out. `org_wide`: `metrics`
    are every metric of the org (of their cadence), so the window's periods are read whole;
    by default, when they are many (ORG_WIDE)."""
    by_id = _with_formula_inputs(session, list(metrics))
    ids = [mid for mid, m in by_id.items() if not m.formula and not m.gate_figure and not completion.is_rate(m)]
    # Plain rows through the session's connection (same transaction): the ORM's row handling
    # cost more than the read itself for an org-wide scorecard.
    conn = session.connection()
    # The period as the driver gives it (SQLite: text, PostgreSQL: a date), looked up as
    # either: no date is made per row.
    columns = select(
        MetricValue.metric_id,
        type_coerce(MetricValue.period_start, String),
        MetricValue.value,
        MetricValue.is_correction,
    )
    slot_of: dict[object, int] = {}
    for i, start in enumerate(window):
        slot_of[start] = slot_of[start.isoformat()] = i
    since = window[0]
    wanted = set(ids)
    if org_wide is None:
        org_wide = len(ids) >= ORG_WIDE
    if org_wide:
        # Most of the org: the window's periods looked up in ix_metric_values_period, in its
        # order (within a period, id order: what aggregation needs), read from the index alone;
        # rows of other metrics are skipped below. The exact period starts, not the range from
        # the first: a range from four months back for the monthly metrics read every weekly
        # value of those months too (weekly periods start on Mondays, months seldom do).
        # Read in parts: twenty thousand rows held at once woke the cyclic collector for nothing.
        batches = conn.execute(
            columns.where(MetricValue.period_start.in_(window)).order_by(MetricValue.period_start, MetricValue.id)
        ).partitions(2_000)
    else:
        batches = (
            conn.execute(
                columns.where(
                    MetricValue.metric_id.in_(ids[chunk : chunk + 500]), MetricValue.period_start >= since
                ).order_by(MetricValue.id)
            ).all()
            for chunk in range(0, len(ids), 500)
        )
    # One list per metric, a slot per period: a period's first value goes in its slot, and
    # only the rare period with several values gets a list of them (to aggregate below).
    size = len(window)
    found: dict[str, list[float | None]] = {}
    several: dict[tuple[str, int], list[float]] = {}
    for rows in batches:
        for metric_id, text_or_day, value, is_correction in rows:
            slot = slot_of.get(text_or_day)
            if slot is None or metric_id not in wanted:
                continue
            slots = found.get(metric_id)
            if slots is None:
                slots = found[metric_id] = [None] * size
                slots[slot] = value
            elif slots[slot] is None or is_correction:  # a correction restarts its period
                slots[slot] = value
                if several:
                    several.pop((metric_id, slot), None)
            elif (bucket := several.get((metric_id, slot))) is not None:
                bucket.append(value)
            else:
                several[(metric_id, slot)] = [cast(float, slots[slot]), value]  # the slot holds a value
    for (metric_id, i), bucket in several.items():
        found[metric_id][i] = _AGGREGATE[by_id[metric_id].aggregation](bucket)
    # A single value is its own last, min and max; a sum or mean of one is computed as for
    # many, so that a value reads the same either way (`sum([-0.0])` is 0.0).
    for metric_id, slots in found.items():
        aggregation = by_id[metric_id].aggregation
        if aggregation in ("sum", "avg"):
            combine = _AGGREGATE[aggregation]
            for i, single in enumerate(slots):
                if single is not None and (metric_id, i) not in several:
                    slots[i] = combine([single])
    if gated := [m for m in by_id.values() if m.gate_figure]:
        tz = get_org(session).timezone
        found.update(gate_values(session, gated, window, gated[0].cadence, tz, periods.today(tz)))
    if rated := [m for m in by_id.values() if completion.is_rate(m)]:
        # The to-do completion rows (review/completion.py): one grouped read for all seats.
        found.update(completion.completion_values(session, rated, window, periods.today(get_org(session).timezone)))
    # A formula has a value where every input has one: it is tried in the few periods read,
    # not against every value of the org (that was quadratic in the number of formulas).
    for m in _formula_order(by_id):
        refs = formula.references(m.formula or "")
        inputs = [found[ref] for ref in refs if ref in found]
        if not refs or len(inputs) < len(refs):
            continue
        measures, unit = [measure_of(by_id[ref]) for ref in refs], measure_of(m)
        for i in range(size):
            present = [known for slots in inputs if (known := slots[i]) is not None]
            if len(present) == len(inputs):
                # In the units people read: `{dso-days} * 24` of a metric shown in days is in days,
                # not in the minutes a duration is stored in. The result is in the formula metric's unit.
                shown = {
                    ref: from_base(known, measure) for ref, known, measure in zip(refs, present, measures, strict=True)
                }
                result = formula.evaluate(m.formula or "", shown)
                if result is not None:
                    computed = found.setdefault(m.id, [None] * size)
                    # Only a duration's unit changes the number stored; any other float stays as it is.
                    computed[i] = float(to_base(Decimal(repr(result)), unit)) if unit.kind == "duration" else result
    return found


def _formula_order(by_id: dict[str, MetricLike]) -> list[MetricLike]:
    done: list[MetricLike] = []
    seen: set[str] = set()

    def visit(m: MetricLike) -> None:
        if m.id in seen:
            return
        seen.add(m.id)
        for ref in formula.references(m.formula or ""):
            if ref in by_id:
                visit(by_id[ref])
        if m.formula:
            done.append(m)

    for m in by_id.values():
        if m.formula:  # a metric without one adds nothing but as a formula's input
            visit(m)
    return done
