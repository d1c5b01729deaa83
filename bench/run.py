"""Benchmark who-owns and scorecard through the command layer on a 10,000-seat org.

    python bench/run.py [--backend sqlite|postgresql|both] [--seats 10000] [--values 500000] [--runs 300]

Builds the synthetic org of `bench/generate.py`, imports it with `apply_chart` (timed),
bulk-loads the values (setup, timed for information), then times
`otp_bot.commands.run(session, Actor.anonymous("bench"), text)` for each case, one fresh
session per query as the bot does, interleaving the cases round by round so a noisy
neighbour slows them all alike. `help` is measured alongside as the floor: the command
layer's fixed cost (session, savepoint, parse, render). See bench/README.md.

This is a benchmark, not a test: pytest does not collect it (testpaths = tests).
"""

from __future__ import annotations

import argparse
import atexit
import cProfile
import datetime as dt
import gc
import io
import json
import math
import os
import platform
import pstats
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from sqlalchemy import create_engine, event, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from otp_bot.commands import run as run_command  # noqa: E402
from otp_bot.store.db import Database  # noqa: E402
from otp_bot.store.domain.actors import Actor  # noqa: E402
from otp_bot.store.domain.chart.chartfile.validation import validate_chart  # noqa: E402
from otp_bot.store.domain.chart.reading import seat_tree  # noqa: E402
from otp_bot.store.domain.chart.search import SearchIndex  # noqa: E402
from otp_bot.store.domain.chart.sync.apply import apply_chart  # noqa: E402
from otp_bot.store.domain.scorecard import periods  # noqa: E402
from otp_bot.store.domain.scorecard.metrics import metric_rows  # noqa: E402
from otp_bot.store.models import Metric, MetricValue, Seat  # noqa: E402

ACTOR = Actor.anonymous("bench")
VALUE_CHUNK = 10_000


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- PostgreSQL


class ThrowawayPostgres:
    """A cluster started by scripts/postgres.sh (the one CI uses) and removed at exit."""

    def __init__(self) -> None:
        self.url = ""
        self.dir = ""

    def start(self) -> str:
        script = ROOT / "scripts" / "postgres.sh"
        out = subprocess.run(
            ["bash", "-c", f'source "{script}" && start_postgres >&2 && printf "%s\\n%s\\n" "$PG_URL" "$PG_DIR"'],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        self.url, self.dir = out.stdout.split()[:2]
        log(out.stderr.strip())
        atexit.register(self.stop)
        return self.url

    def stop(self) -> None:
        if not self.dir:
            return
        script = ROOT / "scripts" / "postgres.sh"
        subprocess.run(
            ["bash", "-c", f'source "{script}"; PG_DIR="$1"; stop_postgres', "_", self.dir],
            check=False,
            capture_output=True,
            cwd=ROOT,
        )
        log(f"stopped PostgreSQL ({self.dir})")
        self.dir = ""


def fresh_pg_database(server_url: str) -> tuple[str, Any]:
    """A new database on the server, so a given --pg-url is never written over; dropped at the end."""
    name = f"otp_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server_url).set(database=name).render_as_string(hide_password=False), drop


# ---------------------------------------------------------------- statistics


def percentile(sorted_ms: list[float], p: float) -> float:
    """Nearest-rank percentile: a value that was actually observed."""
    if not sorted_ms:
        return math.nan
    k = max(0, math.ceil(p / 100 * len(sorted_ms)) - 1)
    return sorted_ms[k]


def summary(samples_ms: list[float]) -> dict[str, float]:
    s = sorted(samples_ms)
    return {
        "count": len(s),
        "mean": statistics.fmean(s) if s else math.nan,
        "p50": percentile(s, 50),
        "p90": percentile(s, 90),
        "p99": percentile(s, 99),
        "max": s[-1] if s else math.nan,
    }


# ---------------------------------------------------------------- cases


@dataclass
class Case:
    name: str
    commands: list[str]
    samples: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)  # SQL statements each run sent
    spent: float = 0.0
    outcomes: Counter = field(default_factory=Counter)

    def next_command(self) -> str:
        return self.commands[len(self.samples) % len(self.commands)]


def outcome(case: Case, reply) -> str:
    if not reply.ok:
        return "error"
    if case.name.startswith("who-owns"):
        if reply.text.startswith("No seat owns"):
            return "none"
        if reply.text.startswith("I'm not sure who owns"):
            return "candidates"
        return "answer"
    return "ok"


def build_cases(org: generate.Org, runs: int) -> list[Case]:
    topics = generate.who_owns_topics(org, runs)
    seats = generate.scorecard_seats(org, runs)
    cases = [Case("floor: help", ["help"] * runs)]
    cases += [Case(f"who-owns {kind}", [f"who-owns {t}" for t in ts]) for kind, ts in topics.items()]
    cases.append(Case("scorecard <seat>", [f"scorecard {s}" for s in seats["any"]]))
    cases.append(Case("scorecard <manager>", [f"scorecard {s}" for s in seats["manager"]]))
    cases.append(Case("scorecard (org-wide)", ["scorecard"] * runs))
    return cases


class StatementCounter:
    """Counts what reaches the driver (an executemany counts once): noise-free, unlike time."""

    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


def timed_run(db: Database, command: str, counter: StatementCounter) -> tuple[float, int, Any]:
    """One command in one fresh unit of work, as a surface runs it; only `run` is timed."""
    with db.session() as session:
        n0 = counter.count
        t0 = time.perf_counter_ns()
        reply = run_command(session, ACTOR, command)
        elapsed = (time.perf_counter_ns() - t0) / 1e6
        statements = counter.count - n0
    return elapsed, statements, reply


def measure(
    db: Database, cases: list[Case], *, runs: int, warmup: int, budget: float, min_runs: int, seed: int
) -> None:
    counter = StatementCounter(db.engine)
    # Warm-up: the first who-owns builds the search index (once per chart revision), the
    # first of each command compiles its queries and templates. None of it is recorded.
    for case in cases:
        t0 = time.perf_counter()
        for i in range(warmup):
            timed_run(db, case.commands[-1 - i % len(case.commands)], counter)
            if time.perf_counter() - t0 > 3.0:  # a slow case is warm after one or two runs
                break
    rng = random.Random(seed)
    active = list(cases)
    rounds = 0
    while active:
        rng.shuffle(active)
        for case in active:
            command = case.next_command()
            t0 = time.perf_counter()
            ms, statements, reply = timed_run(db, command, counter)
            case.spent += time.perf_counter() - t0
            case.samples.append(ms)
            case.statements.append(statements)
            case.outcomes[outcome(case, reply)] += 1
        rounds += 1
        active = [c for c in active if len(c.samples) < runs and not (c.spent > budget and len(c.samples) >= min_runs)]
        if rounds % 50 == 0:
            log(f"  round {rounds}: " + ", ".join(f"{c.name} {len(c.samples)}" for c in cases))


# ---------------------------------------------------------------- components (where the time goes)


def components(db: Database, org: generate.Org, repeat: int) -> dict[str, dict[str, float]]:
    """The pieces the measured commands are made of, each timed on its own."""
    out: dict[str, list[float]] = {}

    def clock(name: str, fn) -> None:
        for _ in range(repeat):
            with db.session() as session:
                t0 = time.perf_counter_ns()
                fn(session)
                out.setdefault(name, []).append((time.perf_counter_ns() - t0) / 1e6)

    clock("SearchIndex.build (once per chart revision)", SearchIndex.build)
    with db.session() as session:
        index = SearchIndex.build(session)
    topics = generate.who_owns_topics(org, repeat, seed=99)
    for kind in ("exact", "typo", "no-match"):
        samples = []
        for t in topics[kind]:
            t0 = time.perf_counter_ns()
            index.search(t)
            samples.append((time.perf_counter_ns() - t0) / 1e6)
        out[f"SearchIndex.search, {kind} (no database)"] = samples
    clock("seat_tree(session): whole chart as ORM objects", seat_tree)

    def ids_only(session) -> None:
        session.execute(select(Seat.id, Seat.reports_to_id, Seat.position, Seat.status)).all()
        session.execute(select(Metric.seat_id).distinct()).all()

    clock("(for comparison) seat ids + parents + seats with metrics, as tuples", ids_only)
    rng = random.Random(5)
    page_metric_ids = [m["id"] for m in rng.sample(org.metrics, 20)]

    def page_rows(session) -> None:
        metrics = session.scalars(select(Metric).where(Metric.id.in_(page_metric_ids))).all()
        metric_rows(session, metrics, today=periods.today("UTC"))

    clock("metric_rows for 20 metrics (a page of 12 seats), 13 weeks", page_rows)
    return {name: summary(samples) for name, samples in out.items()}


def profile_cases(db: Database, cases: list[Case], backend: str, results: Path, per_case: int) -> list[Path]:
    paths = []
    for case in cases:
        if case.name.startswith("floor"):
            continue
        prof = cProfile.Profile()
        for command in case.commands[: per_case if not case.name.startswith("scorecard") else max(3, per_case // 5)]:
            with db.session() as session:
                prof.enable()
                run_command(session, ACTOR, command)
                prof.disable()
        path = results / f"profile-{backend}-{re.sub(r'[^a-z0-9]+', '-', case.name).strip('-')}.txt"
        write_profile(prof, path, f"{backend}: {case.name}")
        paths.append(path)
    return paths


def write_profile(prof: cProfile.Profile, path: Path, title: str) -> None:
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).strip_dirs()
    buf.write(f"# {title}\n\n## by cumulative time\n")
    stats.sort_stats("cumulative").print_stats(40)
    buf.write("\n## by own time\n")
    stats.sort_stats("tottime").print_stats(25)
    path.write_text(buf.getvalue(), encoding="utf-8")


# ---------------------------------------------------------------- one backend


def load(db: Database, chart, values: list[dict[str, Any]], profile_to: Path | None = None) -> dict[str, float]:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    db.upgrade()
    timings["migrate"] = time.perf_counter() - t0

    prof = cProfile.Profile() if profile_to else None
    t0 = time.perf_counter()
    with db.session() as session:
        if prof:
            prof.enable()
        result = apply_chart(session, chart, actor="operator:bench", source="bench/generate.py")
        if prof:
            prof.disable()
        timings["apply_chart"] = time.perf_counter() - t0
    timings["apply_chart+commit"] = time.perf_counter() - t0
    if prof and profile_to:
        write_profile(
            prof, profile_to, f"apply_chart of {len(chart.seats):,} seats (timings above include cProfile overhead)"
        )
    timings["import_changes"] = len(result.changes)

    t0 = time.perf_counter()
    for start in range(0, len(values), VALUE_CHUNK):
        with db.engine.begin() as conn:
            conn.execute(insert(MetricValue), values[start : start + VALUE_CHUNK])
    timings["bulk_insert_values"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if not db.is_sqlite:
        # Autovacuum would analyze the freshly loaded tables within a minute; do it now so
        # the planner has statistics, as it would in steady state. (SQLite is left as the
        # app leaves it: the app never runs ANALYZE.)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    timings["analyze"] = time.perf_counter() - t0
    return timings


def reimport(db: Database, chart) -> float:
    """Importing the same file again: `no changes`, but it still exports and diffs the whole chart."""
    t0 = time.perf_counter()
    with db.session() as session:
        result = apply_chart(session, chart, actor="operator:bench", source="bench/generate.py")
    assert not result.changes, result.changes[:3]
    return time.perf_counter() - t0


def bench_backend(backend: str, url: str, org: generate.Org, args) -> dict[str, Any]:
    db = Database(url, auto_migrate=True)
    try:
        # The validated chart and the 500,000 value rows are built here and dropped before
        # measuring: left alive they would only make every full garbage collection slower.
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        chart = validate_chart(org.chart, "bench/generate.py")
        timings["validate_chart"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        values = generate.build_values(org, args.values, weeks=args.weeks, seed=args.seed + 1)
        timings["generate_values"] = time.perf_counter() - t0
        log(f"{backend}: migrating, importing {len(chart.seats):,} seats through apply_chart ...")
        profile_to = args.results / f"profile-{backend}-apply_chart.txt" if args.profile_import else None
        timings |= load(db, chart, values, profile_to)
        log(
            f"{backend}: apply_chart {timings['apply_chart']:.1f}s, {len(values):,} values bulk-loaded in "
            f"{timings['bulk_insert_values']:.1f}s"
        )
        if not args.skip_reimport:
            timings["reimport_noop"] = reimport(db, chart)
            log(f"{backend}: re-import (no changes) {timings['reimport_noop']:.1f}s")
        del chart, values
        with db.session() as session:
            counts = {
                "seats": session.scalar(select(func.count()).select_from(Seat)),
                "metrics": session.scalar(select(func.count()).select_from(Metric)),
                "values": session.scalar(select(func.count()).select_from(MetricValue)),
            }
        cases = build_cases(org, args.runs)
        log(
            f"{backend}: measuring {len(cases)} cases, up to {args.runs} runs each "
            f"(a case stops after {args.budget:.0f}s once it has {args.min_runs} runs) ..."
        )
        gc.collect()
        t0 = time.perf_counter()
        measure(
            db, cases, runs=args.runs, warmup=args.warmup, budget=args.budget, min_runs=args.min_runs, seed=args.seed
        )
        measured_for = time.perf_counter() - t0
        log(f"{backend}: measured for {measured_for:.0f}s")
        comps = {}
        if not args.skip_components:
            log(f"{backend}: timing components ...")
            comps = components(db, org, repeat=3)
        profiles = []
        if args.profile:
            log(f"{backend}: profiling each case with cProfile ...")
            profiles = [str(p) for p in profile_cases(db, cases, backend, args.results, args.profile)]
        floor = summary(cases[0].samples)
        return {
            "backend": backend,
            "url": db.safe_url,
            "counts": counts,
            "setup_seconds": timings,
            "measured_seconds": measured_for,
            "floor_p50_ms": floor["p50"],
            "cases": [
                {
                    "case": c.name,
                    **summary(c.samples),
                    "p50_over_floor": summary(c.samples)["p50"] / floor["p50"],
                    "sql_per_run": statistics.fmean(c.statements),
                    "outcomes": dict(c.outcomes),
                    "seconds": c.spent,
                    "samples_ms": [round(x, 3) for x in c.samples],
                }
                for c in cases
            ],
            "who_owns_mix": who_owns_mix(cases, floor["p50"]),
            "components_ms": comps,
            "profiles": profiles,
        }
    finally:
        db.dispose()


def who_owns_mix(cases: list[Case], floor_p50: float) -> dict[str, Any]:
    """The four who-owns kinds in equal parts (each cut to the shortest), as one distribution."""
    kinds = [c for c in cases if c.name.startswith("who-owns")]
    n = min(len(c.samples) for c in kinds)
    pooled = [x for c in kinds for x in c.samples[:n]]
    s = summary(pooled)
    sql = statistics.fmean(x for c in kinds for x in c.statements[:n])
    return {"case": "who-owns (equal mix)", **s, "p50_over_floor": s["p50"] / floor_p50, "sql_per_run": sql}


# ---------------------------------------------------------------- output


def fmt_ms(x: float) -> str:
    if math.isnan(x):
        return "-"
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 1 else f"{x:.2f}"


def table(result: dict[str, Any]) -> str:
    rows = list(result["cases"])
    rows.insert(5, result["who_owns_mix"])
    head = (
        f"{'case':<24} {'n':>5} {'mean':>8} {'p50':>8} {'p90':>8} {'p99':>8} {'p50/floor':>10} {'SQL/run':>8}  outcomes"
    )
    lines = [
        f"== {result['backend']} ({result['counts']['seats']:,} seats, {result['counts']['metrics']:,} metrics, "
        f"{result['counts']['values']:,} values) — times in ms",
        head,
        "-" * len(head),
    ]
    for r in rows:
        flag = "*" if r["count"] < 100 else " "
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r.get("outcomes", {}).items()))
        lines.append(
            f"{r['case']:<24} {r['count']:>5} {fmt_ms(r['mean']):>8} {fmt_ms(r['p50']):>8} {fmt_ms(r['p90']):>8} "
            f"{fmt_ms(r['p99']):>7}{flag} {r['p50_over_floor']:>9.1f}x {r['sql_per_run']:>8.1f}  {outcomes}"
        )
    st = result["setup_seconds"]
    lines.append("")
    lines.append(
        "setup (s): "
        + ", ".join(f"{k.replace('_', ' ')} {v:.1f}" for k, v in st.items() if k not in ("import_changes",))
        + f" ({st['import_changes']:,} changes, each audited)"
    )
    if result["components_ms"]:
        lines.append("components (p50 / max of 3, ms):")
        for name, s in result["components_ms"].items():
            lines.append(f"  {name:<66} {fmt_ms(s['p50']):>8} / {fmt_ms(s['max'])}")
    lines.extend(f"profile: {os.path.relpath(p, ROOT)}" for p in result["profiles"])
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--seats", type=int, default=10_000)
    p.add_argument("--values", type=int, default=500_000)
    p.add_argument("--metrics-per-seat", type=float, default=1.0)
    p.add_argument("--weeks", type=int, default=50, help="weeks of history the values cover (default 50)")
    p.add_argument("--runs", type=int, default=300, help="timed runs per case (default 300)")
    p.add_argument("--warmup", type=int, default=5, help="untimed runs per case first (default 5)")
    p.add_argument(
        "--budget",
        type=float,
        default=25.0,
        help="seconds per case after which it stops early, once it has --min-runs (default 25)",
    )
    p.add_argument("--min-runs", type=int, default=15)
    p.add_argument(
        "--pg-url",
        help="a PostgreSQL server to use instead of a throwaway cluster "
        "(a fresh database is created on it and dropped at the end)",
    )
    p.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also cProfile N runs of each case (N/5 for scorecards) into bench/results/",
    )
    p.add_argument(
        "--profile-import",
        action="store_true",
        help="cProfile apply_chart into bench/results/ (makes the import itself slower)",
    )
    p.add_argument(
        "--keep-sqlite",
        type=Path,
        metavar="PATH",
        help="build the SQLite store at PATH and keep it (for digging in afterwards)",
    )
    p.add_argument("--skip-reimport", action="store_true", help="do not time the no-op re-import")
    p.add_argument("--skip-components", action="store_true", help="do not time the components")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--results", type=Path, default=HERE / "results", help="where the JSON goes (git-ignored)")
    p.add_argument("--no-json", action="store_true")
    args = p.parse_args(argv)
    args.results.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    # SIGTERM (a CI timeout) should still stop the throwaway cluster: turn it into an exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    log(f"generating {args.seats:,} seats, {args.values:,} values ...")
    t0 = time.perf_counter()
    org = generate.build_chart(args.seats, seed=args.seed, metrics_per_seat=args.metrics_per_seat)
    gen_chart = time.perf_counter() - t0
    log(f"chart generated in {gen_chart:.1f}s: {json.dumps(org.stats)}")

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = []
    for backend in backends:
        cleanup = []
        try:
            if backend == "sqlite" and args.keep_sqlite:
                path = args.keep_sqlite.resolve()
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
                url = f"sqlite:///{path}"
            elif backend == "sqlite":
                tmp = tempfile.mkdtemp(prefix="otp-bench-")
                cleanup.append(lambda tmp=tmp: shutil.rmtree(tmp, ignore_errors=True))
                url = f"sqlite:///{tmp}/bench.db"
            else:
                if args.pg_url:
                    url, drop = fresh_pg_database(args.pg_url)
                else:
                    pg = ThrowawayPostgres()
                    url, drop = fresh_pg_database(pg.start())
                    cleanup.append(pg.stop)
                cleanup.insert(0, drop)
            results.append(bench_backend(backend, url, org, args))
        finally:
            for fn in cleanup:
                try:
                    fn()
                except Exception as exc:
                    log(f"cleanup failed: {exc}")
        print(table(results[-1]), flush=True)
        print(flush=True)

    total = time.perf_counter() - started
    print(
        f"chart generated in {gen_chart:.1f}s; whole run {total:.0f}s. "
        "* = fewer than 100 runs: p99 is then close to the max, read it as such."
    )
    if not args.no_json:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = args.results / f"bench-{stamp}.json"
        path.write_text(
            json.dumps(
                {
                    "started": stamp,
                    "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "pg_url"},
                    "machine": {
                        "python": platform.python_version(),
                        "platform": platform.platform(),
                        "cpus": os.cpu_count(),
                    },
                    "org": org.stats,
                    "generation_seconds": {"chart": gen_chart},
                    "results": results,
                    "total_seconds": total,
                },
                indent=1,
            ),
            encoding="utf-8",
        )
        print(f"JSON: {os.path.relpath(path, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
