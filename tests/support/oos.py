"""OOS documents built in code and converted, for the importer's tests; the samples shipped in examples/."""

from __future__ import annotations

import json
from typing import Any

import pytest

from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.schema import ChartSpec
from otp_bot.store.domain.chart.oos import convert_oos_text
from tests.support.paths import EXAMPLES

SAMPLE_MD = EXAMPLES / "otp-platform.oos.md"
SAMPLE_JSON = EXAMPLES / "otp-platform.oos.json"


def doc(
    agents: list[dict[str, Any]] | None = None, humans: list[dict[str, Any]] | None = None, **top: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {"organization": "Acme", "entities": {}}
    data["entities"]["humans"] = humans if humans is not None else [{"id": "HMN-001", "name": "Bo", "role": "COO"}]
    data["entities"]["agents"] = agents if agents is not None else []
    data.update(top)
    return data


def agent(n: int, name: str, role: str, **fields: Any) -> dict[str, Any]:
    return {"id": f"AGT-{n:03d}", "name": name, "role": role, "escalates_to": "HMN-001", **fields}


def convert(data: dict[str, Any]) -> tuple[ChartSpec, list[str]]:
    found = convert_oos_text(json.dumps(data), "t.oos.json")
    return found.chart, found.report


def problems(data: dict[str, Any] | str) -> list[tuple[str, str]]:
    text = data if isinstance(data, str) else json.dumps(data)
    with pytest.raises(ChartErrors) as info:
        convert_oos_text(text, "t.oos.json")
    return info.value.problems


def seat(chart: ChartSpec, seat_id: str):
    return next(s for s in chart.seats if s.id == seat_id)


def holder(chart: ChartSpec, holder_id: str):
    return next(h for h in chart.holders if h.id == holder_id)
