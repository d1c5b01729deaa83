"""Benchmark who-owns and scorecard through the command layer on a 10,000-seat org.

    python bench/run.py [--backend sqlite|postgresql|both] [--seats 10000] [--values 500000] [--runs 300]

Builds the generated org (bench/store.py), then times
`otp_bot.commands.run(session, Actor.anonymous("bench"), text)` for each case, one fresh
session per query as the surfaces do, the cases interleaved round by round; `help` is the
floor (the command layer's fixed cost). No HTTP here: slack_serve.py measures what a person
waits for, and import_cli.py the import. See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import signal
import statistics
import sys
import time
from typing import Any

import generate
from backends import add_backend_args, backends, describe, durability, store_url
from components import components, format_components, profile_cases
from runner import RESULTS, Case, Report, interleaved, log, summary, table
from sqlalchemy import event, func, select

import store
from otp_bot.commands import run as run_command
from otp_bot.store.db import Database
from otp_bot.store.domain.actors import Actor
from otp_bot.store.models import Metric, MetricValue, Seat

ACTOR = Actor.anonymous("bench")


class StatementCounter:
    """Counts what reaches the driver (an executemany counts once): noise-free, unlike time."""

    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


def who_owns_outcome(reply) -> str:
    if not reply.ok:
        return "error"
    if reply.text.startswith("No seat owns"):
        return "none"
    if reply.text.startswith("I'm not sure who owns"):
        return "candidates"
    return "answer"


def commands_for(org: generate.Org, runs: int) -> dict[str, list[str]]:
    topics = generate.who_owns_topics(org, runs)
    seats = generate.scorecard_seats(org, runs)
    cases = {"floor: help": ["help"]}
    cases |= {f"who-owns {kind}": [f"who-owns {t}" for t in ts] for kind, ts in topics.items()}
    cases["scorecard <seat>"] = [f"scorecard {s}" for s in seats["any"]]
    cases["scorecard <manager>"] = [f"scorecard {s}" for s in seats["manager"]]
    cases["scorecard (org-wide)"] = ["scorecard"]
    return cases


def make_case(db: Database, counter: StatementCounter, name: str, texts: list[str], statements: list[int]) -> Case:
    def run(i: int) -> tuple[float, str]:
        with db.session() as session:
            n0 = counter.count
            t0 = time.perf_counter_ns()
            reply = run_command(session, ACTOR, texts[i % len(texts)])
            ms = (time.perf_counter_ns() - t0) / 1e6
            if i >= 0:
                statements.append(counter.count - n0)
        if name.startswith("who-owns"):
            return ms, who_owns_outcome(reply)
        return ms, "ok" if reply.ok else "error"

    return Case(name, run)


def bench_backend(backend: str, url: str, org: generate.Org, args, report: Report) -> None:
    setup = store.build(url, org, values=args.values, metrics_per_seat=args.metrics_per_seat, weeks=args.weeks)
    settings = durability(url)
    log(describe(backend, settings))
    db = Database(url, auto_migrate=False)
    try:
        with db.session() as session:
            counts = {
                "seats": session.scalar(select(func.count()).select_from(Seat)),
                "metrics": session.scalar(select(func.count()).select_from(Metric)),
                "values": session.scalar(select(func.count()).select_from(MetricValue)),
            }
        counter = StatementCounter(db.engine)
        commands = commands_for(org, args.runs)
        statements: dict[str, list[int]] = {name: [] for name in commands}
        cases = [make_case(db, counter, name, texts, statements[name]) for name, texts in commands.items()]
        log(f"{backend}: {len(cases)} cases, up to {args.runs} runs each ...")
        gc.collect()
        interleaved(
            cases, runs=args.runs, warmup=args.warmup, budget=args.budget, min_runs=args.min_runs, seed=args.seed
        )
        comps = {} if args.skip_components else components(db, org, repeat=3)
        profiles = (
            profile_cases(db, {k: v for k, v in commands.items() if k != "floor: help"}, backend, RESULTS, args.profile)
            if args.profile
            else []
        )
    finally:
        db.dispose()
    kinds = [c for c in cases if c.name.startswith("who-owns")]
    n = min(len(c.samples) for c in kinds)
    mix = Case("who-owns (equal mix)", cases[0].run, samples=[x for c in kinds for x in c.samples[:n]])
    for c in kinds:
        mix.outcomes.update(c.outcomes)
    statements[mix.name] = [x for c in kinds for x in statements[c.name][:n]]
    rows = [c.row(sql_per_run=statistics.fmean(statements.get(c.name) or [0])) for c in [*cases, mix]]
    lines = [table(rows, floors={"help": summary(cases[0].samples)})]
    lines.append("SQL statements per run: " + ", ".join(f"{r['case']} {r['sql_per_run']:.1f}" for r in rows[:-1]))
    if comps:
        lines.append(format_components(comps))
    lines += [f"profile: {p}" for p in profiles]
    lines.append(describe(backend, settings))
    report.section(
        f"{backend}: the command layer, {counts['seats']:,} seats, {counts['metrics']:,} metrics, "
        f"{counts['values']:,} values",
        "\n".join(lines),
        {
            "backend": backend,
            "counts": counts,
            "rows": rows,
            "components_ms": comps,
            "setup": setup,
            "durability": settings,
        },
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_backend_args(p)
    p.add_argument("--seats", type=int, default=10_000)
    p.add_argument("--values", type=int, default=500_000)
    p.add_argument("--metrics-per-seat", type=float, default=1.0)
    p.add_argument("--weeks", type=int, default=50, help="weeks of history the values cover")
    p.add_argument("--runs", type=int, default=300, help="timed runs per case")
    p.add_argument("--warmup", type=int, default=5, help="untimed runs per case first")
    p.add_argument(
        "--budget", type=float, default=25.0, help="seconds per case after which it stops, once it has --min-runs"
    )
    p.add_argument("--min-runs", type=int, default=15)
    p.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile N runs of each case into bench/results/"
    )
    p.add_argument("--skip-components", action="store_true", help="do not time the components")
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a timeout still stops the throwaway cluster
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = Report("command-layer", args)
    org = generate.build_chart(args.seats, seed=args.seed, metrics_per_seat=args.metrics_per_seat)
    for backend in backends(args.backend):
        with store_url(backend, args.pg_url) as url:
            bench_backend(backend, url, org, args, report)
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
