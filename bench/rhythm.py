"""Benchmark the operating rhythm: the daily briefing, and the weekly scorecard post with its PNG.

    python bench/rhythm.py [--backend sqlite|postgresql|both] [--seats 2000] [--metrics-per-seat 5] [--weeks 13]

Builds the store of bench/rhythm_store.py (2,000 seats, 10,000 metrics, 13 weeks of values
and a day of traffic), then measures in a fresh process: a new interpreter that opens the
store and times the cases, its heap neither warmed by the build nor frozen (no
`gc.freeze()`). Its first run of each case is reported apart (cold: compiled queries,
templates, fonts); the rest are interleaved round by round, `help` through the command
layer alongside as the floor.

Verdicts (issue 18), at p99: briefing <= 0.25 s, scorecard + PNG <= 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import generate
from backends import add_backend_args, backends, describe, durability, store_url
from runner import Case, Report, Verdict, interleaved, log, summary, table

HERE = Path(__file__).resolve().parent
TARGETS_MS = {"briefing (build + Block Kit)": 250.0, "scorecard + PNG": 1000.0}


def case_functions(since: dt.datetime) -> dict[str, Any]:
    from otp_bot.commands import run as run_command
    from otp_bot.commands.briefing import briefing_message
    from otp_bot.commands.views.scorecard_image import render_png
    from otp_bot.commands.views.scorecard_post import scorecard_message
    from otp_bot.store.domain.actors import Actor
    from otp_bot.store.domain.rhythm.daily_briefing import daily_briefing
    from otp_bot.store.domain.scorecard.review import weekly_review

    actor = Actor.anonymous("bench")

    def briefing(session) -> None:
        briefing_message(daily_briefing(session, since=since), threaded=True)

    def scorecard_png(session) -> None:
        review = weekly_review(session)
        scorecard_message(review, run_id=1)
        render_png(review)

    return {
        "floor: help": lambda session: run_command(session, actor, "help"),
        "briefing (build + Block Kit)": briefing,
        "/otp briefing (ephemeral)": lambda session: run_command(session, actor, "briefing"),
        "scorecard (build + Block Kit)": lambda session: scorecard_message(weekly_review(session), run_id=1),
        "scorecard + PNG": scorecard_png,
    }


def measure_here(url: str, since: dt.datetime, runs: int, budget: float, min_runs: int, seed: int) -> dict[str, Any]:
    """In the fresh process: the cold first run of each case, then the interleaved rounds."""
    from otp_bot.store.db import Database

    db = Database(url, auto_migrate=False)
    fns = case_functions(since)

    cpu: dict[str, list[float]] = {name: [] for name in fns}

    def run_case(name: str, fn):
        def run(_i: int) -> tuple[float, str]:
            with db.session(readonly=True) as session:
                c0, t0 = time.process_time_ns(), time.perf_counter_ns()
                fn(session)
                wall, used = (time.perf_counter_ns() - t0) / 1e6, (time.process_time_ns() - c0) / 1e6
            cpu[name].append(used)
            return wall, "ok"

        return run

    cold = {name: run_case(name, fn)(0)[0] for name, fn in fns.items()}
    cases = [Case(name, run_case(name, fn)) for name, fn in fns.items()]
    interleaved(cases, runs=runs, warmup=0, budget=budget, min_runs=min_runs, seed=seed)
    db.dispose()
    # The CPU the process itself used per run, cold run left out: on a crowded machine wall
    # time grows with the neighbours, this does not.
    cpu_rows = {name: summary(samples[1:]) for name, samples in cpu.items()}
    return {
        "cold_ms": cold,
        "rows": [c.row(cpu_ms=cpu_rows[c.name]) for c in cases],
        "samples": {c.name: c.samples for c in cases},
    }


def fresh_process(url: str, since: dt.datetime, args) -> dict[str, Any]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--measure", url, "--since", since.isoformat()]
    argv += ["--runs", str(args.runs), "--budget", str(args.budget), "--min-runs", str(args.min_runs)]
    done = subprocess.run([*argv, "--seed", str(args.seed)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the measuring process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def bench_backend(backend: str, url: str, org: generate.Org, args, report: Report) -> None:
    from rhythm_store import load

    from otp_bot.store.db import Database

    db = Database(url, auto_migrate=True)
    try:
        log(f"{backend}: importing {len(org.chart['seats']):,} seats, {len(org.metrics):,} metrics ...")
        timings, since = load(db, org, args)
    finally:
        db.dispose()
    settings = durability(url)
    log(describe(backend, settings))
    log(f"{backend}: measuring in a fresh process ...")
    t0 = time.perf_counter()
    found = fresh_process(url, since, args)
    log(f"{backend}: measured for {time.perf_counter() - t0:.0f}s")
    rows = found["rows"]
    floor = summary(found["samples"]["floor: help"])
    lines = [table(rows, floors={"help": floor})]
    lines.append(
        "cold first run in the fresh process (ms): " + ", ".join(f"{k} {v:,.0f}" for k, v in found["cold_ms"].items())
    )
    lines.append(
        "CPU of the measuring process per run (ms, p50 / p99): "
        + ", ".join(f"{r['case']} {r['cpu_ms']['p50']:,.0f} / {r['cpu_ms']['p99']:,.0f}" for r in rows)
    )
    lines.append(describe(backend, settings))
    report.section(
        f"{backend}: briefing and scorecard, {org.stats['seats']:,} seats, {org.stats['metrics']:,} metrics, "
        f"{args.weeks} weeks"
        + (f", {args.unreported:.0%} of the metrics without this period's value yet" if args.unreported else "")
        + ", fresh process",
        "\n".join(lines),
        {"backend": backend, "rows": rows, "cold_ms": found["cold_ms"], "setup_s": timings, "durability": settings},
    )
    for name, target in TARGETS_MS.items():
        r = next(r for r in rows if r["case"] == name)
        report.verdict(
            Verdict(
                f"{name} p99 <= {target / 1000:g} s (fresh process)",
                f"p99 {r['p99']:,.0f} ms, p50 {r['p50']:,.0f} ms, cold {found['cold_ms'][name]:,.0f} ms; "
                f"CPU p99 {r['cpu_ms']['p99']:,.0f} ms",
                r["p99"] <= target,
                backend,
            )
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_backend_args(p)
    p.add_argument("--seats", type=int, default=2_000)
    p.add_argument("--metrics-per-seat", type=float, default=5.0)
    p.add_argument("--weeks", type=int, default=13)
    p.add_argument("--pending", type=int, default=300, help="drafts waiting for a decision")
    p.add_argument("--held", type=int, default=60, help="drafts held by a policy")
    p.add_argument("--flags", type=int, default=150)
    p.add_argument("--requests", type=int, default=400, help="REQUESTs between seats; a quarter past their deadline")
    p.add_argument("--todos-late", type=int, default=200, help="open to-dos past their due day")
    p.add_argument("--changes", type=int, default=100, help="seats renamed since the last briefing")
    p.add_argument(
        "--unreported",
        type=float,
        default=0.0,
        help="share of the metrics with no value in their current period yet (1.0: a Monday morning before any push)",
    )
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--budget", type=float, default=60.0, help="seconds a case may take once it has --min-runs runs")
    p.add_argument("--min-runs", type=int, default=30)
    p.add_argument("--measure", help=argparse.SUPPRESS)  # the fresh process's own entry: the store's URL
    p.add_argument("--since", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.measure:
        since = dt.datetime.fromisoformat(args.since)
        found = measure_here(args.measure, since, args.runs, args.budget, args.min_runs, args.seed)
        print(json.dumps(found))
        return 0
    report = Report("rhythm", args)
    org = generate.build_chart(args.seats, seed=args.seed, metrics_per_seat=args.metrics_per_seat)
    for backend in backends(args.backend):
        with store_url(backend, args.pg_url) as url:
            bench_backend(backend, url, org, args, report)
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
