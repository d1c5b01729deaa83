"""Benchmark the chart import as an operator runs it: `otp chart import FILE`, a subprocess.

    python bench/import_cli.py [--backend sqlite|postgresql|both] [--seats 10000 [50000 ...]]

For each size, the generated chart is written to a YAML file, then on an empty store:
`otp db upgrade` (timed apart), `otp chart import FILE` (the import: reading, validating,
diffing, writing every seat and its audit entries, committing) and the same command again on
the unchanged file (must print `no changes`). Each is timed from the process's start to its
exit, with its CPU seconds and peak memory from the kernel. Several sizes give the curve.

Verdicts (issue 18), at 10,000 seats: import <= 10 s on SQLite, <= 20 s on PostgreSQL;
unchanged re-import <= 3 s.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import generate
from backends import add_backend_args, backends, describe, durability, store_url
from runner import Report, Verdict, log

import store

TARGET_S = {"sqlite": 10.0, "postgresql": 20.0}
REIMPORT_S = 3.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_backend_args(p)
    p.add_argument("--seats", type=int, nargs="+", default=[10_000])
    args = p.parse_args(argv)
    store.require_otp()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = Report("import-cli", args)
    workdir = Path(tempfile.mkdtemp(prefix="otp-import-bench-"))
    try:
        for seats in args.seats:
            org = generate.build_chart(seats, seed=args.seed)
            chart_file = store.write_chart(org, workdir / f"chart-{seats}.yaml")
            size_mb = chart_file.stat().st_size / 1e6
            for backend in backends(args.backend):
                with store_url(backend, args.pg_url) as url:
                    log(f"{backend}: otp chart import of {seats:,} seats ({size_mb:.1f} MB of YAML) ...")
                    found = store.import_via_cli(url, chart_file)
                    settings = durability(url)
                lines = [
                    f"{'step':<34} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12}",
                    *(
                        f"{name:<34} {r['seconds']:>8.1f} {r['cpu_seconds']:>8.1f} {r['peak_rss_mb']:>12.0f}"
                        for name, r in (
                            ("otp db upgrade", found["migrate"]),
                            ("otp chart import FILE", found["import"]),
                            ("otp chart import FILE (unchanged)", found["reimport_unchanged"]),
                        )
                    ),
                    f"import said: {found['import']['stdout']}",
                    describe(backend, settings),
                ]
                report.section(
                    f"{backend}: otp chart import, {seats:,} seats ({org.stats.get('metrics', 0):,} metrics), "
                    f"{size_mb:.1f} MB file",
                    "\n".join(lines),
                    {"backend": backend, "seats": seats, "file_mb": size_mb, "durability": settings, **found},
                )
                if seats == 10_000:
                    r = found["import"]
                    report.verdict(
                        Verdict(
                            "otp chart import of 10,000 seats <= 10 s on SQLite, <= 20 s on PostgreSQL",
                            f"{r['seconds']:.1f} s wall, {r['cpu_seconds']:.1f} s CPU",
                            r["seconds"] <= TARGET_S[backend],
                            backend,
                        )
                    )
                    r = found["reimport_unchanged"]
                    report.verdict(
                        Verdict(
                            f"unchanged re-import of 10,000 seats <= {REIMPORT_S:.0f} s",
                            f"{r['seconds']:.1f} s wall, {r['cpu_seconds']:.1f} s CPU",
                            r["seconds"] <= REIMPORT_S,
                            backend,
                        )
                    )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
