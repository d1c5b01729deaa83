"""The store the rhythm benchmark reads: the generated org (2,000 seats, 5 metrics a seat,
13 weeks of values) and a day of traffic for the briefing to report: drafts waiting and
held, flags, requests between seats (a quarter past their deadline), every held seat's
to-dos checked at each week's review (its to-do completion row) and some past their due
day, and a re-import renaming seats after "the last briefing"."""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

import generate
from runner import log
from sqlalchemy import insert, select, text

from otp_bot.store.db import Database
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.scorecard import periods, seat_activity
from otp_bot.store.models import Draft, Flag, Message, MetricValue, Seat, Todo, TodoCheck

VALUE_CHUNK = 10_000


def load(db: Database, org: generate.Org, args) -> tuple[dict[str, float], dt.datetime]:
    """The org, its values, and a day's worth of gate and bus traffic; returns timings and
    the moment of "the last briefing" (after the import, before the day's changes)."""
    timings: dict[str, float] = {}
    db.upgrade()
    chart = validate_chart(org.chart, "bench/generate.py")
    t0 = time.perf_counter()
    with db.session() as session:
        apply_chart(session, chart, actor="operator:bench", source="bench/generate.py")
    timings["apply_chart"] = time.perf_counter() - t0
    log(f"  apply_chart {timings['apply_chart']:.1f}s")

    values = generate.build_values(org, len(org.metrics) * args.weeks, weeks=args.weeks, seed=args.seed + 1)
    if args.unreported:
        values = without_current_values(org, values, args.unreported, random.Random(args.seed + 3))
    t0 = time.perf_counter()
    for start in range(0, len(values), VALUE_CHUNK):
        with db.engine.begin() as conn:
            conn.execute(insert(MetricValue), values[start : start + VALUE_CHUNK])
    with db.session() as session:  # what recording them one push at a time would have left
        seat_activity.rebuild(session)
    timings["bulk_insert_values"] = time.perf_counter() - t0
    timings["values"] = len(values)
    log(f"  {len(values):,} values in {timings['bulk_insert_values']:.1f}s")
    del values

    time.sleep(1.1)  # the audit log keeps whole seconds: the import is before "the last briefing"
    since = dt.datetime.now(dt.UTC)
    rng = random.Random(args.seed + 7)
    t0 = time.perf_counter()
    with db.session() as session:
        held_seats = [s.id for s in session.scalars(select(Seat).where(Seat.holder_id.is_not(None)))]
        approver = session.scalar(select(Seat.holder_id).where(Seat.reports_to_id.is_(None)))
        now = dt.datetime.now(dt.UTC)
        far = now + dt.timedelta(days=30)

        def draft(i: int, status: str) -> dict[str, Any]:
            seat = rng.choice(held_seats)
            return {
                "seat_id": seat,
                "drafted_by": approver,
                "submitted_by": "operator:bench",
                "kind": "outreach",
                "subject": f"client:c{i}",
                "customer_facing": True,
                "title": f"Check in with client {i}",
                "body": "Hi, a short note.",
                "destination": None,
                "idem_key": f"bench-{i}",
                "status": status,
                "hold_reason": "client:c1 is flagged at-risk; policy retention-wins" if status == "held" else None,
                "held_by_policy": None,
                "route_channel": "C0APPROVALS",
                "approvers": [approver],
                "usergroup": None,
                "required": 1,
                "edited": False,
                "created_at": now - dt.timedelta(minutes=rng.randint(5, 3000)),
                "queued_at": now - dt.timedelta(minutes=rng.randint(5, 3000)) if status == "pending" else None,
                "remind_at": far,
                "escalate_at": far,
                "expires_at": far,
                "delivery": "none",
            }

        session.execute(
            insert(Draft),
            [draft(i, "pending") for i in range(args.pending)]
            + [draft(args.pending + i, "held") for i in range(args.held)],
        )
        session.execute(
            insert(Flag),
            [
                {
                    "subject": f"client:c{i}",
                    "flag": "at-risk",
                    "seat_id": rng.choice(held_seats),
                    "reason": "usage down",
                    "set_by": "operator:bench",
                    "set_at": now - dt.timedelta(hours=rng.randint(0, 72)),
                }
                for i in range(args.flags)
            ],
        )
        session.execute(
            insert(Message),
            [
                {
                    "from_seat_id": (pair := rng.sample(held_seats, 2))[0],
                    "to_seat_id": pair[1],
                    "performative": "REQUEST",
                    "subject": f"Numbers for client {i}?",
                    "body": "Please send them.",
                    "sent_by": "operator:bench",
                    "created_at": now - dt.timedelta(hours=30),
                    "status": "unread",
                    "deadline": now - dt.timedelta(hours=rng.randint(1, 20))
                    if i % 4 == 0
                    else now + dt.timedelta(hours=5),
                }
                for i in range(args.requests)
            ],
        )
    timings["gate_and_bus_rows"] = time.perf_counter() - t0
    log(f"  drafts, flags, requests {timings['gate_and_bus_rows']:.1f}s")

    t0 = time.perf_counter()
    checks = review_rows(db, held_seats, args.weeks, args.todos_late, rng)
    timings["todo_checks"] = time.perf_counter() - t0
    log(f"  {checks:,} to-dos checked, {args.todos_late} past due {timings['todo_checks']:.1f}s")

    # Seat changes since the last briefing: a re-import renaming some seats.
    changed = org.chart | {
        "seats": [
            dict(s, title=s["title"] + " (renamed)") if i % (len(org.chart["seats"]) // args.changes or 1) == 0 else s
            for i, s in enumerate(org.chart["seats"])
        ]
    }
    t0 = time.perf_counter()
    with db.session() as session:
        apply_chart(
            session, validate_chart(changed, "bench/rhythm.py"), actor="operator:bench", source="bench/rhythm.py"
        )
    timings["reimport_with_changes"] = time.perf_counter() - t0
    log(f"  re-import renaming {args.changes} seats {timings['reimport_with_changes']:.1f}s")

    if not db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return timings, since


def without_current_values(
    org: generate.Org, values: list[dict[str, Any]], share: float, rng: random.Random
) -> list[dict[str, Any]]:
    """`share` of the metrics without a value in their current period yet: 1.0 is a Monday
    morning before any push (the generator gives every metric every period, newest first)."""
    today = periods.today(org.chart["org"]["timezone"])
    cadence = {m["id"]: m.get("cadence") or "weekly" for m in org.metrics}
    current = {c: periods.period_start(today, c) for c in set(cadence.values())}
    silent = {mid for mid in cadence if rng.random() < share}
    return [
        v for v in values if not (v["metric_id"] in silent and v["period_start"] == current[cadence[v["metric_id"]]])
    ]


def review_rows(db: Database, seats: list[str], weeks: int, late: int, rng: random.Random) -> int:
    """Two to-dos a held seat checked at each of the last `weeks` reviews (most done), and
    `late` open ones past their due day; returns the checks written."""
    now = dt.datetime.now(dt.UTC)
    monday = now.date() - dt.timedelta(days=now.date().weekday())
    todos, checks = [], []
    for n, (seat, back, k) in enumerate((s, b, k) for s in seats for b in range(1, weeks + 1) for k in range(2)):
        week = monday - dt.timedelta(weeks=back)
        done = rng.random() < 0.85
        todos.append(
            {
                "id": n + 1,
                "text": f"To-do {k} of week {week.isoformat()}",
                "seat_id": seat,
                "due": week,
                "status": "done" if done else "dropped",
                "created_by": "operator:bench",
                "created_at": now,
            }
        )
        checks.append(
            {
                "todo_id": n + 1,
                "seat_id": seat,
                "week": week,
                "done": done,
                "checked_by": "operator:bench",
                "checked_at": now,
            }
        )
    first = len(todos) + 1
    todos += [
        {
            "id": first + i,
            "text": f"Late to-do {i}",
            "seat_id": rng.choice(seats),
            "due": monday - dt.timedelta(days=rng.randint(1, 20)),
            "status": "open",
            "created_by": "operator:bench",
            "created_at": now,
        }
        for i in range(late)
    ]
    for start in range(0, len(todos), VALUE_CHUNK):
        with db.engine.begin() as conn:
            conn.execute(insert(Todo), todos[start : start + VALUE_CHUNK])
    for start in range(0, len(checks), VALUE_CHUNK):
        with db.engine.begin() as conn:
            conn.execute(insert(TodoCheck), checks[start : start + VALUE_CHUNK])
    return len(checks)
