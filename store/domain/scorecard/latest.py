"""Each metric's latest value, judged on or off track: what the daily briefing reads of every
metric of the org, without the colours, trends and averages of a scorecard row.

The same values and the same judgement as `metric_rows` (metrics.py) over the same periods:
a metric is off track when its latest value misses its goal. Built for ten thousand metrics
at a time, where a full row per metric was most of the briefing's time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlalchemy.orm import Session

from otp_bot.store.domain.scorecard.goals import Goal
from otp_bot.store.domain.scorecard.metrics import Cell, GoalKey, MetricLike, shared_goal, windowed_values
from otp_bot.store.domain.scorecard.period_values import period_values, with_formula_inputs


class Latest(NamedTuple):
    metric: MetricLike
    goal: Goal
    latest: Cell | None  # the last period of the window with a value
    silent: bool  # no value in the current period nor the one before

    @property
    def off_track(self) -> bool:
        return self.latest is not None and self.latest.on_track is False


def latest_values(
    session: Session,
    metrics: Sequence[MetricLike],
    *,
    weeks: int,
    today: dt.date | None = None,
    org_wide: bool | None = None,
) -> list[Latest]:
    """Each metric's latest value in the periods the last `weeks` touch, in `metrics` order."""
    by_cadence, values = windowed_values(session, metrics, weeks, today, org_wide, read=latest_first)
    goals: dict[GoalKey, Goal] = {}
    # Rows and cells made straight from tuples, and each cadence's values looked up once: a
    # NamedTuple's own constructor is a Python call, and the briefing judges ten thousand.
    make = tuple.__new__
    out = []
    for m in metrics:
        # shared_goal's own look-up, made here first: a call per metric cost more than the look-up.
        goal = goals.get((m.goal_op, m.goal_value, m.goal_high)) if m.goal_value else None
        if goal is None:
            goal = shared_goal(goals, m)
        window = by_cadence[m.cadence]
        slots = values[m.cadence].get(m.id)
        if slots is None:
            out.append(make(Latest, (m, goal, None, len(window) >= 2)))
            continue
        i = len(slots) - 1
        while i >= 0 and slots[i] is None:
            i -= 1
        value = slots[i]
        latest = None if value is None else make(Cell, (window[i], value, goal.met_by(value)))
        out.append(make(Latest, (m, goal, latest, len(slots) >= 2 and slots[-1] is None and slots[-2] is None)))
    return out


def latest_first(
    session: Session, metrics: Iterable[MetricLike], window: Sequence[dt.date], *, org_wide: bool | None
) -> dict[str, list[float | None]]:
    """`period_values`, read back only as far as each metric's latest value: the newest period
    first, then the older ones for the metrics without a value in it (and the inputs of the
    formulas without one). Older slots of a metric with a value in the newest period may be
    left None: neither the latest value nor the silence (no value in the last two periods)
    looks past that value. When most metrics have this period's value, the others' older
    periods are read as `period_values` reads so many metrics (by metric below ORG_WIDE);
    when most are still pending (a Monday morning), they are read as the org is, as before."""
    metrics = list(metrics)
    newest = period_values(session, metrics, window[-1:], org_wide=org_wide)
    pending = [m for m in metrics if (slots := newest.get(m.id)) is None or slots[0] is None]
    older: dict[str, list[float | None]] = {}
    if pending and len(window) > 1:
        # A pending formula's inputs are among `metrics`: taken from there, not read again.
        inputs = with_formula_inputs(session, pending, known={m.id: m for m in metrics})
        most = org_wide if len(pending) * 2 >= len(metrics) else (None if org_wide is not False else False)
        older = period_values(session, list(inputs.values()), window[:-1], org_wide=most)
    before: list[float | None] = [None] * (len(window) - 1)
    found = {mid: older.get(mid, before) + slots for mid, slots in newest.items()}
    found.update((mid, [*slots, None]) for mid, slots in older.items() if mid not in found)
    return found
