"""Benchmark the operating rhythm: the daily briefing, and the weekly scorecard post with its PNG.

    python bench/rhythm.py [--backend sqlite|postgresql|both] [--seats 2000] [--metrics-per-seat 5] [--weeks 13]

Builds the synthetic org of `bench/generate.py` (2,000 seats, 10,000 metrics, 13 weeks of
values), imports it with `apply_chart`, then adds what a briefing reports: drafts waiting
and held, flags, requests between seats (some past their deadline) and a re-import that
changes seats since the last briefing. Each case runs in a fresh read-only unit of work,
as the scheduler does; cases are interleaved round by round so a noisy neighbour slows
them all alike, and `help` through the command layer is measured alongside as the floor.

Targets: briefing ≤ 0.5 s, scorecard + PNG ≤ 2 s. See bench/README.md.
This is a benchmark, not a test: pytest does not collect it (testpaths = tests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from run import StatementCounter, ThrowawayPostgres, fmt_ms, fresh_pg_database, log, summary  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from otp_bot.bot.runtime.heap import settle_heap  # noqa: E402
from otp_bot.commands import run as run_command  # noqa: E402
from otp_bot.commands.briefing import briefing_message  # noqa: E402
from otp_bot.commands.views.scorecard_image import render_png  # noqa: E402
from otp_bot.commands.views.scorecard_post import scorecard_message  # noqa: E402
from otp_bot.store.db import Database  # noqa: E402
from otp_bot.store.domain.actors import Actor  # noqa: E402
from otp_bot.store.domain.chart.chartfile.validation import validate_chart  # noqa: E402
from otp_bot.store.domain.chart.sync.apply import apply_chart  # noqa: E402
from otp_bot.store.domain.rhythm.daily_briefing import daily_briefing  # noqa: E402
from otp_bot.store.domain.scorecard.review import weekly_review  # noqa: E402
from otp_bot.store.models import Draft, Flag, Message, Metric, MetricValue, Seat  # noqa: E402

TARGETS_MS = {"briefing (build + Block Kit)": 500.0, "scorecard + PNG": 2000.0}
VALUE_CHUNK = 10_000


# ---------------------------------------------------------------- the store


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
    t0 = time.perf_counter()
    for start in range(0, len(values), VALUE_CHUNK):
        with db.engine.begin() as conn:
            conn.execute(insert(MetricValue), values[start : start + VALUE_CHUNK])
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


# ---------------------------------------------------------------- the cases


def cases(since: dt.datetime) -> dict[str, Any]:
    actor = Actor.anonymous("bench")

    def floor(session) -> int:
        return len(run_command(session, actor, "help").text)

    def briefing(session) -> int:
        b = daily_briefing(session, since=since)
        message = briefing_message(b, threaded=True)
        return len(message.blocks) + len(message.replies)

    def briefing_command(session) -> int:
        return len(run_command(session, actor, "briefing").blocks)

    def scorecard(session) -> int:
        review = weekly_review(session)
        message = scorecard_message(review, run_id=1)
        return len(message.blocks) + len(message.replies)

    def scorecard_png(session) -> int:
        review = weekly_review(session)
        scorecard_message(review, run_id=1)
        return len(render_png(review))

    return {
        "floor: help": floor,
        "briefing (build + Block Kit)": briefing,
        "/otp briefing (ephemeral)": briefing_command,
        "scorecard (build + Block Kit)": scorecard,
        "scorecard + PNG": scorecard_png,
    }


def measure(
    db: Database,
    fns: dict[str, Any],
    *,
    runs: int,
    budget: float,
    min_runs: int,
    seed: int,
) -> dict[str, dict[str, Any]]:
    counter = StatementCounter(db.engine)
    samples: dict[str, list[float]] = {name: [] for name in fns}
    statements: dict[str, list[int]] = {name: [] for name in fns}
    spent = dict.fromkeys(fns, 0.0)
    for fn in fns.values():  # warm-up: compiled queries, templates, fonts
        with db.session(readonly=True) as session:
            fn(session)
    rng = random.Random(seed)
    active = list(fns)
    rounds = 0
    while active:
        rng.shuffle(active)
        for name in active:
            t0 = time.perf_counter()
            with db.session(readonly=True) as session:
                n0 = counter.count
                t1 = time.perf_counter_ns()
                fns[name](session)
                samples[name].append((time.perf_counter_ns() - t1) / 1e6)
                statements[name].append(counter.count - n0)
            spent[name] += time.perf_counter() - t0
        rounds += 1
        active = [
            n for n in active if len(samples[n]) < runs and not (spent[n] > budget and len(samples[n]) >= min_runs)
        ]
        if rounds % 10 == 0:
            log("  round " + str(rounds) + ": " + ", ".join(f"{n} {len(s)}" for n, s in samples.items()))
    floor = summary(samples["floor: help"])["p50"]
    return {
        name: {
            **summary(s),
            "p50_over_floor": summary(s)["p50"] / floor,
            "sql_per_run": statistics.fmean(statements[name]),
            "target_ms": TARGETS_MS.get(name),
            "samples_ms": [round(x, 3) for x in s],
        }
        for name, s in samples.items()
    }


def bench_backend(backend: str, url: str, org: generate.Org, args) -> dict[str, Any]:
    db = Database(url, auto_migrate=True)
    try:
        log(f"{backend}: importing {len(org.chart['seats']):,} seats, {len(org.metrics):,} metrics ...")
        timings, since = load(db, org, args)
        with db.session(readonly=True) as session:
            counts = {
                "seats": session.scalar(select(func.count()).select_from(Seat)),
                "metrics": session.scalar(select(func.count()).select_from(Metric)),
                "values": session.scalar(select(func.count()).select_from(MetricValue)),
            }
            b = daily_briefing(session, since=since)
            review = weekly_review(session)
        shape = {
            "off_track": len(b.off_track),
            "stale": len(b.stale),
            "drafts_waiting": b.waiting.count if b.waiting else 0,
            "held": len(b.held),
            "flags": len(b.flags),
            "overdue": len(b.overdue),
            "seat_changes": len(b.changes),
            "agents": len(b.agents),
            "scorecard_metrics": review.metrics,
            "scorecard_off_track": review.off_track_count,
            "scorecard_rows_shown": len(review.rows),
        }
        log(f"{backend}: briefing has " + ", ".join(f"{k} {v:,}" for k, v in shape.items()))
        del b, review
        settle_heap()  # as `otp serve` does when it starts (bot/cli/runners.py)
        t0 = time.perf_counter()
        rows = measure(db, cases(since), runs=args.runs, budget=args.budget, min_runs=args.min_runs, seed=args.seed)
        log(f"{backend}: measured for {time.perf_counter() - t0:.0f}s")
        return {
            "backend": backend,
            "url": db.safe_url,
            "counts": counts,
            "shape": shape,
            "setup_seconds": timings,
            "cases": rows,
        }
    finally:
        db.dispose()


def table(result: dict[str, Any]) -> str:
    c = result["counts"]
    head = (
        f"{'case':<30} {'n':>4} {'mean':>8} {'p50':>8} {'p90':>8} {'p99':>8} {'p50/floor':>10} {'SQL/run':>8}  target"
    )
    lines = [
        f"== {result['backend']} ({c['seats']:,} seats, {c['metrics']:,} metrics, {c['values']:,} values)"
        " — times in ms",
        head,
        "-" * len(head),
    ]
    for name, r in result["cases"].items():
        flag = "*" if r["count"] < 100 else " "
        target = r["target_ms"]
        verdict = (
            ""
            if target is None
            else f"≤ {target:,.0f}: {'met' if r['p50'] <= target else 'MISSED'} at p50, "
            f"{'met' if r['p99'] <= target else 'missed'} at p99"
        )
        lines.append(
            f"{name:<30} {r['count']:>4} {fmt_ms(r['mean']):>8} {fmt_ms(r['p50']):>8} {fmt_ms(r['p90']):>8} "
            f"{fmt_ms(r['p99']):>7}{flag} {r['p50_over_floor']:>9.1f}x {r['sql_per_run']:>8.1f}  {verdict}"
        )
    lines.append("briefing shape: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in result["shape"].items()))
    lines.append(
        "setup (s): "
        + ", ".join(f"{k.replace('_', ' ')} {v:,.1f}" for k, v in result["setup_seconds"].items() if k != "values")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--seats", type=int, default=2_000)
    p.add_argument("--metrics-per-seat", type=float, default=5.0)
    p.add_argument("--weeks", type=int, default=13)
    p.add_argument("--pending", type=int, default=300, help="drafts waiting for a decision")
    p.add_argument("--held", type=int, default=60, help="drafts held by a policy")
    p.add_argument("--flags", type=int, default=150)
    p.add_argument("--requests", type=int, default=400, help="REQUESTs between seats; a quarter past their deadline")
    p.add_argument("--changes", type=int, default=100, help="seats renamed since the last briefing")
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--budget", type=float, default=40.0, help="seconds a case may take once it has --min-runs runs")
    p.add_argument("--min-runs", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pg-url", help="a PostgreSQL server URL (a fresh database is created there and dropped)")
    p.add_argument("--results", type=Path, default=HERE / "results")
    args = p.parse_args(argv)
    args.results.mkdir(parents=True, exist_ok=True)

    org = generate.build_chart(args.seats, seed=args.seed, metrics_per_seat=args.metrics_per_seat)
    log(f"org: {org.stats['seats']:,} seats, {org.stats['metrics']:,} metrics, {org.stats['agents']:,} agents")
    results = []
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        if backend == "sqlite":
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                results.append(bench_backend(backend, f"sqlite:///{tmp}/rhythm.db", org, args))
        else:
            pg = None
            server = args.pg_url
            if server is None:
                pg = ThrowawayPostgres()
                server = pg.start()
            url, drop = fresh_pg_database(server)
            try:
                results.append(bench_backend(backend, url, org, args))
            finally:
                drop()
                if pg is not None:
                    pg.stop()
        print(table(results[-1]), flush=True)
        print(flush=True)
    out = args.results / f"rhythm-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(
        json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "org": org.stats, "results": results}, indent=1)
    )
    log(f"wrote {out.relative_to(ROOT)}")
    missed = [
        f"{r['backend']} {name}"
        for r in results
        for name, c in r["cases"].items()
        if c["target_ms"] is not None and not math.isnan(c["p50"]) and c["p50"] > c["target_ms"]
    ]
    if missed:
        log("targets missed at p50: " + ", ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
