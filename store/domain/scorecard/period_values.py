"""Reading values by period: each metric's aggregated value in each period of a window,
formula metrics computed from their inputs, gate figures and to-do completion rows from
their own tables. What the scorecard, the briefing and the review judge (metrics.py)."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, TypeAlias, TypeVar, cast

from sqlalchemy import Connection, String, select, type_coerce
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

K = TypeVar("K")


class PeriodReader(Protocol):
    """`period_values`, or a reader that returns what it would for the periods it reads."""

    def __call__(
        self, session: Session, metrics: Iterable[MetricLike], window: Sequence[dt.date], *, org_wide: bool | None
    ) -> dict[str, list[float | None]]: ...


ORG_WIDE = 1_000  # metrics read at once from which one range read beats look-ups by metric
_AGGREGATE: dict[str, Callable[[list[float]], float]] = {
    "last": lambda xs: xs[-1],
    "sum": sum,
    "avg": lambda xs: math.fsum(xs) / len(xs),  # statistics.fmean, without its overhead
    "min": min,
    "max": max,
}


def with_formula_inputs(
    session: Session, metrics: Sequence[MetricLike], known: Mapping[str, MetricLike] | None = None
) -> dict[str, MetricLike]:
    """`metrics` by id, with the inputs of their formulas (and of those inputs' formulas):
    taken from `known` where it has them, else read."""
    wanted = {m.id: m for m in metrics}
    todo = [m for m in metrics if m.formula]
    while todo:
        for ref in formula.references(todo.pop().formula or ""):
            if ref not in wanted and (m := (known or {}).get(ref) or session.get(Metric, ref)) is not None:
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
    by default, when they are many (ORG_WIDE).

    A period's value aggregates its values since its last correction (a correction restarts
    its period). One value is its own aggregate, but a sum or a mean of one is computed as
    for many, so that a value reads the same either way (`sum([-0.0])` is 0.0)."""
    by_id = with_formula_inputs(session, list(metrics))
    # Stored values are read for the plain metrics; the others are computed.
    ids: list[str] = []
    gated: list[MetricLike] = []
    rated: list[MetricLike] = []
    for mid, m in by_id.items():
        if m.gate_figure:
            gated.append(m)
        if completion.is_rate(m):
            rated.append(m)
        elif not (m.formula or m.gate_figure):
            ids.append(mid)
    # Plain rows through the session's connection (same transaction): the ORM's row handling
    # cost more than the read itself for an org-wide scorecard.
    conn = session.connection()
    if org_wide is None:
        org_wide = len(ids) >= ORG_WIDE
    read = _read_periods if org_wide else _read_by_metric
    found = read(conn, ids, by_id, window)
    if gated:
        tz = get_org(session).timezone
        found.update(gate_values(session, gated, window, gated[0].cadence, tz, periods.today(tz)))
    if rated:
        # The to-do completion rows (review/completion.py): one grouped read for all seats.
        found.update(completion.completion_values(session, rated, window, periods.today(get_org(session).timezone)))
    # A formula has a value where every input has one: it is tried in the few periods read,
    # not against every value of the org (that was quadratic in the number of formulas).
    size = len(window)
    for m in _formula_order(by_id):
        refs = formula.references(m.formula or "")
        inputs = [found[ref] for ref in refs if ref in found]
        if not refs or len(inputs) < len(refs):
            continue
        measures, unit = [measure_of(by_id[ref]) for ref in refs], measure_of(m)
        for i in range(size):
            present = [slots[i] for slots in inputs]
            if None in present:
                continue
            # In the units people read: `{dso-days} * 24` of a metric shown in days is in days,
            # not in the minutes a duration is stored in. The result is in the formula metric's unit.
            known = cast("list[float]", present)  # no None among them
            result = formula.evaluate(m.formula or "", dict(zip(refs, map(from_base, known, measures), strict=True)))
            if result is not None:
                computed = found.setdefault(m.id, [None] * size)
                # Only a duration's unit changes the number stored; any other float stays as it is.
                computed[i] = float(to_base(Decimal(repr(result)), unit)) if unit.kind == "duration" else result
    return found


def _read_periods(
    conn: Connection, ids: list[str], by_id: dict[str, MetricLike], window: Sequence[dt.date]
) -> dict[str, list[float | None]]:
    """Most of the org: each period of the window looked up in ix_metric_values_period and
    read from the index alone, in id order; rows of metrics not asked for are left aside.
    The exact period starts, not a range: a range from four months back for the monthly
    metrics read every weekly value of those months too (weekly periods start on Mondays,
    months seldom do)."""
    wanted = set(ids)
    columns: list[dict[str, float]] = []
    present: set[str] = set()
    in_period = select(MetricValue.metric_id, MetricValue.value, MetricValue.is_correction).order_by(MetricValue.id)
    for start in window:
        rows = conn.execute(in_period.where(MetricValue.period_start == start)).all()
        # A period holds one value per metric but for a few: each metric's last value made a
        # dict at once, and only the metrics with several (fewer keys than rows) aggregated
        # from their rows.
        value_of = {metric_id: value for metric_id, value, _ in rows}  # the last row of a metric wins
        several: set[str] = set()
        if len(value_of) < len(rows):
            counts = Counter(mid for mid, _, _ in rows)
            several = {mid for mid, n in counts.items() if n > 1 and mid in wanted}
            for mid, bucket in _since_correction(row for row in rows if row[0] in several).items():
                value_of[mid] = _AGGREGATE[by_id[mid].aggregation](bucket)
        if 0.0 in value_of.values():  # a lone -0.0 of a sum or a mean reads 0.0, as `sum([-0.0])` does
            for mid, v in value_of.items():
                if v == 0.0 and mid not in several and mid in wanted and by_id[mid].aggregation in ("sum", "avg"):
                    value_of[mid] = v + 0.0
        columns.append(value_of)
        present.update(value_of)
    listed = [mid for mid in ids if mid in present]
    by_slot = [list(map(d.get, listed)) for d in columns]
    return dict(zip(listed, map(list, zip(*by_slot, strict=True)), strict=True))


def _read_by_metric(
    conn: Connection, ids: list[str], by_id: dict[str, MetricLike], window: Sequence[dt.date]
) -> dict[str, list[float | None]]:
    """A few metrics: their values since the window's start, by metric id, in id order."""
    # The period as the driver gives it (SQLite: text, PostgreSQL: a date), looked up as
    # either: no date is made per row.
    slot_of: dict[object, int] = {}
    for i, start in enumerate(window):
        slot_of[start] = slot_of[start.isoformat()] = i
    columns = select(
        MetricValue.metric_id,
        type_coerce(MetricValue.period_start, String),
        MetricValue.value,
        MetricValue.is_correction,
    )
    found: dict[str, list[float | None]] = {}
    for chunk in range(0, len(ids), 500):
        rows = conn.execute(
            columns.where(
                MetricValue.metric_id.in_(ids[chunk : chunk + 500]), MetricValue.period_start >= window[0]
            ).order_by(MetricValue.id)
        ).all()
        in_window = (((mid, slot), v, fix) for mid, day, v, fix in rows if (slot := slot_of.get(day)) is not None)
        for (mid, slot), bucket in _since_correction(in_window).items():
            found.setdefault(mid, [None] * len(window))[slot] = _AGGREGATE[by_id[mid].aggregation](bucket)
    return found


def _since_correction(rows: Iterable[tuple[K, float, bool]]) -> dict[K, list[float]]:
    """Each key's values since its last correction, from rows (key, value, is_correction) in id order."""
    buckets: dict[K, list[float]] = {}
    for key, value, is_correction in rows:
        bucket = buckets.get(key)
        if bucket is None or is_correction:
            buckets[key] = [value]
        else:
            bucket.append(value)
    return buckets


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
