"""The verdict table of a set of runs, as Markdown: target / SQLite / PostgreSQL / met.

    python bench/verdicts.py bench/results/slack-serve-*.json bench/results/gate-*.json ...

Reads the JSON the benchmarks write and prints one row per target with what each backend
measured, then one line per run (benchmark, start, cores, load average at start and end).
Several runs of one benchmark and backend are shown side by side, in the order named.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(paths: list[str]) -> int:
    rows: dict[str, dict[str, list[dict]]] = {}
    runs = []
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        runs.append(
            f"- `{data['benchmark']}` {data['started']}: {data['machine']['cores']} cores, load average "
            f"{' '.join(map(str, data['load_average_at_start']))} at start, "
            f"{' '.join(map(str, data.get('load_average_at_end', [])))} at end"
        )
        for v in data["verdicts"]:
            rows.setdefault(v["target"], {}).setdefault(v["backend"], []).append(v)
    print("| target | SQLite | PostgreSQL (durable) | met |")
    print("|---|---|---|---|")
    for target, by in rows.items():
        cells = [f"{by[b]['measured']}" if b in by else "not run" for b in ("sqlite", "postgresql")]
        met = " / ".join(("yes" if by[b]["met"] else "**no**") if b in by else "–" for b in ("sqlite", "postgresql"))
        print(f"| {target} | {cells[0]} | {cells[1]} | {met} |")
    print()
    print("\n".join(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
