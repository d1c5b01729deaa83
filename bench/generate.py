"""Build a synthetic org for the benchmark: a chart of N seats and M metric values.

Everything is derived from one seed, so two runs (and the two backends of one run) see
the same org. The chart goes in through `apply_chart`, the path `otp chart import` takes;
the values go in by bulk insert, which is setup, not what the benchmark measures.

The shape:

- a reporting tree grown breadth-first from one root, each manager getting 5 to 20
  direct reports, so 10,000 seats sit about five levels deep;
- managers are held by humans; leaves by humans or agents (about 45% agents, each
  supervised by the human holding the nearest seat above), with some vacant and planned
  seats and a few retired ones;
- titles, aliases, accountabilities and `owns` are composed from a vocabulary of scopes
  (regions, segments), areas and activities, so titles repeat the way they do in a big
  org, `owns` topics are unique (as the chart requires), and who-owns has to rank
  thousands of near-misses;
- metrics are spread over seats at random (a Poisson mix: many seats with one, some with
  none or several; `--metrics-per-seat` on average), mostly weekly, some monthly, with
  every unit and goal kind and a few formulas;
- values fill the last `weeks` weeks (whole months for monthly metrics), one a period when
  the budget allows and more for `sum`/`avg`/`max` metrics, with about 1% corrections;
  formula metrics and the metrics of retired seats get none.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field
from typing import Any

from vocabulary import (
    ACTIVITIES,
    AGENT_NAMES,
    AREAS,
    FIRST,
    LAST,
    LEAF_ROLES,
    MANAGER_ROLES,
    METRIC_KINDS,
    METRIC_NOUNS,
    NONSENSE,
    SCOPES,
    SYNONYMS,
    TOP_ROLES,
    VERBS,
)

from otp_bot.store.domain.scorecard import periods


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class Org:
    """A generated chart (a dict in the chart-file schema) plus what the benchmark needs to query it."""

    chart: dict[str, Any]
    seat_ids: list[str]
    manager_ids: list[str]  # seats with direct reports
    depth: dict[str, int]
    owns_topics: list[tuple[str, str]]  # (seat id, topic)
    aliases: list[tuple[str, str]]  # (seat id, alias)
    metrics: list[dict[str, Any]]  # metric specs with "seat" added, formulas included
    stats: dict[str, Any] = field(default_factory=dict)


def build_chart(seats: int, *, seed: int = 1, metrics_per_seat: float = 1.0, fanout: tuple[int, int] = (5, 20)) -> Org:
    rng = random.Random(seed)
    # ---- the tree, breadth first
    parent: list[int | None] = [None]
    children: list[list[int]] = [[]]
    depth = [0]
    frontier = [0]
    while len(parent) < seats:
        nxt: list[int] = []
        for p in frontier:
            for _ in range(rng.randint(*fanout)):
                if len(parent) >= seats:
                    break
                i = len(parent)
                parent.append(p)
                children.append([])
                depth.append(depth[p] + 1)
                children[p].append(i)
                nxt.append(i)
        frontier = nxt

    # ---- titles, ids, owns, aliases, accountabilities
    owned: set[str] = set()
    seat_specs: list[dict[str, Any]] = []
    scope_of: list[str] = []
    area_of: list[str] = []
    for i in range(seats):
        is_manager = bool(children[i])
        if i == 0:
            scope, area = "", "operations"
            title = "Chief Executive Officer"
        else:
            # A seat tends to work in its manager's scope and area, as real branches do.
            scope = scope_of[parent[i]] if scope_of[parent[i]] and rng.random() < 0.7 else rng.choice(SCOPES)
            area = area_of[parent[i]] if depth[i] > 2 and rng.random() < 0.5 else rng.choice(AREAS)
            role = rng.choice(TOP_ROLES if depth[i] == 1 else MANAGER_ROLES if is_manager else LEAF_ROLES)
            title = (
                f"{scope.title()} {area.title()} {role}"
                if role not in ("Head", "VP", "SVP", "Chief")
                else f"{role} of {scope.title()} {area.title()}"
            )
        scope_of.append(scope)
        area_of.append(area)
        seat_id = f"{slug(title)[:50]}-{i}"
        topics: list[str] = []
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            for _attempt in range(20):
                a = area if rng.random() < 0.6 else rng.choice(AREAS)
                s = scope if rng.random() < 0.7 else rng.choice(SCOPES)
                topic = f"{s} {a} {rng.choice(ACTIVITIES)}".strip()
                if topic not in owned:
                    owned.add(topic)
                    topics.append(topic)
                    break
        aliases: list[str] = []
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            syn = rng.choice(SYNONYMS.get(area, [area]))
            alias = syn if rng.random() < 0.4 else f"{scope} {syn}".strip()
            if alias not in aliases:
                aliases.append(alias)
        accountabilities = [
            f"{rng.choice(VERBS)} {rng.choice([area, *topics])} {rng.choice(ACTIVITIES)} for {scope or 'the company'}"
            for _ in range(rng.randint(1, 3))
        ]
        spec: dict[str, Any] = {"id": seat_id, "title": title}
        if parent[i] is not None:
            spec["reports_to"] = seat_specs[parent[i]]["id"]
        if aliases:
            spec["aliases"] = aliases
        spec["accountabilities"] = accountabilities
        spec["owns"] = topics
        if rng.random() < 0.2:
            spec["does_not_own"] = [f"{rng.choice(SCOPES)} {rng.choice(AREAS)} {rng.choice(ACTIVITIES)}"]
        spec["customer_facing"] = rng.random() < 0.25
        seat_specs.append(spec)

    # ---- holders: managers are humans; leaves humans, agents, or nobody
    holders: list[dict[str, Any]] = []
    human_of_seat: dict[int, str] = {}
    n_human = n_agent = n_vacant = n_planned = n_retired = 0
    for i, spec in enumerate(seat_specs):
        roll = rng.random()
        if children[i] or roll < 0.45:
            kind = "human"
        elif roll < 0.90:
            kind = "agent"
        elif roll < 0.95:
            spec["status"] = "vacant"
            n_vacant += 1
            continue
        elif roll < 0.99:
            spec["status"] = "planned"
            n_planned += 1
            continue
        else:
            spec["status"] = "retired"
            n_retired += 1
            continue
        hid = f"h{i:05d}"
        if kind == "human":
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            holders.append(
                {
                    "id": hid,
                    "name": name,
                    "kind": "human",
                    "slack_user": f"U{i:08d}",
                    "email": f"{hid}@bench.example.com",
                }
            )
            human_of_seat[i] = hid
            n_human += 1
        else:
            # The accountable human: whoever holds the nearest seat above (managers are all humans).
            p = parent[i]
            while p is not None and p not in human_of_seat:
                p = parent[p]
            holder = {
                "id": hid,
                "name": f"{rng.choice(AGENT_NAMES)}-{i}",
                "kind": "agent",
                "supervisor": human_of_seat[p],
            }
            if rng.random() < 0.5:
                holder["slack_user"] = f"B{i:08d}".replace("B", "W", 1)
            holders.append(holder)
            n_agent += 1
        spec["holder"] = hid

    # ---- metrics: `metrics_per_seat` on average, Poisson over seats
    target = round(seats * metrics_per_seat)
    per_seat = [0] * seats
    for _ in range(target):
        per_seat[rng.randrange(seats)] += 1
    metrics: list[dict[str, Any]] = []
    for i, spec in enumerate(seat_specs):
        mine: list[dict[str, Any]] = []
        for j in range(per_seat[i]):
            unit, goal_tpl, _, _ = kind = rng.choice(METRIC_KINDS)
            base = {
                "number": rng.choice((5, 10, 20, 50, 100)),
                "percent": rng.choice((80, 90, 95)),
                "currency": rng.choice((1000, 5000, 15000)),
                "minutes": rng.choice((15, 30, 60, 120)),
                "yesno": 1,
            }[unit]
            lo = base if unit != "percent" else rng.choice((40, 60))
            goal = goal_tpl.format(a=base, lo=lo, hi=lo * 2 if unit != "percent" else lo + 20)
            m: dict[str, Any] = {
                "id": f"{slug(area_of[i])}-{i}-m{j}",
                "name": f"{area_of[i].title()} {rng.choice(METRIC_NOUNS)}",
                "unit": unit,
                "goal": goal,
            }
            if rng.random() < 0.1:
                m["cadence"] = "monthly"
            if unit not in ("yesno", "percent"):
                agg = rng.choices(("last", "sum", "avg", "max", "min"), weights=(70, 15, 8, 4, 3))[0]
                if agg != "last":
                    m["aggregation"] = agg
            m["_kind"] = kind
            m["_base"] = base
            mine.append(m)
        # A few formulas: a ratio of two plain metrics of the same seat and cadence.
        # It takes the place of a third metric, so the total stays at `metrics_per_seat` per seat.
        plain = [m for m in mine if m["unit"] == "number" and "cadence" not in m]
        spare = [k for k, m in enumerate(mine) if m not in plain[:2]]
        if len(plain) >= 2 and spare and rng.random() < 0.7:
            mine.pop(spare[-1])
            mine.append(
                {
                    "id": f"{slug(area_of[i])}-{i}-ratio",
                    "name": f"{area_of[i].title()} ratio",
                    "unit": "percent",
                    "goal": ">= 50",
                    "formula": f"{{{plain[0]['id']}}} / {{{plain[1]['id']}}} * 100",
                    "_kind": None,
                    "_base": 0,
                }
            )
        if mine:
            spec["metrics"] = [{k: v for k, v in m.items() if not k.startswith("_")} for m in mine]
            metrics.extend({**m, "seat": spec["id"]} for m in mine)

    chart = {
        "org": {"name": "Bench Org", "timezone": "UTC"},
        "holders": holders,
        "seats": seat_specs,
        "approvals": [
            {
                "seats": [seat_specs[c]["id"] for c in children[0][:3]],
                "channel": "C0APPROVALS",
                "approvers": [human_of_seat[0]],
            }
        ],
        "schedules": [{"post": "scorecard", "channel": "C0L10", "cron": "0 9 * * mon"}],
    }
    max_depth = max(depth)
    stats = {
        "seats": seats,
        "levels": max_depth + 1,
        "seats_per_level": [depth.count(d) for d in range(max_depth + 1)],
        "managers": sum(1 for c in children if c),
        "fanout_mean": round(sum(len(c) for c in children if c) / max(1, sum(1 for c in children if c)), 1),
        "holders": len(holders),
        "humans": n_human,
        "agents": n_agent,
        "vacant": n_vacant,
        "planned": n_planned,
        "retired": n_retired,
        "metrics": len(metrics),
        "formula_metrics": sum(1 for m in metrics if m.get("formula")),
        "owns_topics": len(owned),
        "aliases": sum(len(s.get("aliases", [])) for s in seat_specs),
        "accountabilities": sum(len(s["accountabilities"]) for s in seat_specs),
    }
    return Org(
        chart=chart,
        seat_ids=[s["id"] for s in seat_specs],
        manager_ids=[seat_specs[i]["id"] for i in range(seats) if children[i]],
        depth={seat_specs[i]["id"]: depth[i] for i in range(seats)},
        owns_topics=[(s["id"], t) for s in seat_specs for t in s["owns"]],
        aliases=[(s["id"], a) for s in seat_specs for a in s.get("aliases", [])],
        metrics=metrics,
        stats=stats,
    )


def build_values(
    org: Org,
    total: int,
    *,
    weeks: int = 50,
    seed: int = 2,
    today: dt.date | None = None,
    entered_by: str = "operator:bench",
) -> list[dict[str, Any]]:
    """`total` rows for `MetricValue`, spread over the last `weeks` weeks; formula metrics get none."""
    rng = random.Random(seed)
    today = today or periods.today(org.chart["org"]["timezone"])
    # A retired seat takes no new values (a trigger says so too), so its metrics get none here.
    retired = {s["id"] for s in org.chart["seats"] if s.get("status") == "retired"}
    plain = [m for m in org.metrics if not m.get("formula") and m["seat"] not in retired]
    if not plain:
        return []
    months = max(1, round(weeks * 7 / 30.4))
    recorded_at = dt.datetime.now(dt.UTC)
    rows: list[dict[str, Any]] = []
    share, extra = divmod(total, len(plain))
    for n, m in enumerate(plain):
        count = share + (1 if n < extra else 0)
        monthly = m.get("cadence") == "monthly"
        span = months if monthly else weeks
        cadence = "monthly" if monthly else "weekly"
        last = periods.period_start(today, cadence)
        # Every period once while the budget lasts (most recent first), then extra rows at random periods.
        back = list(range(min(count, span)))
        if count < span:
            # Fewer values than periods: keep the recent ones mostly, drop random older ones.
            back = sorted(rng.sample(range(span), count))
        back += [rng.randrange(span) for _ in range(count - len(back))]
        unit, _goal, _typ, spread = m["_kind"]
        base = m["_base"]
        for b in back:
            if unit == "yesno":
                value = 1.0 if rng.random() < 0.85 else 0.0
            else:
                value = round(max(0.0, rng.gauss(base, base * spread)), 2)
            rows.append(
                {
                    "metric_id": m["id"],
                    "period_start": periods.shift(last, cadence, -b),
                    "value": value,
                    "is_correction": rng.random() < 0.01,
                    "source": "api" if rng.random() < 0.7 else "import",
                    "entered_by": entered_by,
                    "note": None,
                    "idem_key": None,
                    "recorded_at": recorded_at,
                }
            )
    rng.shuffle(rows)  # arrive interleaved across metrics, as a live system's values do
    return rows


# ---------------------------------------------------------------- queries


def _typo(text: str, rng: random.Random) -> str:
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) >= 5] or [max(range(len(words)), key=lambda i: len(words[i]))]
    for i in rng.sample(long, min(len(long), rng.choice((1, 1, 2)))):
        w = words[i]
        k = rng.randrange(1, len(w) - 1) if len(w) > 2 else 0
        op = rng.choice(("drop", "swap", "replace", "double"))
        if op == "drop":
            w = w[:k] + w[k + 1 :]
        elif op == "swap" and k + 1 < len(w):
            w = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
        elif op == "double":
            w = w[:k] + w[k] + w[k:]
        else:
            w = w[:k] + rng.choice("aeioustrn") + w[k + 1 :]
        words[i] = w
    return " ".join(words)


def who_owns_topics(org: Org, n: int, *, seed: int = 3) -> dict[str, list[str]]:
    """`n` topics of each kind: exact `owns`, alias, a typo of an `owns` topic, and no match at all."""
    rng = random.Random(seed)
    exact = [t for _, t in rng.choices(org.owns_topics, k=n)]
    alias = [a for _, a in rng.choices(org.aliases, k=n)] if org.aliases else exact
    typo = [_typo(t, rng) for _, t in rng.choices(org.owns_topics, k=n)]
    none = [" ".join(rng.sample(NONSENSE, rng.choice((1, 2, 3)))) for _ in range(n)]
    return {"exact": exact, "alias": alias, "typo": typo, "no-match": none}


def scorecard_seats(org: Org, n: int, *, seed: int = 4) -> dict[str, list[str]]:
    """Random seats (any seat, uniform: mostly leaves), and random managers."""
    rng = random.Random(seed)
    return {"any": rng.choices(org.seat_ids, k=n), "manager": rng.choices(org.manager_ids, k=n)}
