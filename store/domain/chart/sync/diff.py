"""What importing a chart file would change, as a list of `Change`s that read as a review."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from otp_bot.store.domain.chart.chartfile.schema import ChartSpec, OrgSpec
from otp_bot.store.domain.chart.sync.route_diff import route_changes


@dataclass
class Change:
    action: str  # added, removed, changed
    entity: str  # org, holder, seat, metric, approvals, policy, schedule, rule, review
    id: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)  # the change in words, where fields would not read well

    def describe(self) -> str:
        sign = {"added": "+", "removed": "-", "changed": "~"}[self.action]
        if self.words:
            return f"{sign} {self.entity}: " + "; ".join(self.words)
        if self.action != "changed":
            return f"{sign} {self.entity} {self.id} {self.action}"
        if self.entity == "rule":  # a rule's fields are paragraphs: name them, the diff would not read
            return f"{sign} rule {self.id}: {', '.join(name.replace('_', ' ') for name in self.fields)} changed"
        parts = [f"{name} {_show(old)} → {_show(new)}" for name, (old, new) in self.fields.items()]
        return f"{sign} {self.entity} {self.id}: " + "; ".join(parts)


def _show(value: Any) -> str:
    if value is None or value == []:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _field_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (old.get(k), new.get(k)) for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)}


def _dump(spec: BaseModel, exclude: set[str] | None = None) -> dict[str, Any]:
    return spec.model_dump(mode="json", exclude=exclude)


def _keyed(
    entity: str, old: Mapping[str, BaseModel], new: Mapping[str, BaseModel], exclude: set[str] | None = None
) -> list[Change]:
    changes: list[Change] = []
    for key, spec in new.items():
        if key not in old:
            changes.append(Change("added", entity, key))
        elif fields := _field_changes(_dump(old[key], exclude), _dump(spec, exclude)):
            changes.append(Change("changed", entity, key, fields))
    changes += [Change("removed", entity, key) for key in old if key not in new]
    return changes


def diff_charts(old: ChartSpec | None, new: ChartSpec) -> list[Change]:
    if old is None:
        old = ChartSpec(org=OrgSpec(name=new.org.name, timezone=new.org.timezone))
        changes = [Change("added", "org", new.org.name)]
    else:
        changes = []
        if fields := _field_changes(_dump(old.org), _dump(new.org)):
            changes.append(Change("changed", "org", old.org.name, fields))
    changes += _keyed("holder", {h.id: h for h in old.holders}, {h.id: h for h in new.holders})
    # A seat's status is compared as what it means, not as spelled.
    old_seats = {s.id: s.model_copy(update={"status": s.effective_status}) for s in old.seats}
    new_seats = {s.id: s.model_copy(update={"status": s.effective_status}) for s in new.seats}
    changes += _keyed("seat", old_seats, new_seats, exclude={"metrics"})
    old_metrics = {m.id: (s.id, m) for s in old.seats for m in s.metrics}
    new_metrics = {m.id: (s.id, m) for s in new.seats for m in s.metrics}
    changes += _keyed("metric", {k: v[1] for k, v in old_metrics.items()}, {k: v[1] for k, v in new_metrics.items()})
    for mid, (seat_id, _) in new_metrics.items():
        if mid in old_metrics and old_metrics[mid][0] != seat_id:
            changes.append(Change("changed", "metric", mid, {"seat": (old_metrics[mid][0], seat_id)}))
    if [_dump(a) for a in old.approvals] != [_dump(a) for a in new.approvals]:
        changes.append(
            Change(
                "changed",
                "approvals",
                "routes",
                {"routes": (len(old.approvals), len(new.approvals))},
                words=route_changes(old.approvals, new.approvals),
            )
        )
    changes += _keyed("policy", {p.name: p for p in old.policies}, {p.name: p for p in new.policies})
    changes += _keyed("schedule", {s.key: s for s in old.schedules}, {s.key: s for s in new.schedules})
    changes += _keyed("rule", {r.id: r for r in old.rules}, {r.id: r for r in new.rules})
    changes += _keyed(
        "review",
        {"setup": old.review} if old.review else {},
        {"setup": new.review} if new.review else {},
    )
    if not changes and _order(old) != _order(new):
        changes.append(Change("changed", "chart", "order", {"order": ("as stored", "as in the file")}))
    return changes


def _order(chart: ChartSpec) -> tuple[Any, ...]:
    return (
        [h.id for h in chart.holders],
        [s.id for s in chart.seats],
        [[m.id for m in s.metrics] for s in chart.seats],
        [p.name for p in chart.policies],
        [s.key for s in chart.schedules],
        [r.id for r in chart.rules],
    )
