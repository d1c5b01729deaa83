"""The one timing harness every benchmark here uses.

- `interleaved`: cases measured round by round in a shuffled order (a noisy neighbour slows
  them all alike), after untimed warm-up runs, each case stopping at its run count or, once
  it has `min_runs`, at its time budget;
- `concurrent`: the same kind of request from N clients at once (threads; each client owns
  its connection), every answer timed on its own;
- `sustained`: N clients sending back to back for a fixed time (>= 30 s by default), with
  the rate per window so a rate that sinks as history grows shows;
- `Verdict`: a target of the issue, what was measured, met or not, always judged at p99
  where the target is a latency;
- `Report`: the machine (cores, load average before and after), every section's rows and
  verdicts, printed and written as JSON to bench/results/.

Percentiles are nearest-rank: a value that was actually observed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

# What one timed request returns: milliseconds, and a word saying what the answer was.
Sample = tuple[float, str]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- statistics


def percentile(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return math.nan
    return sorted_ms[max(0, math.ceil(p / 100 * len(sorted_ms)) - 1)]


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


def fmt_ms(x: float) -> str:
    if math.isnan(x):
        return "-"
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 1 else f"{x:.2f}"


def timed(fn: Callable[[], str]) -> Sample:
    """Times `fn`, which returns its outcome word."""
    t0 = time.perf_counter_ns()
    outcome = fn()
    return (time.perf_counter_ns() - t0) / 1e6, outcome


# ---------------------------------------------------------------- the loops


@dataclass
class Case:
    """One kind of request. `run(i)` performs the i-th and returns its (ms, outcome)."""

    name: str
    run: Callable[[int], Sample]
    samples: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    spent: float = 0.0

    def row(self, **extra: Any) -> dict[str, Any]:
        return {"case": self.name, **summary(self.samples), "outcomes": dict(self.outcomes), **extra}


def interleaved(
    cases: list[Case],
    *,
    runs: int,
    warmup: int = 5,
    budget: float = 600.0,
    min_runs: int = 20,
    seed: int = 1,
    warmup_seconds: float = 5.0,
) -> float:
    """Measures every case `runs` times, round by round; returns the seconds spent measuring."""
    for case in cases:
        t0 = time.perf_counter()
        for i in range(warmup):
            case.run(-1 - i)
            if time.perf_counter() - t0 > warmup_seconds:  # a slow case is warm after a run or two
                break
    rng = random.Random(seed)
    active = list(cases)
    started = time.perf_counter()
    rounds = 0
    while active:
        rng.shuffle(active)
        for case in active:
            t0 = time.perf_counter()
            ms, outcome = case.run(len(case.samples))
            case.spent += time.perf_counter() - t0
            case.samples.append(ms)
            case.outcomes[outcome] += 1
        rounds += 1
        active = [c for c in active if len(c.samples) < runs and not (c.spent > budget and len(c.samples) >= min_runs)]
        if rounds % 50 == 0:
            log(f"  round {rounds}: " + ", ".join(f"{c.name} {len(c.samples)}" for c in cases))
    return time.perf_counter() - started


def concurrent(
    name: str, clients: int, make_client: Callable[[int], Callable[[int], Sample]], *, requests: int, warmup: int = 3
) -> Case:
    """`clients` threads, each with its own client from `make_client(i)`, `requests` timed each."""
    case = Case(f"{name} [{clients} clients]", run=lambda i: (math.nan, ""))
    lock = threading.Lock()
    errors: list[BaseException] = []
    barrier = threading.Barrier(clients)

    def worker(k: int) -> None:
        try:
            send = make_client(k)
            for i in range(warmup):
                send(-1 - i)
            barrier.wait()
            for i in range(requests):
                ms, outcome = send(k * requests + i)
                with lock:
                    case.samples.append(ms)
                    case.outcomes[outcome] += 1
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    case.spent = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return case


def sustained(
    clients: int,
    make_client: Callable[[int], Callable[[int], Sample]],
    *,
    seconds: float = 30.0,
    units_per_request: int = 1,
    window: float = 5.0,
) -> dict[str, Any]:
    """`clients` sending back to back for `seconds`; the rate overall and per `window`."""
    done: list[tuple[float, float]] = []  # (finished at, ms) of every request
    lock = threading.Lock()
    errors: list[BaseException] = []
    senders = [make_client(k) for k in range(clients)]
    start = time.perf_counter()
    stop = start + seconds

    def worker(k: int) -> None:
        i = 0
        try:
            while time.perf_counter() < stop:
                ms, _ = senders[k](k * 1_000_000 + i)
                i += 1
                with lock:
                    done.append((time.perf_counter() - start, ms))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    windows = []
    for w in range(math.ceil(elapsed / window)):
        n = sum(1 for at, _ in done if w * window <= at < (w + 1) * window)
        span = min(window, elapsed - w * window)
        windows.append(round(n * units_per_request / span, 1) if span > 0.5 else None)
    return {
        "clients": clients,
        "seconds": elapsed,
        "requests": len(done),
        "per_second": len(done) * units_per_request / elapsed,
        "per_window": [w for w in windows if w is not None],
        "window_seconds": window,
        "latency_ms": summary([ms for _, ms in done]),
    }


# ---------------------------------------------------------------- verdicts and the report


@dataclass
class Verdict:
    target: str  # as the issue states it
    measured: str  # the figure, with what it was judged on
    met: bool
    backend: str = ""

    def line(self) -> str:
        return f"VERDICT [{self.backend}] {self.target} | measured {self.measured} | {'met' if self.met else 'NOT met'}"


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


class Report:
    """What one benchmark run found: printed as it goes, and written as JSON at the end."""

    def __init__(self, name: str, args: Any) -> None:
        self.name = name
        self.stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.data: dict[str, Any] = {
            "benchmark": name,
            "started": dt.datetime.now().isoformat(timespec="seconds"),
            "machine": machine(),
            "load_average_at_start": load_average(),
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "pg_url"},
            "sections": [],
            "verdicts": [],
        }
        self.verdicts: list[Verdict] = []
        m = self.data["machine"]
        print(
            f"# {name}: {self.data['started']}, {m['cores']} cores, {m['platform']}, "
            f"load average {' '.join(map(str, self.data['load_average_at_start']))}",
            flush=True,
        )

    def section(self, title: str, body: str, data: dict[str, Any]) -> None:
        print(f"== {title}\n{body}\n", flush=True)
        self.data["sections"].append({"title": title, **data})

    def verdict(self, v: Verdict) -> None:
        self.verdicts.append(v)
        self.data["verdicts"].append(vars(v))
        print(v.line(), flush=True)

    def finish(self) -> Path:
        self.data["load_average_at_end"] = load_average()
        print(f"load average at the end: {' '.join(map(str, self.data['load_average_at_end']))}")
        if self.verdicts:
            print("\nverdicts:")
            for v in self.verdicts:
                print("  " + v.line())
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.name}-{self.stamp}.json"
        path.write_text(json.dumps(self.data, indent=1, default=str), encoding="utf-8")
        print(f"JSON: bench/results/{path.name}", flush=True)
        return path


def table(rows: list[dict[str, Any]], *, floors: dict[str, dict[str, float]] | None = None, width: int = 42) -> str:
    """Rows of `Case.row()`, with p50 and p99 divided by each named floor's."""
    floors = floors or {}
    ratio_heads = "".join(f" {'p50/' + k:>12} {'p99/' + k:>12}" for k in floors)
    head = f"{'case':<{width}} {'n':>5} {'mean':>8} {'p50':>8} {'p90':>8} {'p99':>8}{ratio_heads}  outcomes"
    lines = [head, "-" * len(head)]
    for r in rows:
        star = "*" if r["count"] < 100 else " "
        ratios = "".join(f" {r['p50'] / f['p50']:>11.2f}x {r['p99'] / f['p99']:>11.2f}x" for f in floors.values())
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r.get("outcomes", {}).items()))
        lines.append(
            f"{r['case']:<{width}} {r['count']:>5} {fmt_ms(r['mean']):>8} {fmt_ms(r['p50']):>8} "
            f"{fmt_ms(r['p90']):>8} {fmt_ms(r['p99']):>7}{star}{ratios}  {outcomes}"
        )
    lines.append("times in ms; * = fewer than 100 samples, so p99 is close to the maximum")
    return "\n".join(lines)
