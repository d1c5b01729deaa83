"""A dental group's chart, with units as its ops lead writes them, and values pushed into it."""

from __future__ import annotations

import copy

import pytest

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.scorecard.measures import Measure
from otp_bot.store.domain.scorecard.metrics import record_value

MARIA = "U0MARIA0001"

DENTAL = {
    "org": {"name": "Bright Smile Dental Group", "timezone": "Europe/Dublin"},
    "holders": [
        {"id": "maria", "name": "Maria Keane", "kind": "human", "slack_user": MARIA},
        {"id": "molar", "name": "Molar", "kind": "agent", "supervisor": "maria"},
    ],
    "seats": [
        {
            "id": "billing",
            "title": "Billing and Collections",
            "holder": "maria",
            "metrics": [
                {"id": "dso", "name": "Days sales outstanding", "unit": "days", "goal": "<= 45", "cadence": "monthly"},
                {"id": "revenue", "name": "Collected revenue", "unit": "€", "goal": ">= €1.2M", "cadence": "monthly"},
                {"id": "supplies", "name": "Supplies spend", "unit": "$", "goal": "<= $20k"},
                {"id": "lab-fees", "name": "Lab fees", "kind": "currency", "currency": "GBP", "goal": "<= £8,000.00"},
            ],
        },
        {
            "id": "front-desk",
            "title": "Front Desk",
            "holder": "molar",
            "reports_to": "billing",
            "metrics": [
                {"id": "first-reply", "name": "Hours to first reply", "unit": "hours", "goal": "<= 90 min"},
                {"id": "nps", "name": "Patient NPS", "unit": "NPS", "goal": ">= 40"},
                {"id": "calls", "name": "Calls answered", "unit": "calls", "goal": ">= 200", "aggregation": "sum"},
                {"id": "accept-ratio", "name": "Treatment acceptance ratio", "unit": "ratio", "goal": ">= 1.5"},
                {"id": "chair-time", "name": "Average chair time", "unit": "minutes", "goal": "30..60"},
                {
                    "id": "lab-turnaround",
                    "name": "Lab turnaround in business days",
                    "kind": "number",
                    "unit": "days",
                    "goal": "<= 10",
                },
                {"id": "recall-sent", "name": "Recall list sent", "unit": "yes/no", "goal": "== yes"},
                {"id": "reply-seconds", "name": "Phone answer time", "unit": "s", "goal": "<= 10"},
                {"id": "backlog", "name": "Backlog of claims", "unit": "weeks", "goal": "<= 0.5"},
            ],
        },
    ],
}

MEASURES = {
    "dso": Measure("duration", "days"),
    "revenue": Measure("currency", None, "EUR"),
    "supplies": Measure("currency", None, "USD"),
    "lab-fees": Measure("currency", None, "GBP"),
    "first-reply": Measure("duration", "hours"),
    "nps": Measure("score", "NPS"),
    "calls": Measure("number", "calls"),
    "accept-ratio": Measure("number", "ratio"),
    "chair-time": Measure("duration", "minutes"),
    "lab-turnaround": Measure("number", "days"),
    "recall-sent": Measure("yesno"),
    "reply-seconds": Measure("duration", "seconds"),
    "backlog": Measure("duration", "weeks"),
}


def dental(**org) -> dict:
    data = copy.deepcopy(DENTAL)
    data["org"].update(org)
    return data


def load(db, data: dict) -> list[str]:
    with db.session() as s:
        return [
            c.describe() for c in apply_chart(s, validate_chart(data, "dental.yaml"), actor="t", source="t").changes
        ]


def push(db, metric: str, value: str) -> float:
    with db.session() as s:
        return record_value(s, Actor.cli_operator(), metric, value).value.value


def refusal(db, metric: str, value: str) -> str:
    with pytest.raises(Invalid) as caught:
        push(db, metric, value)
    return caught.value.message
