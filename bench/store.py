"""Building a benchmark's store: the generated chart, then its values in bulk.

Two ways in for the chart:
- `import_via_cli`: what an operator runs, `otp chart import FILE` as a subprocess on a chart
  YAML file written out first; the import benchmark times this, and its unchanged re-import;
- `build`: `apply_chart` in this process, for benchmarks to which the import is only setup.

The values go in by bulk insert (setup, not measured). On PostgreSQL `VACUUM ANALYZE`
follows, as autovacuum would within a minute; SQLite is left as the app leaves it.

A SQLite store is costly to build at 10,000 seats, so `build` keeps a copy under
bench/results/cache/, keyed by everything that shapes it (size, seed, generate.py and the
migrations), and later runs copy the file instead of building it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import generate
import yaml
from runner import RESULTS, log
from sqlalchemy import insert, text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OTP = Path(sys.executable).with_name("otp")
VALUE_CHUNK = 10_000
CACHE = RESULTS / "cache"


def require_otp() -> None:
    if not OTP.exists():
        sys.exit(f"{OTP} not found: install the project in this environment (pip install -e '.[postgres]')")


def otp_env(url: str, **extra: str) -> dict[str, str]:
    """The environment for an `otp` subprocess: this store, and nothing from the caller's OTP_/SLACK_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OTP_"))}
    return env | {"OTP_DATABASE_URL": url, "OTP_LOG_LEVEL": "WARNING"} | extra


def write_chart(org: generate.Org, path: Path) -> Path:
    path.write_text(yaml.safe_dump(org.chart, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# Runs the command and reports its wall and CPU time and peak memory. A child forked from
# this (large) benchmark process would inherit its high-water mark of resident memory, so
# the command is started from this small launcher instead.
LAUNCHER = """
import json, os, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(proc.pid, 0)
elapsed = time.perf_counter() - t0
print(json.dumps({"seconds": elapsed, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "peak_rss_mb": usage.ru_maxrss / 1024, "rc": os.waitstatus_to_exitcode(status)}), file=sys.stderr)
"""


def run_otp(argv: list[str], url: str, cwd: Path) -> dict[str, Any]:
    """One `otp` command as a subprocess, timed from start to exit (the interpreter's start
    included), with its CPU seconds and peak resident memory from the kernel."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(OTP), *argv],
        env=otp_env(url),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    found = json.loads(done.stderr.strip().splitlines()[-1])
    if found.pop("rc") != 0:
        raise RuntimeError(f"otp {' '.join(argv)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return found | {"stdout": done.stdout}


def import_via_cli(url: str, chart_file: Path) -> dict[str, Any]:
    """`otp db upgrade`, then `otp chart import FILE` twice: the import, and the unchanged re-import."""
    cwd = chart_file.parent
    migrate = run_otp(["db", "upgrade"], url, cwd)
    first = run_otp(["chart", "import", str(chart_file)], url, cwd)
    again = run_otp(["chart", "import", str(chart_file)], url, cwd)
    if again["stdout"].strip() != "no changes":
        raise RuntimeError(f"the re-import changed something: {again['stdout'][:500]}")
    lines = first["stdout"].strip().splitlines()
    return {
        "migrate": migrate | {"stdout": ""},
        "import": first | {"stdout": lines[-1] if lines else ""},
        "reimport_unchanged": again | {"stdout": "no changes"},
    }


def bulk_values(url: str, values: list[dict[str, Any]]) -> float:
    from otp_bot.store.db import Database
    from otp_bot.store.domain.scorecard import seat_activity
    from otp_bot.store.models import MetricValue

    db = Database(url, auto_migrate=False)
    try:
        t0 = time.perf_counter()
        for start in range(0, len(values), VALUE_CHUNK):
            with db.engine.begin() as conn:
                conn.execute(insert(MetricValue), values[start : start + VALUE_CHUNK])
        with db.session() as session:  # what recording them one push at a time would have left
            seat_activity.rebuild(session)
        if not db.is_sqlite:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        return time.perf_counter() - t0
    finally:
        db.dispose()


def _cache_key(seats: int, values: int, weeks: int, metrics_per_seat: float, seed: int) -> str:
    h = hashlib.sha256()
    h.update((HERE / "generate.py").read_bytes())
    h.update((HERE / "vocabulary.py").read_bytes())
    for f in sorted((ROOT / "store" / "migrations" / "versions").glob("*.py")):
        h.update(f.read_bytes())
    # Values are placed relative to today: a store built yesterday has its weeks shifted.
    return f"org-{seats}-{values}-{weeks}-{metrics_per_seat}-{seed}-{dt.date.today()}-{h.hexdigest()[:12]}.db"


def build(
    url: str,
    org: generate.Org,
    *,
    values: int,
    weeks: int = 50,
    seed: int = 1,
    metrics_per_seat: float = 1.0,
) -> dict[str, Any]:
    """The org and `values` values in the store at `url`; returns what the setup took."""
    from otp_bot.store.db import Database
    from otp_bot.store.domain.chart.chartfile.validation import validate_chart
    from otp_bot.store.domain.chart.sync.apply import apply_chart

    cached = None
    key = _cache_key(len(org.seat_ids), values, weeks, metrics_per_seat, seed)
    if url.startswith("sqlite:///"):
        target = Path(url.removeprefix("sqlite:///"))
        cached = CACHE / key
        if cached.exists():
            shutil.copyfile(cached, target)
            log(f"store copied from {cached.relative_to(ROOT)}")
            return {"from_cache": True}
    elif _pg_copy(url, key, from_template=True):
        return {"from_cache": True}
    timings: dict[str, Any] = {}
    db = Database(url, auto_migrate=True)
    try:
        t0 = time.perf_counter()
        db.upgrade()
        with db.session() as session:
            apply_chart(session, validate_chart(org.chart, "bench"), actor="operator:bench", source="bench")
        timings["migrate_and_apply_chart_s"] = time.perf_counter() - t0
    finally:
        db.dispose()
    rows = generate.build_values(org, values, weeks=weeks, seed=seed + 1)
    timings["bulk_values_s"] = bulk_values(url, rows)
    log(f"store built: {timings}")
    if cached is None:
        _pg_copy(url, key, from_template=False)
    if cached is not None:
        CACHE.mkdir(parents=True, exist_ok=True)
        Database(url, auto_migrate=False).engine.dispose()
        # A checkpoint first, so the one file holds everything.
        import sqlite3

        with sqlite3.connect(target) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(target, cached)
    return timings


def _pg_copy(url: str, key: str, *, from_template: bool) -> bool:
    """On PostgreSQL the cache is a template database on the same server (it lives as long as
    the server: with `--pg-url`, across runs). `from_template`: recreate the store at `url`
    from it if it exists; otherwise save the store at `url` as it."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    target = make_url(url)
    template = "otp_bench_tmpl_" + hashlib.sha256(key.encode()).hexdigest()[:16]
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": template}).first()
            if from_template:
                if not exists:
                    return False
                conn.execute(text(f'DROP DATABASE "{target.database}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{target.database}" TEMPLATE "{template}"'))
                log(f"store copied from the template database {template}")
                return True
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{template}" TEMPLATE "{target.database}"'))
            return True
    finally:
        admin.dispose()
