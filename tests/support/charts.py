"""Small chart dictionaries for tests to start from and break."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart

BASE: dict[str, Any] = {
    "org": {"name": "Test Org", "timezone": "America/New_York"},
    "holders": [
        {"id": "bogdan", "name": "Bogdan", "kind": "human", "slack_user": "U01COO", "email": "bogdan@example.com"},
        {"id": "janine", "name": "Janine", "kind": "human", "slack_user": "U02ACC"},
        {"id": "pulse", "name": "Pulse", "kind": "agent", "supervisor": "bogdan"},
        {"id": "dirk", "name": "Dirk", "kind": "agent", "supervisor": "bogdan"},
    ],
    "seats": [
        {"id": "coo", "title": "COO", "holder": "bogdan", "owns": ["operations"]},
        {
            "id": "retention",
            "title": "Client Retention",
            "holder": "pulse",
            "reports_to": "coo",
            "aliases": ["churn", "client health"],
            "accountabilities": ["Watch churn signals", "Draft retention outreach"],
            "owns": ["retention outreach"],
            "customer_facing": True,
            "metrics": [
                {"id": "early-flags", "name": "At-risk clients flagged early", "unit": "count", "goal": ">= 3"},
                {"id": "saves", "name": "Clients saved", "goal": ">= 2", "aggregation": "sum"},
            ],
        },
        {
            "id": "sales",
            "title": "Sales Pipeline",
            "holder": "dirk",
            "reports_to": "coo",
            "owns": ["pipeline"],
            "metrics": [
                {"id": "won", "name": "Deals won", "goal": ">= 2", "aggregation": "sum"},
                {"id": "sent", "name": "Proposals sent", "goal": ">= 5", "aggregation": "sum"},
                {
                    "id": "close-rate",
                    "name": "Close rate",
                    "unit": "percent",
                    "goal": ">= 30",
                    "formula": "{won} / {sent} * 100",
                },
            ],
        },
        {
            "id": "accounting",
            "title": "Accounting",
            "holder": "janine",
            "reports_to": "coo",
            "owns": ["invoicing"],
            "metrics": [{"id": "ar-60", "name": "Receivables over 60 days", "unit": "currency", "goal": "< 15000"}],
        },
    ],
    "approvals": [{"seats": ["retention"], "channel": "C0APPROVALS", "approvers": ["bogdan"]}],
    "policies": [{"name": "retention-wins", "hold_kind": "expansion", "while_flag": "at-risk", "winner": "retention"}],
    "schedules": [{"post": "briefing", "channel": "C0LEADERSHIP", "cron": "0 8 * * mon-fri"}],
}


def chart(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def load(db, data: dict[str, Any]) -> None:
    """Import `data` into `db` as `otp chart import` would."""
    with db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")


def seat(data: dict[str, Any], seat_id: str) -> dict[str, Any]:
    return next(s for s in data["seats"] if s["id"] == seat_id)


def write(path: Path, data: dict[str, Any] | str) -> Path:
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def with_retired_accounting() -> dict[str, Any]:
    """The base chart with the accounting seat retired (its holder gone, its history kept)."""
    data = chart()
    acc = seat(data, "accounting")
    acc.pop("holder")
    acc["status"] = "retired"
    return data
