"""Benchmark the human gate: click-to-decision latency with 10,000 drafts pending, and submissions/s.

    python bench/gate.py [--backend sqlite|postgresql|both] [--pending 10000] [--runs 300]

The store holds the example org plus `--pending` drafts waiting in #approvals, each with
its approval message recorded. Two HTTP servers run on 127.0.0.1:

- `otp serve`, the real console script, with its outbox worker;
- the floor: the same FastAPI app, Bolt App and uvicorn settings, whose button listener
  only acks. Whatever `otp serve` costs beyond it is our work.

A click is a signed `block_actions` (Approve, as Bogdan, on a pending draft's message).
Measured per click, from sending the request:
- `ack`: until the HTTP answer (what Slack waits for; the floor measures the same);
- `decided`: until the local Slack stand-in receives the `chat.update` that shows the
  decision, which the worker sends after the decision commits: the whole loop a person sees.

Then `--submissions` drafts are submitted one transaction each through the domain layer
(the path every surface takes) while `otp serve` runs, and the rate is reported.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import ThrowawayPostgres, fmt_ms, fresh_pg_database, log, summary  # noqa: E402
from slack_serve import OTP, Connection, Server, signed  # noqa: E402

BOT_TOKEN = "xoxb-bench-0000-token"
BOGDAN = "U02BGD4N8RM"  # an approver of retention's drafts in the example org
CHANNEL = "C0APPROVALS"


class SlackStub:
    """The Slack Web API on loopback: answers ok, and notes when each message was updated."""

    def __init__(self) -> None:
        self.updated: dict[str, float] = {}
        self.waiting: dict[str, threading.Event] = {}
        self.lock = threading.Lock()
        self.counter = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                args = json.loads(raw) if raw.startswith("{") else dict(parse_qsl(raw))
                method = self.path.rsplit("/", 1)[-1]
                body: dict[str, Any] = {"ok": True}
                if method == "chat.update":
                    stub.note(args.get("ts", ""))
                elif method == "chat.postMessage":
                    with stub.lock:
                        stub.counter += 1
                        body = {"ok": True, "channel": args.get("channel"), "ts": f"{time.time():.6f}{stub.counter}"}
                elif method in ("conversations.history", "conversations.replies"):
                    body = {"ok": True, "messages": [], "has_more": False}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def note(self, ts: str) -> None:
        now = time.perf_counter_ns()
        with self.lock:
            self.updated.setdefault(ts, now)
            event = self.waiting.get(ts)
        if event:
            event.set()

    def expect(self, ts: str) -> threading.Event:
        with self.lock:
            event = self.waiting[ts] = threading.Event()
            if ts in self.updated:
                event.set()
        return event

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def click_body(draft_id: int, ts: str, action: str) -> str:
    payload = {
        "type": "block_actions",
        "api_app_id": "A0OTP",
        "token": "verification-token",
        "user": {"id": BOGDAN, "username": "bogdan", "team_id": "T0BENCH"},
        "team": {"id": "T0BENCH", "domain": "bench"},
        "trigger_id": f"{int(time.time())}.1.{secrets.token_hex(10)}",
        "container": {"type": "message", "message_ts": ts, "channel_id": CHANNEL, "is_ephemeral": False},
        "channel": {"id": CHANNEL, "name": "approvals"},
        "response_url": "http://127.0.0.1:9/none",
        "message": {"type": "message", "ts": ts, "text": "", "blocks": []},
        "actions": [
            {
                "action_id": action,
                "block_id": f"otp_draft_{draft_id}",
                "value": str(draft_id),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def build_store(url: str, pending: int) -> tuple[list[tuple[int, str]], float]:
    """The example org and `pending` drafts waiting, inserted in bulk (setup, not measured)."""
    import datetime as dt

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
    rows = [
        {
            "seat_id": "retention",
            "drafted_by": "pulse",
            "submitted_by": "holder:pulse",
            "kind": "retention-outreach",
            "subject": f"client:c{i}",
            "customer_facing": True,
            "title": f"Check in with client {i}",
            "body": f"Hi,\nwe noticed fewer logins at client {i} this month. Can we help?",
            "destination": None,
            "idem_key": f"bench-{i}",
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


def serve_floor(port: int) -> None:
    """The floor: the app `otp serve` runs, with button listeners that only ack."""
    import logging
    import re
    from concurrent.futures import ThreadPoolExecutor

    import uvicorn
    from slack_bolt import App

    from otp_bot.bot.runtime.web import create_web_app
    from otp_bot.bot.slack.client import make_client
    from otp_bot.bot.slack.settings import SlackSettings
    from otp_bot.store.db import Database

    settings = SlackSettings()
    bolt = App(
        client=make_client(settings.secret("bot_token"), settings.base_url),
        signing_secret=settings.secret("signing_secret"),
        listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="otp-listener"),
        logger=logging.getLogger("otp_bot.slack"),
    )

    @bolt.action(re.compile(".*"))
    def noop(ack) -> None:
        ack()

    uvicorn.run(
        create_web_app(Database(), bolt, signing_secret=settings.secret("signing_secret")),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


def bench_backend(backend: str, url: str, args) -> dict[str, Any]:
    log(f"{backend}: the example org and {args.pending:,} pending drafts ...")
    drafts, setup = build_store(url, args.pending)
    log(f"{backend}: store ready in {setup:.1f}s")
    stub = SlackStub()
    workdir = Path(tempfile.mkdtemp(prefix="otp-gate-bench-"))
    secret = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OTP_"))}
    env |= {
        "OTP_DATABASE_URL": url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": stub.url,
        "OTP_LOG_LEVEL": "WARNING",
        "OTP_SWEEP_SECONDS": "3600",
    }
    servers = [
        Server("otp-serve", [str(OTP), "serve"], env, workdir),
        Server("floor", [sys.executable, str(Path(__file__).resolve()), "--serve-floor"], env, workdir),
    ]
    rng = random.Random(args.seed)
    order = rng.sample(drafts, min(len(drafts), args.runs + args.warmup))
    floor_ms, ack_ms, decided_ms = [], [], []
    try:
        for server in servers:
            server.wait_ready()
        serve, floor = Connection(servers[0].port), Connection(servers[1].port)
        for n, (draft_id, ts) in enumerate(order):
            timed = n >= args.warmup
            body, headers = signed(secret, click_body(draft_id, ts, "otp_bench_noop"))
            ms, status, _ = floor.post(body, headers)
            assert status == 200, status
            body, headers = signed(secret, click_body(draft_id, ts, "otp_draft_approve"))
            event = stub.expect(ts)
            t0 = time.perf_counter_ns()
            ack, status, _ = serve.post(body, headers)
            assert status == 200, status
            if not event.wait(30):
                raise RuntimeError(f"draft {draft_id}: no chat.update within 30s\n{servers[0].log_tail()}")
            if timed:
                floor_ms.append(ms)
                ack_ms.append(ack)
                decided_ms.append((stub.updated[ts] - t0) / 1e6)
        log(f"{backend}: {len(decided_ms)} clicks measured; now {args.submissions} submissions ...")
        submitted = submissions(url, args.submissions)
    finally:
        for server in servers:
            server.stop()
        stub.close()
        shutil.rmtree(workdir, ignore_errors=True)
    floor = summary(floor_ms)
    rows = {
        "floor: no-op button ack": floor,
        "approve: ack": summary(ack_ms),
        "approve: click to chat.update": summary(decided_ms),
    }
    for r in rows.values():
        r["p50_over_floor"], r["p99_over_floor"] = r["p50"] / floor["p50"], r["p99"] / floor["p99"]
    return {
        "backend": backend,
        "pending": args.pending,
        "setup_seconds": setup,
        "rows": rows,
        "submissions": submitted,
        "samples_ms": {"floor": floor_ms, "ack": ack_ms, "decided": decided_ms},
    }


def table(result: dict[str, Any]) -> str:
    head = f"{'case':<30} {'n':>5} {'p50':>8} {'p90':>8} {'p99':>8} {'p50/floor':>10} {'p99/floor':>10}"
    lines = [
        f"== {result['backend']}: Approve clicks with {result['pending']:,} drafts pending — times in ms",
        head,
        "-" * len(head),
    ]
    for name, r in result["rows"].items():
        lines.append(
            f"{name:<30} {r['count']:>5} {fmt_ms(r['p50']):>8} {fmt_ms(r['p90']):>8} {fmt_ms(r['p99']):>8} "
            f"{r['p50_over_floor']:>9.2f}x {r['p99_over_floor']:>9.2f}x"
        )
    s = result["submissions"]
    lines.append(
        f"draft submissions: {s['count']} in one transaction each: {s['per_second']:.0f}/s "
        f"(p50 {fmt_ms(s['p50'])} ms, p99 {fmt_ms(s['p99'])} ms)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--pending", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=300, help="timed clicks (default 300)")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--submissions", type=int, default=500)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pg-url", help="a PostgreSQL server to use instead of a throwaway cluster")
    p.add_argument("--results", type=Path, default=HERE / "results")
    p.add_argument("--serve-floor", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_floor:
        serve_floor(args.port)
        return 0
    args.results.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = []
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        cleanup = []
        try:
            if backend == "sqlite":
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
            results.append(bench_backend(backend, url, args))
        finally:
            for fn in cleanup:
                fn()
        print(table(results[-1]), flush=True)
        print(flush=True)
    out = args.results / f"gate-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=1))
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
