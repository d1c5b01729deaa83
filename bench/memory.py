"""Benchmark the memory of `otp serve`: its start-up peak, and its RSS after 1,000 mixed requests.

    python bench/memory.py [--backend sqlite|postgresql|both] [--seats 10000] [--values 500000]

Builds the generated org (10,000 seats, 500,000 values), starts `otp serve` on it and reads
/proc/<pid>/status: VmHWM (the peak resident set) once it answers /healthz, then VmRSS and
VmHWM after `--requests` (1,000) requests of a fixed mix, sent one at a time:

- 40% `/otp who-owns <topic>` (the four kinds of slack_serve.py in turn), signed;
- 20% `/otp scorecard <seat>`, signed;
- 20% `GET /api/v1/me` with an agent's token;
- 20% a push of 100 new values through the agent API.

Verdicts (issue 18): RSS <= 200 MB after the requests, and no start-up peak above 200 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import shutil
import signal
import sys
import tempfile
import uuid
from pathlib import Path

import api_push
import generate
from backends import add_backend_args, backends, describe, durability, store_url
from runner import Report, Verdict, log
from servers import OTP, Connection, Server, SlackStub, signed, slack_env, slash_command

import store

TARGET_MB = 200.0


def bench_backend(backend: str, url: str, org: generate.Org, stub: SlackStub, args, report: Report) -> None:
    token, work, setup = api_push.prepare(url, org, args)
    settings = durability(url)
    log(describe(backend, settings))
    workdir = Path(tempfile.mkdtemp(prefix="otp-memory-bench-"))
    secret = secrets.token_hex(16)
    server = Server("otp-serve", [str(OTP), "serve"], slack_env(url, stub, secret), workdir)
    samples: list[tuple[int, float]] = []
    try:
        started_in = server.wait_ready(on_wait=lambda: samples.append((0, server.memory()["rss_mb"])))
        at_start = server.memory()
        log(f"{backend}: ready in {started_in:.1f}s, {at_start}")
        rng = random.Random(args.seed + 9)
        topics = generate.who_owns_topics(org, args.requests, seed=args.seed + 2)
        seats = generate.scorecard_seats(org, args.requests)["any"]
        user_id = next(h["slack_user"] for h in org.chart["holders"] if h["kind"] == "human" and h.get("slack_user"))
        slack = Connection(server.port)
        api = Connection(server.port, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        kinds = ["who-owns"] * 4 + ["scorecard"] * 2 + ["me"] * 2 + ["push"] * 2
        counts: dict[str, int] = {}
        for i in range(args.requests):
            kind = kinds[i % len(kinds)]
            if kind in ("who-owns", "scorecard"):
                text = (
                    f"who-owns {topics[('exact', 'alias', 'typo', 'no-match')[i % 4]][i]}"
                    if kind == "who-owns"
                    else f"scorecard {seats[i]}"
                )
                body, headers = signed(secret, slash_command(text, user_id, stub.url + "response"))
                _, status, data = slack.send("POST", "/slack/events", body, headers)
            elif kind == "me":
                _, status, data = api.send("GET", "/api/v1/me")
            else:
                values = [
                    {"metric": m["id"], "value": work.value(m), "key": f"mem-{uuid.uuid4().hex}"}
                    for m in rng.choices(work.metrics, k=100)
                ]
                _, status, data = api.send("POST", "/api/v1/metrics/values", json.dumps({"values": values}).encode())
            if status != 200:
                raise RuntimeError(f"{kind}: HTTP {status}: {data[:300]!r}")
            counts[kind] = counts.get(kind, 0) + 1
            if (i + 1) % 100 == 0:
                samples.append((i + 1, server.memory()["rss_mb"]))
        after = server.memory()
        server.alive()
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    body = "\n".join(
        [
            f"ready in {started_in:.1f}s; at ready: RSS {at_start['rss_mb']:.0f} MB, "
            f"peak so far {at_start['peak_mb']:.0f} MB",
            f"after {args.requests:,} requests ({', '.join(f'{k} {v}' for k, v in counts.items())}): "
            f"RSS {after['rss_mb']:.0f} MB, peak {after['peak_mb']:.0f} MB",
            "RSS every 100 requests (MB): " + ", ".join(f"{mb:.0f}" for n, mb in samples if n),
            describe(backend, settings),
        ]
    )
    report.section(
        f"{backend}: memory of otp serve, {len(org.seat_ids):,} seats, {args.values:,} values",
        body,
        {
            "backend": backend,
            "ready_s": started_in,
            "at_ready": at_start,
            "after": after,
            "rss_trace": samples,
            "durability": settings,
            "setup": setup,
        },
    )
    report.verdict(
        Verdict(
            f"RSS of otp serve <= {TARGET_MB:.0f} MB after {args.requests:,} mixed requests",
            f"{after['rss_mb']:.0f} MB",
            after["rss_mb"] <= TARGET_MB,
            backend,
        )
    )
    report.verdict(
        Verdict(
            f"start-up peak of otp serve <= {TARGET_MB:.0f} MB",
            f"{at_start['peak_mb']:.0f} MB (peak over the whole run {after['peak_mb']:.0f} MB)",
            at_start["peak_mb"] <= TARGET_MB,
            backend,
        )
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_backend_args(p)
    p.add_argument("--seats", type=int, default=10_000)
    p.add_argument("--values", type=int, default=500_000)
    p.add_argument("--requests", type=int, default=1_000)
    args = p.parse_args(argv)
    store.require_otp()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = Report("memory", args)
    org = generate.build_chart(args.seats, seed=args.seed)
    stub = SlackStub()
    try:
        for backend in backends(args.backend):
            with store_url(backend, args.pg_url) as url:
                bench_backend(backend, url, org, stub, args, report)
    finally:
        stub.close()
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
