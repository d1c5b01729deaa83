"""Checks across a chart file that per-field validation cannot see: references, unique ids, owners, loops."""

from __future__ import annotations

import re
from collections import Counter

from otp_bot.store.domain.chart.chartfile.autonomy_spec import autonomy_problems
from otp_bot.store.domain.chart.chartfile.metric_spec import MetricSpec
from otp_bot.store.domain.chart.chartfile.schema import ChartSpec, HolderSpec, SeatSpec
from otp_bot.store.domain.scorecard import formula as formulas

Problems = list[tuple[str, str]]


def normalize_topic(text: str) -> str:
    """Lower case, single spaces, no punctuation: the form uniqueness of `owns` is checked on."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def semantic_problems(chart: ChartSpec) -> Problems:
    """Cross-references and invariants pydantic's per-field checks cannot see, in file order."""
    holders = {h.id: h for h in chart.holders}
    seats = {s.id: s for s in chart.seats}
    return [
        *_duplicates("holders", [h.id for h in chart.holders]),
        *_duplicates("seats", [s.id for s in chart.seats]),
        *_holder_problems(chart.holders, holders),
        *_seat_problems(chart.seats, holders, seats),
        *_reporting_loops(chart.seats, seats),
        *_formula_problems(chart.seats),
        *_approval_problems(chart, holders, seats),
        *autonomy_problems(chart),
        *_duplicates("policies", [p.name for p in chart.policies]),
        *_rest_problems(chart, seats),
        *_review_problems(chart, holders),
    ]


def _duplicates(kind: str, ids: list[str]) -> Problems:
    problems = []
    for key, n in Counter(ids).items():
        if n > 1:
            idx = [i for i, x in enumerate(ids) if x == key][1]
            problems.append((f"{kind}[{idx}].id", f"duplicate id {key!r}: ids are unique"))
    return problems


def _holder_problems(listed: list[HolderSpec], holders: dict[str, HolderSpec]) -> Problems:
    problems = []
    for field in ("slack_user", "email"):
        seen: dict[str, int] = {}
        for i, h in enumerate(listed):
            value = getattr(h, field)
            if value and value.lower() in seen:
                problems.append(
                    (f"holders[{i}].{field}", f"{value!r} is already used by holders[{seen[value.lower()]}]")
                )
            elif value:
                seen[value.lower()] = i
    for i, h in enumerate(listed):
        where = f"holders[{i}]"
        if h.kind == "agent" and not h.supervisor:
            problems.append((f"{where}.supervisor", f"agent {h.id!r} needs an accountable human supervisor"))
        if h.supervisor:
            sup = holders.get(h.supervisor)
            if sup is None:
                problems.append((f"{where}.supervisor", f"unknown holder {h.supervisor!r}"))
            elif sup.kind != "human":
                problems.append((f"{where}.supervisor", f"{h.supervisor!r} is an agent; a supervisor must be a human"))
    return problems


def _seat_problems(listed: list[SeatSpec], holders: dict[str, HolderSpec], seats: dict[str, SeatSpec]) -> Problems:
    problems = []
    metric_where: dict[str, str] = {}
    owners: dict[str, str] = {}
    for i, s in enumerate(listed):
        where = f"seats[{i}]"
        if s.holder and s.holder not in holders:
            problems.append((f"{where}.holder", f"unknown holder {s.holder!r}"))
        if s.status == "active" and not s.holder:
            problems.append((f"{where}.status", "an active seat needs a holder; make it `vacant` or name a holder"))
        if s.status in ("vacant", "retired") and s.holder:
            problems.append((f"{where}.holder", f"a {s.status} seat has no holder; remove `holder` or change `status`"))
        if s.reports_to:
            if s.reports_to == s.id:
                problems.append((f"{where}.reports_to", "a seat cannot report to itself"))
            elif s.reports_to not in seats:
                problems.append((f"{where}.reports_to", f"unknown seat {s.reports_to!r}"))
        for j, topic in enumerate(s.owns):
            key = normalize_topic(topic)
            if key in owners and owners[key] != s.id:
                problems.append(
                    (
                        f"{where}.owns[{j}]",
                        f"{topic!r} is already owned by seat {owners[key]!r}: one function, one seat",
                    )
                )
            owners.setdefault(key, s.id)
        for j, m in enumerate(s.metrics):
            mwhere = f"{where}.metrics[{j}]"
            if m.id in metric_where:
                problems.append((f"{mwhere}.id", f"duplicate metric id {m.id!r} (also {metric_where[m.id]})"))
            metric_where.setdefault(m.id, mwhere)
    return problems


def _reporting_loops(listed: list[SeatSpec], seats: dict[str, SeatSpec]) -> Problems:
    """Reporting lines must be acyclic: walk up from every seat, and name each loop once."""
    problems = []
    reported: set[frozenset[str]] = set()
    for i, s in enumerate(listed):
        if s.reports_to == s.id:
            continue
        path, cur = [s.id], seats.get(s.reports_to or "")
        while cur is not None and cur.id not in path:
            path.append(cur.id)
            cur = seats.get(cur.reports_to or "")
        if cur is not None and cur.id == s.id:
            cycle = " -> ".join([*path, s.id])
            if frozenset(path) not in reported:
                reported.add(frozenset(path))
                problems.append((f"seats[{i}].reports_to", f"reporting lines form a loop: {cycle}"))
    return problems


def _formula_problems(listed: list[SeatSpec]) -> Problems:
    """A formula refers to metrics of its own cadence that exist, and never back to itself."""
    problems = []
    metric_where: dict[str, str] = {}
    metric_specs: dict[str, MetricSpec] = {}
    for i, s in enumerate(listed):
        for j, m in enumerate(s.metrics):
            metric_where.setdefault(m.id, f"seats[{i}].metrics[{j}]")
            metric_specs.setdefault(m.id, m)

    for mid, m in metric_specs.items():
        if not m.formula:
            continue
        for ref in formulas.references(m.formula):
            if ref not in metric_specs:
                problems.append((f"{metric_where[mid]}.formula", f"unknown metric {ref!r}"))
            elif metric_specs[ref].cadence != m.cadence:
                problems.append(
                    (
                        f"{metric_where[mid]}.formula",
                        f"{ref!r} is {metric_specs[ref].cadence}; a formula combines metrics of one cadence",
                    )
                )
    graph = {
        mid: [r for r in formulas.references(m.formula or "") if r in metric_specs] for mid, m in metric_specs.items()
    }
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                problems.append(
                    (
                        f"{metric_where[node]}.formula",
                        "formulas refer to each other in a loop: "
                        + " -> ".join([*trail[trail.index(nxt) :], node, nxt])
                        if nxt in trail
                        else f"formula refers to itself via {nxt!r}",
                    )
                )
            elif nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for mid in graph:
        if mid not in state:
            visit(mid, [])
    return problems


def _approval_problems(chart: ChartSpec, holders: dict[str, HolderSpec], seats: dict[str, SeatSpec]) -> Problems:
    problems = []
    for i, a in enumerate(chart.approvals):
        for j, sid in enumerate(a.seats):
            if sid not in seats:
                problems.append((f"approvals[{i}].seats[{j}]", f"unknown seat {sid!r}"))
        for j, hid in enumerate(a.approvers):
            if hid not in holders:
                problems.append((f"approvals[{i}].approvers[{j}]", f"unknown holder {hid!r}"))
            elif holders[hid].kind != "human":
                problems.append((f"approvals[{i}].approvers[{j}]", f"{hid!r} is an agent; only humans approve"))
        if not a.approvers and not a.usergroup:
            problems.append((f"approvals[{i}]", "name `approvers` (holders) or a Slack `usergroup`"))
        elif a.usergroup and not a.channel:
            problems.append(
                (f"approvals[{i}].channel", "a route to a Slack `usergroup` needs the `channel` to post in")
            )
        elif a.approvers and a.required > len(a.approvers) and not a.usergroup:
            problems.append(
                (
                    f"approvals[{i}].required",
                    f"{a.required} approvals required but only {len(a.approvers)} approvers named",
                )
            )
    return problems


def _rest_problems(chart: ChartSpec, seats: dict[str, SeatSpec]) -> Problems:
    """Policies' winners, rules' ids and seats, and schedules' names."""
    problems = []
    for i, p in enumerate(chart.policies):
        if p.winner and p.winner not in seats:
            problems.append((f"policies[{i}].winner", f"unknown seat {p.winner!r}"))
    rule_ids = [r.id for r in chart.rules]
    for i, r in enumerate(chart.rules):
        if r.id in rule_ids[:i]:
            problems.append((f"rules[{i}].id", f"duplicate id {r.id!r}: ids are unique"))
        for j, sid in enumerate(r.seats):
            if sid not in seats:
                problems.append((f"rules[{i}].seats[{j}]", f"unknown seat {sid!r}"))
    keys = [s.key for s in chart.schedules]
    for key, n in Counter(keys).items():
        if n > 1:
            problems.append(
                (f"schedules[{keys.index(key)}]", f"two schedules are called {key!r}; give each a distinct `name`")
            )
    return problems


def _review_problems(chart: ChartSpec, holders: dict[str, HolderSpec]) -> Problems:
    """The review's facilitator is a human on the chart, its attendees are holders, and its
    thread opens on a schedule that posts the scorecard."""
    review = chart.review
    if review is None:
        return []
    problems = []
    facilitator = holders.get(review.facilitator)
    if facilitator is None:
        problems.append(("review.facilitator", f"unknown holder {review.facilitator!r}"))
    elif facilitator.kind != "human":
        problems.append(("review.facilitator", f"{review.facilitator!r} is an agent; a person facilitates the review"))
    seen: set[str] = set()
    for j, hid in enumerate(review.attendees or []):
        if hid not in holders:
            problems.append((f"review.attendees[{j}]", f"unknown holder {hid!r}"))
        elif hid in seen:
            problems.append((f"review.attendees[{j}]", f"{hid!r} is listed twice"))
        seen.add(hid)
    posting = [s.key for s in chart.schedules if s.post == "scorecard"]
    schedules = {s.key: s for s in chart.schedules}
    if review.scorecard is not None:
        found = schedules.get(review.scorecard)
        if found is None:
            known = f"; the scorecard schedules are {', '.join(posting)}" if posting else ""
            problems.append(("review.scorecard", f"no schedule is called {review.scorecard!r}{known}"))
        elif found.post != "scorecard":
            problems.append(
                (
                    "review.scorecard",
                    f"schedule {review.scorecard!r} posts the {found.post}; the review opens on a "
                    "schedule with `post: scorecard`",
                )
            )
    elif not posting:
        problems.append(
            ("review", "the review opens on the weekly scorecard post: add a schedule with `post: scorecard`")
        )
    elif len(posting) > 1:
        problems.append(
            (
                "review.scorecard",
                f"the chart has {len(posting)} scorecard schedules ({', '.join(posting)}): "
                "name the one whose post opens the review",
            )
        )
    return problems
