"""A company of N seats (200 by default) as a chart file, shaped like a real one: a CEO, a
leadership team of six or seven, managers under them with teams of 3 to 14, a few teams
with leads of their own, staff reporting straight to an executive; about 40% of the
non-manager seats held by agents, some vacant or planned. About two thirds of the seats own
a metric; `load_big_org` records four weeks of values, so some seats are off track.

Everything follows from the seed, so a test can name what it expects.
"""

from __future__ import annotations

import random
from typing import Any

from otp_bot.store.db import Database
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.metrics import record_value
from tests.support.charts import load

AREAS = [
    ("Operations", ["Fulfilment", "Facilities", "Procurement", "Logistics", "Quality"]),
    ("Engineering", ["Platform", "Payments", "Mobile", "Data", "Infrastructure", "Security"]),
    ("Sales", ["Enterprise Sales", "Mid-Market Sales", "Partnerships", "Sales Development"]),
    ("Marketing", ["Brand", "Paid Acquisition", "Content", "Lifecycle"]),
    ("Customer Success", ["Onboarding", "Support", "Retention", "Renewals"]),
    ("Finance", ["Accounting", "Billing and Collections", "FP&A"]),
    ("People", ["Recruiting", "People Operations", "Learning"]),
]
ROLES = ["Specialist", "Analyst", "Coordinator", "Associate", "Engineer", "Manager", "Planner", "Advisor"]
KINDS = ("agent", "human", "agent", "human", None, "human", "agent", "human", "agent", "human", "human", "human")
AGENT_ROLES = ["Monitor", "Drafter", "Triage", "Reporter", "Scheduler", "Reconciler", "Scout", "Watcher"]
FIRST = [
    "Ada",
    "Ben",
    "Cara",
    "Dev",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivo",
    "Jo",
    "Kai",
    "Lea",
    "Max",
    "Noor",
    "Oli",
    "Pia",
    "Quin",
    "Rae",
    "Sol",
    "Tess",
    "Uma",
    "Vic",
    "Wren",
    "Yara",
    "Zed",
]
LAST = [
    "Abbott",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Khan",
    "Lopez",
    "Moreau",
    "Novak",
    "Okafor",
    "Patel",
]
AGENT_NAMES = [
    "Atlas",
    "Beacon",
    "Cinder",
    "Delta",
    "Echo",
    "Flint",
    "Gauge",
    "Helix",
    "Iris",
    "Jolt",
    "Kestrel",
    "Lumen",
    "Nova",
    "Orbit",
    "Pixel",
    "Quill",
]


def big_org(seats: int = 200, seed: int = 21) -> dict[str, Any]:
    """The chart file of a company with exactly `seats` seats."""
    rng = random.Random(seed)
    holders: list[dict[str, Any]] = []
    specs: list[dict[str, Any]] = []
    human_of: dict[str, str] = {}  # seat id -> the human answerable for agents under it

    def add(seat_id: str, title: str, parent: str | None, kind: str | None) -> None:
        spec: dict[str, Any] = {"id": seat_id, "title": title}
        if parent:
            spec["reports_to"] = parent
        n = len(specs)
        if kind == "human":
            holder = f"h{n}"
            holders.append(
                {"id": holder, "name": f"{FIRST[n % len(FIRST)]} {LAST[(n * 7) % len(LAST)]}", "kind": "human"}
            )
            spec["holder"] = holder
            human_of[seat_id] = holder
        elif kind == "agent":
            holder = f"a{n}"
            name = f"{AGENT_NAMES[n % len(AGENT_NAMES)]}-{n}"
            holders.append({"id": holder, "name": name, "kind": "agent", "supervisor": human_of[parent or ""]})
            spec["holder"] = holder
        else:
            spec["status"] = rng.choice(["vacant", "vacant", "planned"])
        if parent and seat_id not in human_of:
            human_of[seat_id] = human_of[parent]
        if rng.random() < 0.66:
            goal = rng.choice([">= 10", ">= 80", "<= 5", "<= 48"])
            spec["metrics"] = [{"id": f"{seat_id}-m", "name": f"{title} throughput", "goal": goal}]
        specs.append(spec)

    add("ceo", "Chief Executive Officer", None, "human")
    small = seats < 40  # a small company: two leaders with one team each
    leaders = AREAS[: 2 if small else rng.choice((6, 7))]
    for i, (area, _) in enumerate(leaders):
        add(f"lead-{i}", f"Head of {area}", "ceo", "human")
    teams: list[tuple[str, str]] = []  # (seat id, team name) of every manager
    for i, (_area, team_names) in enumerate(leaders):
        for j, team in enumerate(team_names[: 1 if small else rng.randint(2, 4)]):
            add(f"mgr-{i}-{j}", f"{team} Lead", f"lead-{i}", "human")
            teams.append((f"mgr-{i}-{j}", team))
    staff = [f"lead-{i}" for i in range(len(leaders))]
    n = 0
    while len(specs) < seats:
        # Mostly into a team; sometimes a team's sub-team lead; sometimes staff of an executive.
        roll = rng.random()
        if roll < 0.06:
            parent, team = rng.choice(staff), "Office"
        else:
            parent, team = rng.choice(teams)
        n += 1
        if roll > 0.96 and not parent.startswith("sub-"):
            seat_id = f"sub-{n}"
            add(seat_id, f"{team} Sub-team Lead", parent, "human")
            teams.append((seat_id, team))
            continue
        kind = KINDS[n % len(KINDS)]
        role = rng.choice(AGENT_ROLES if kind == "agent" else ROLES)
        add(f"seat-{n}", f"{team} {role}", parent, kind)
    return {
        "org": {"name": f"Northwind Group ({seats} seats)", "timezone": "UTC"},
        "holders": holders,
        "seats": specs,
    }


def load_big_org(db: Database, seats: int = 200, seed: int = 21) -> dict[str, Any]:
    """Import `big_org(seats, seed)` into `db` with four weeks of values; return the chart file."""
    data = big_org(seats, seed)
    load(db, data)
    rng = random.Random(seed)
    actor = Actor.cli_operator("test")
    with db.session() as session:
        today = periods.today(get_org(session).timezone)
        this_week = periods.period_start(today, "weekly")
        for spec in data["seats"]:
            if "holder" not in spec:
                continue  # a vacant seat takes no values
            for metric in spec.get("metrics", []):
                low = metric["goal"].startswith("<=")
                target = float(metric["goal"].split()[-1])
                for weeks_ago in range(1, 5):
                    miss = rng.random() < 0.25
                    value = target * (1.3 if miss == low else 0.7)
                    record_value(
                        session,
                        actor,
                        metric["id"],
                        round(value, 1),
                        period=periods.shift(this_week, "weekly", -weeks_ago),
                        source="import",
                    )
    return data
