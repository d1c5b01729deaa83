"""Where the command layer's time goes: the parts its commands are made of, each timed on
its own outside the command layer, and cProfile of each case on request."""

from __future__ import annotations

import cProfile
import io
import pstats
import random
import re
import time
from pathlib import Path
from typing import Any

import generate
from runner import summary
from sqlalchemy import select

from otp_bot.commands import run as run_command
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import seat_tree
from otp_bot.store.domain.chart.search import SearchIndex
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.metrics import metric_rows
from otp_bot.store.models import Metric, Seat


def components(db, org: generate.Org, repeat: int) -> dict[str, dict[str, float]]:
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
    page_metric_ids = [m["id"] for m in random.Random(5).sample(org.metrics, 20)]

    def page_rows(session) -> None:
        metrics = session.scalars(select(Metric).where(Metric.id.in_(page_metric_ids))).all()
        metric_rows(session, metrics, today=periods.today("UTC"))

    clock("metric_rows for 20 metrics (a page of 12 seats), 13 weeks", page_rows)
    return {name: summary(samples) for name, samples in out.items()}


def profile_cases(db, commands: dict[str, list[str]], backend: str, results: Path, per_case: int) -> list[str]:
    paths = []
    actor = Actor.anonymous("bench")
    for name, texts in commands.items():
        prof = cProfile.Profile()
        for text in texts[: per_case if not name.startswith("scorecard") else max(3, per_case // 5)]:
            with db.session() as session:
                prof.enable()
                run_command(session, actor, text)
                prof.disable()
        path = results / f"profile-{backend}-{re.sub(r'[^a-z0-9]+', '-', name).strip('-')}.txt"
        write_profile(prof, path, f"{backend}: {name}")
        paths.append(str(path))
    return paths


def write_profile(prof: cProfile.Profile, path: Path, title: str) -> None:
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).strip_dirs()
    buf.write(f"# {title}\n\n## by cumulative time\n")
    stats.sort_stats("cumulative").print_stats(40)
    buf.write("\n## by own time\n")
    stats.sort_stats("tottime").print_stats(25)
    path.write_text(buf.getvalue(), encoding="utf-8")


def format_components(comps: dict[str, Any]) -> str:
    from runner import fmt_ms

    lines = ["components (p50 / max, ms):"]
    lines += [f"  {name:<66} {fmt_ms(s['p50']):>8} / {fmt_ms(s['max'])}" for name, s in comps.items()]
    return "\n".join(lines)
