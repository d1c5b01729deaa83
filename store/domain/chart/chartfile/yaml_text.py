"""The chart file's YAML: read strictly (a repeated key is a located problem) and written back tersely."""

from __future__ import annotations

from typing import Any

import yaml

from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.schema import ChartSpec
from otp_bot.store.domain.collector import collector_paused
from otp_bot.store.domain.scorecard.measures import Measure, compact


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml when built
    """PyYAML keeps the last of two equal keys silently; a chart file must not. libyaml's
    parser reads a 10,000-seat chart several times faster than PyYAML's own."""


class _ExactLoader(yaml.SafeLoader):
    """PyYAML's own parser: what a file that does not parse is told, in PyYAML's words."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


for _loader in (_UniqueKeyLoader, _ExactLoader):
    # Dates stay text (`holidays: [2026-12-25]`): the schema parses them and names a bad one,
    # where PyYAML would raise a bare ValueError for 2026-13-01.
    _loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, source: str) -> Any:
    try:
        with collector_paused():
            return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError:
        pass
    # The file does not parse: read it again with PyYAML's parser, whose messages the
    # operator is shown (libyaml words some problems differently).
    try:
        return yaml.load(text, Loader=_ExactLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ChartErrors(source, [(where, f"not valid YAML: {problem}")]) from None


def _metric_words(dumped: dict[str, Any], measure: Measure, org_currency: str) -> dict[str, Any]:
    rest = {k: v for k, v in dumped.items() if k not in ("kind", "unit", "currency")}
    head: dict[str, Any] = {k: rest.pop(k) for k in ("id", "name") if k in rest}
    return {**head, **compact(measure, org_currency), **rest}


def dump_chart(chart: ChartSpec) -> str:
    data = chart.model_dump(mode="json", exclude_defaults=True)
    # A metric's measure in the fewest words that read back the same: `unit: days`.
    specs = {m.id: m for s in chart.seats for m in s.metrics}
    for seat in data.get("seats", []):
        seat["metrics"] = [
            _metric_words(m, specs[m["id"]].measure, chart.org.currency) for m in seat.get("metrics", [])
        ]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None)
