"""Benchmark the agent API over HTTP: KPI pushes in batches of 1,000 and draft submissions.

    python bench/api_push.py [--backend sqlite|postgresql|both] [--seats 10000] [--values 500000]

Builds the generated org (10,000 seats, 500,000 stored values), makes a token for one agent
granted every seat with metrics, starts `otp serve` against a stand-in for the Slack Web
API, and measures:

1. per request, one client, cases interleaved round by round: two floors (GET /me; a
   1,000-value batch refused at parsing, a 422), a push of 1,000 new values, the same batch
   again (all duplicates), a draft submission;
2. sustained: `--clients` (2) connections pushing back to back for `--sustain` (30) seconds,
   the rate overall and per 5-second window, then the same for drafts.

Verdict (issue 18): >= 20,000 values/s sustained with 2 clients, on both backends; and the
per-batch cost must not grow with stored history (first against last window).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import generate
from backends import add_backend_args, backends, describe, durability, store_url
from runner import Case, Report, Verdict, interleaved, log, summary, sustained, table
from servers import OTP, Connection, Server, SlackStub, slack_env

import store

BATCH = 1_000
TARGET = 20_000  # values/s, sustained, 2 clients, both backends
FLOOR_ME, FLOOR_PARSE = "floor: GET /me", "floor: batch refused at parse"
PUSH, PUSH_AGAIN, DRAFT = "push 1,000 new values", "push 1,000 again (duplicates)", "submit a draft"
EXPECTED_STATUS = {FLOOR_ME: 200, FLOOR_PARSE: 422, PUSH: 200, PUSH_AGAIN: 200, DRAFT: 201}


class Workload:
    """What is sent: bodies are built before the clock starts."""

    def __init__(self, metrics: list[dict[str, Any]], draft_seat: str, seed: int) -> None:
        self.metrics, self.draft_seat, self.rng = metrics, draft_seat, random.Random(seed)

    def value(self, metric: dict[str, Any]) -> float:
        if metric["unit"] == "yesno":
            return float(self.rng.random() < 0.8)
        if metric["unit"] == "percent":
            return round(self.rng.uniform(20, 100), 1)
        return round(self.rng.uniform(0, 2) * metric["_base"], 2)

    def batch(self, *, broken: bool = False) -> bytes:
        run = uuid.uuid4().hex[:12]
        values = [
            {"metric": m["id"], "value": self.value(m), "key": f"bench-{run}-{i}"}
            for i, m in enumerate(self.rng.choices(self.metrics, k=BATCH))
        ]
        if broken:
            values[-1]["perod"] = "last"  # a misspelt field: refused after the whole batch is read
        return json.dumps({"values": values}).encode()

    def draft(self) -> bytes:
        n = uuid.uuid4().hex[:12]
        return json.dumps(
            {
                "seat": self.draft_seat,
                "kind": "retention-outreach",
                "subject": f"client:bench-{n}",
                "title": f"Check in ({n})",
                "body": ("Hi,\n\nwe noticed your lead volume dropped this month. " * 8).strip(),
                "key": f"bench-{n}",
            }
        ).encode()


def check(case: str, status: int, data: bytes) -> str:
    """What came back, in a word; anything unexpected stops the run."""
    if status != EXPECTED_STATUS[case]:
        raise RuntimeError(f"{case}: HTTP {status}, expected {EXPECTED_STATUS[case]}: {data[:400]!r}")
    if case in (PUSH, PUSH_AGAIN):
        body = json.loads(data)
        wanted = "recorded" if case == PUSH else "duplicates"
        if body[wanted] != BATCH:
            raise RuntimeError(
                f"{case}: {body['recorded']} recorded, {body['duplicates']} duplicates, {body['errors']} errors"
            )
        return wanted
    return "ok"


def prepare(url: str, org: generate.Org, args) -> tuple[str, Workload, dict[str, Any]]:
    from otp_bot.store.db import Database
    from otp_bot.store.domain.actors import Actor
    from otp_bot.store.domain.agents.tokens import create_token

    retired = {s["id"] for s in org.chart["seats"] if s.get("status") == "retired"}
    metrics = [m for m in org.metrics if not m.get("formula") and m["seat"] not in retired]
    holder_of = {s["id"]: s.get("holder") for s in org.chart["seats"]}
    agents = {h["id"] for h in org.chart["holders"] if h["kind"] == "agent"}
    draft_seat = next(s["id"] for s in org.chart["seats"] if holder_of.get(s["id"]) in agents)
    setup = store.build(url, org, values=args.values)
    db = Database(url, auto_migrate=False)
    try:
        with db.session() as session:
            token = create_token(
                session,
                Actor.cli_operator("bench"),
                holder_id=holder_of[draft_seat],
                name="bench",
                push_seats=sorted({m["seat"] for m in metrics}),
            ).secret
    finally:
        db.dispose()
    return token, Workload(metrics, draft_seat, args.seed + 6), setup


def bench_backend(backend: str, url: str, org: generate.Org, stub: SlackStub, args, report: Report) -> None:
    token, work, setup = prepare(url, org, args)
    settings = durability(url)
    log(describe(backend, settings))
    workdir = Path(tempfile.mkdtemp(prefix="otp-api-bench-"))
    server = Server("otp-serve", [str(OTP), "serve"], slack_env(url, stub, uuid.uuid4().hex), workdir)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        server.wait_ready()
        conn = Connection(server.port, auth)
        pushed: list[bytes] = []

        def request(case: str):
            def run(_i: int) -> tuple[float, str]:
                if case == FLOOR_ME:
                    ms, status, data = conn.send("GET", "/api/v1/me")
                elif case == DRAFT:
                    ms, status, data = conn.send("POST", "/api/v1/drafts", work.draft())
                else:
                    body = pushed[-1] if case == PUSH_AGAIN else work.batch(broken=case == FLOOR_PARSE)
                    if case == PUSH:
                        pushed.append(body)
                    ms, status, data = conn.send("POST", "/api/v1/metrics/values", body)
                return ms, check(case, status, data)

            return run

        # PUSH first, so the first duplicate batch has one to repeat.
        cases = [Case(n, request(n)) for n in (PUSH, FLOOR_ME, FLOOR_PARSE, PUSH_AGAIN, DRAFT)]
        log(f"{backend}: one client, up to {args.runs} rounds of {len(cases)} cases ...")
        interleaved(cases, runs=args.runs, warmup=args.warmup, budget=args.budget, seed=args.seed)
        conn.close()

        def client(what: str):
            def make(_k: int):
                c = Connection(server.port, auth)
                path, case = ("/api/v1/metrics/values", PUSH) if what == "push" else ("/api/v1/drafts", DRAFT)
                # Built before the window opens: the clients share the two cores with the server.
                # Enough for 40 batches or 200 drafts a second per client.
                per_client = int(args.sustain * (40 if what == "push" else 200)) + 5
                bodies = iter([work.batch() if what == "push" else work.draft() for _ in range(per_client)])

                def send(_i: int) -> tuple[float, str]:
                    body = next(bodies)
                    ms, status, data = c.send("POST", path, body)
                    return ms, check(case, status, data)

                return send

            return make

        runs = {}
        for what, unit in (("push", BATCH), ("draft", 1)):
            log(f"{backend}: {args.clients} clients, {what} back to back for {args.sustain:.0f}s ...")
            cpu0 = server.cpu_seconds()
            runs[what] = sustained(args.clients, client(what), seconds=args.sustain, units_per_request=unit)
            runs[what]["server_cpu_seconds"] = server.cpu_seconds() - cpu0
        server.alive()
    finally:
        server.stop()
        log_text = server.log_tail()
        shutil.rmtree(workdir, ignore_errors=True)

    rows = [c.row() for c in cases]
    floors = {"me": summary(cases[1].samples)}
    push = summary(cases[0].samples)
    lines = [table(rows, floors=floors)]
    lines.append(
        f"per batch, one client: {BATCH * 1000 / push['p50']:,.0f} values/s at the median batch, "
        f"{BATCH * 1000 / push['p99']:,.0f} at the p99 batch"
    )
    for what, s in runs.items():
        noun = "values" if what == "push" else "drafts"
        unit = f"{noun}/s"
        per_cpu = s["requests"] * (BATCH if what == "push" else 1) / s["server_cpu_seconds"]
        lines.append(
            f"sustained: {s['clients']} clients, {what} for {s['seconds']:.0f}s: {s['per_second']:,.0f} {unit} "
            f"({s['requests']:,} requests; per {s['window_seconds']:.0f}s window: "
            + ", ".join(f"{w:,.0f}" for w in s["per_window"])
            + f"; latency p50 {s['latency_ms']['p50']:.1f} ms, p99 {s['latency_ms']['p99']:.1f} ms; "
            f"otp serve used {s['server_cpu_seconds']:.1f} CPU s: "
            f"{per_cpu:,.0f} {noun} per CPU second)"
        )
    lines.append(describe(backend, settings))
    report.section(
        f"{backend}: the agent API over HTTP, {len(org.seat_ids):,} seats, {args.values:,} values stored before",
        "\n".join(lines),
        {"backend": backend, "rows": rows, "sustained": runs, "durability": settings, "setup": setup, "log": log_text},
    )
    s = runs["push"]
    report.verdict(
        Verdict(
            f"KPI push >= {TARGET:,} values/s sustained, {args.clients} clients, {args.sustain:.0f}s",
            f"{s['per_second']:,.0f} values/s",
            s["per_second"] >= TARGET,
            backend,
        )
    )
    first, last = s["per_window"][0], s["per_window"][-1]
    report.verdict(
        Verdict(
            "push rate does not sink as history grows (last window >= 90% of the first)",
            f"{first:,.0f} -> {last:,.0f} values/s",
            last >= 0.9 * first,
            backend,
        )
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_backend_args(p)
    p.add_argument("--seats", type=int, default=10_000)
    p.add_argument("--values", type=int, default=500_000, help="values stored before measuring")
    p.add_argument("--runs", type=int, default=200, help="one client: rounds, a timed request per case each")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--budget", type=float, default=120.0, help="one client: seconds per case at most")
    p.add_argument("--clients", type=int, default=2, help="connections in the sustained phase")
    p.add_argument("--sustain", type=float, default=30.0, help="seconds of each sustained phase")
    args = p.parse_args(argv)
    store.require_otp()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = Report("api-push", args)
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
