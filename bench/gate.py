"""Benchmark the human gate: an Approve click until its `chat.update`, with 10,000 drafts pending.

    python bench/gate.py [--backend sqlite|postgresql|both] [--pending 10000] [--runs 300]

The store holds the example org plus `--pending` drafts waiting in #approvals, each with its
approval message recorded (bulk-inserted: setup). Two servers run: `otp serve` with its
outbox worker, and the floor (bench/floors.py `bolt-button`): the same app, whose button
listener acks and sends one `chat.update` of the clicked message. A local Slack stand-in
notes when each message is first updated.

Each click (Approve as Bogdan on a random pending draft's message; on the floor, any button)
is timed from sending it: `ack` until the HTTP answer, `click to chat.update` until the
stand-in receives the update. One client with the floor and `otp serve` interleaved, then
`--clients` (4) clicking at once on each server alone. Then `--submissions` drafts are
submitted through the domain layer while `otp serve` runs.

Verdict (issue 18): click to chat.update p99 <= 2x the floor's, same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from backends import add_backend_args, backends, describe, durability, store_url
from runner import Case, Report, Verdict, concurrent, interleaved, log, summary, table
from servers import OTP, Connection, Server, SlackStub, button_click, floor_server, signed, slack_env

BOGDAN = "U02BGD4N8RM"  # an approver of retention's drafts in the example org
CHANNEL = "C0APPROVALS"
TARGET = 2.0


def build_store(url: str, pending: int) -> tuple[list[tuple[int, str]], float]:
    """The example org and `pending` drafts waiting, inserted in bulk (setup, not measured)."""
    from sqlalchemy import insert, select

    from otp_bot.bot.cli.demo import load_example
    from otp_bot.store.db import Database
    from otp_bot.store.models import Draft, DraftMessage

    db = Database(url, auto_migrate=True)
    t0 = time.perf_counter()
    db.upgrade()
    load_example(db)
    now = dt.datetime.now(dt.UTC)
    far = now + dt.timedelta(days=30)  # nothing expires or is reminded while measuring
    common = {
        "seat_id": "retention",
        "drafted_by": "pulse",
        "submitted_by": "holder:pulse",
        "kind": "retention-outreach",
        "customer_facing": True,
        "destination": None,
        "status": "pending",
        "route_channel": CHANNEL,
        "approvers": ["bogdan"],
        "usergroup": None,
        "required": 1,
        "edited": False,
        "created_at": now,
        "queued_at": now,
        "remind_at": far,
        "escalate_at": far,
        "expires_at": far,
        "delivery": "none",
    }
    rows = [
        common
        | {
            "subject": f"client:c{i}",
            "title": f"Check in with client {i}",
            "body": f"Hi,\nwe noticed fewer logins at client {i} this month. Can we help?",
            "idem_key": f"bench-{i}",
        }
        for i in range(pending)
    ]
    with db.session() as s:
        for start in range(0, len(rows), 5000):
            s.execute(insert(Draft), rows[start : start + 5000])
        ids = list(s.scalars(select(Draft.id).order_by(Draft.id)))
        messages = [
            {"draft_id": i, "channel": CHANNEL, "ts": f"1800000000.{i:06d}", "purpose": "approval"} for i in ids
        ]
        for start in range(0, len(messages), 5000):
            s.execute(insert(DraftMessage), messages[start : start + 5000])
    db.dispose()
    return [(m["draft_id"], m["ts"]) for m in messages], time.perf_counter() - t0


def submissions(url: str, count: int) -> dict[str, float]:
    from otp_bot.store.db import Database
    from otp_bot.store.domain.actors import actor_for_holder
    from otp_bot.store.domain.gate.drafts import submit_draft

    db = Database(url, auto_migrate=False)
    samples = []
    for i in range(count):
        t0 = time.perf_counter_ns()
        with db.session() as s:
            submit_draft(
                s,
                actor_for_holder(s, "pulse"),
                seat_id="retention",
                kind="retention-outreach",
                subject=f"client:s{i}",
                title=f"Follow-up {i}",
                body="Hi, a short follow-up.",
                key=f"submit-{i}-{secrets.token_hex(4)}",
            )
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    db.dispose()
    return {**summary(samples), "per_second": 1000 * count / sum(samples)}


class Clicker:
    """Clicks over its own connection; returns click-to-update ms, and keeps each ack's ms."""

    floor_ts = iter(range(1, 10**9))
    lock = threading.Lock()

    def __init__(self, server: Server, stub: SlackStub, secret: str, drafts: list[tuple[int, str]] | None) -> None:
        self.conn = Connection(server.port)
        self.stub, self.secret, self.drafts = stub, secret, drafts
        self.acks: list[float] = []

    def __call__(self, _i: int) -> tuple[float, str]:
        if self.drafts is None:  # the floor: any message, any button
            with Clicker.lock:
                ts = f"1700000000.{next(Clicker.floor_ts):06d}"
            body = button_click(BOGDAN, CHANNEL, ts, "otp_bench_noop", "otp_bench", "0")
        else:
            draft_id, ts = self.drafts.pop()
            body = button_click(BOGDAN, CHANNEL, ts, "otp_draft_approve", f"otp_draft_{draft_id}", str(draft_id))
        data, headers = signed(self.secret, body)
        event = self.stub.expect(ts)
        t0 = time.perf_counter_ns()
        ack, status, answer = self.conn.send("POST", "/slack/events", data, headers)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {answer[:300]!r}")
        if not event.wait(30):
            raise RuntimeError(f"no chat.update of {ts} within 30 s")
        self.acks.append(ack)
        return (self.stub.updated[ts] - t0) / 1e6, "updated"


def bench_backend(backend: str, url: str, args, report: Report) -> None:
    log(f"{backend}: the example org and {args.pending:,} pending drafts ...")
    drafts, setup = build_store(url, args.pending)
    settings = durability(url)
    log(describe(backend, settings))
    random.Random(args.seed).shuffle(drafts)
    stub = SlackStub()
    workdir = Path(tempfile.mkdtemp(prefix="otp-gate-bench-"))
    secret = secrets.token_hex(16)
    env = slack_env(url, stub, secret, OTP_SWEEP_SECONDS="3600")
    serve = Server("otp-serve", [str(OTP), "serve"], env, workdir)
    floor = floor_server("bolt-button", env, workdir)
    groups: dict[str, dict[str, Any]] = {}
    try:
        serve.wait_ready()
        floor.wait_ready()
        one = {"floor": Clicker(floor, stub, secret, None), "approve": Clicker(serve, stub, secret, drafts)}
        cases = [Case(f"{k}: click to chat.update", c) for k, c in one.items()]
        log(f"{backend}: one client, {args.runs} rounds ...")
        interleaved(cases, runs=args.runs, warmup=args.warmup, seed=args.seed)
        groups["1 client"] = {
            "floor: ack": one["floor"].acks[args.warmup :],
            "approve: ack": one["approve"].acks[args.warmup :],
            "floor: click to chat.update": cases[0].samples,
            "approve: click to chat.update": cases[1].samples,
        }
        log(f"{backend}: {args.clients} clients at once, each server alone ...")
        many: dict[str, list[float]] = {}
        for name, server, pool in (("floor", floor, None), ("approve", serve, drafts)):
            clickers: list[Clicker] = []

            def make(_k: int, server=server, pool=pool, clickers=clickers) -> Clicker:
                clickers.append(Clicker(server, stub, secret, pool))
                return clickers[-1]

            case = concurrent(name, args.clients, make, requests=args.concurrent_requests)
            many[f"{name}: ack"] = [x for c in clickers for x in c.acks[3:]]
            many[f"{name}: click to chat.update"] = case.samples
        groups[f"{args.clients} clients"] = many
        log(f"{backend}: {args.submissions} submissions ...")
        submitted = submissions(url, args.submissions)
        serve.alive()
    finally:
        serve.stop()
        floor.stop()
        stub.close()
        shutil.rmtree(workdir, ignore_errors=True)

    for label, samples in groups.items():
        rows = [{"case": k, **summary(v)} for k, v in samples.items()]
        f_update, f_ack = summary(samples["floor: click to chat.update"]), summary(samples["floor: ack"])
        body = table(rows, floors={"floor-update": f_update, "floor-ack": f_ack})
        if label == "1 client":
            body += (
                f"\ndraft submissions through the domain layer, one transaction each: {submitted['per_second']:.0f}/s "
                f"(p50 {submitted['p50']:.1f} ms, p99 {submitted['p99']:.1f} ms)"
            )
        report.section(
            f"{backend}: Approve clicks with {args.pending:,} drafts pending, {label}",
            body + "\n" + describe(backend, settings),
            {"backend": backend, "clients": label, "rows": rows, "durability": settings, "setup_s": setup}
            | ({"submissions": submitted} if label == "1 client" else {}),
        )
        a = summary(samples["approve: click to chat.update"])
        report.verdict(
            Verdict(
                f"approve click to chat.update p99 <= {TARGET:.0f}x the no-op button floor's ({label})",
                f"{a['p99'] / f_update['p99']:.2f}x ({a['p99']:.1f} / {f_update['p99']:.1f} ms); "
                f"{a['p99'] / f_ack['p99']:.2f}x the floor's bare ack",
                a["p99"] <= TARGET * f_update["p99"],
                backend,
            )
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_backend_args(p)
    p.add_argument("--pending", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=300, help="one client: timed clicks per server")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--concurrent-requests", type=int, default=100, help="per client, per server")
    p.add_argument("--submissions", type=int, default=500)
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    needed = args.runs + args.warmup + args.clients * (args.concurrent_requests + 3)
    if needed > args.pending:
        sys.exit(f"--pending {args.pending} is fewer than the {needed} clicks this run makes")
    report = Report("gate", args)
    for backend in backends(args.backend):
        with store_url(backend, args.pg_url) as url:
            bench_backend(backend, url, args, report)
    report.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
