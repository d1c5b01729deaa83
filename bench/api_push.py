"""Benchmark the agent API over HTTP: KPI pushes in batches of 1,000 and draft submissions.

    python bench/api_push.py [--backend sqlite|postgresql|both] [--seats 2000] [--values 200000] [--runs 200]

Builds a synthetic org with `bench/generate.py` (as `bench/run.py` does), makes an API
token for one agent granted every seat (the KPI-tracking agent pushes for everyone),
starts `otp serve` (the real console script) against a local stand-in for the Slack Web
API, and times requests sent one at a time over a keep-alive connection, the cases
interleaved round by round:

- floor: GET /api/v1/me: HTTP, the token check, one small read;
- floor: the same 1,000-value batch refused at parsing (its last value has a misspelt
  field, so it is a 422): HTTP, the token check, reading and validating the JSON; no
  database work beyond the token;
- push 1,000 new values (each with its own idempotency key, as a careful agent sends);
- push a batch again (all 1,000 answered `duplicate`: a client retrying);
- submit a draft (the outbox worker then posts its approval message to the stand-in).

Then a sustained phase: `--clients` connections pushing (then submitting drafts) back to
back for `--sustain` seconds, for the throughput a busy fleet would see. Results go to
stdout (a table per backend) and bench/results/api-push-<time>.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from run import ThrowawayPostgres, fmt_ms, fresh_pg_database, load, log, summary  # noqa: E402

OTP = Path(sys.executable).with_name("otp")
BOT_TOKEN = "xoxb-bench-0000-token"
BATCH = 1_000
TARGET = 20_000  # values/s on SQLite, batches of 1,000 (issue 5)
FLOOR_ME, FLOOR_PARSE = "floor: GET /me", "floor: batch refused at parse"
PUSH, PUSH_AGAIN, DRAFT = "push 1,000 new values", "push 1,000 again (duplicates)", "submit a draft"


# ---------------------------------------------------------------- the Slack side


class SlackStub:
    """The Slack Web API on a free loopback port, enough for the outbox worker's posts."""

    def __init__(self) -> None:
        self.calls: Counter = Counter()
        stub = self
        counter = iter(range(1, 10**9))

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                method = self.path.rstrip("/").rsplit("/", 1)[-1]
                stub.calls[method] += 1
                try:
                    args = json.loads(raw) if raw.startswith(b"{") else {}
                except ValueError:
                    args = {}
                answer: dict[str, Any] = {"ok": True}
                if method == "auth.test":
                    answer |= {
                        "url": "https://bench.slack.com/",
                        "team": "Bench",
                        "user": "otp",
                        "team_id": "T0BENCH",
                        "user_id": "U0OTPBOT",
                        "bot_id": "B0BOT",
                    }
                elif method == "conversations.open":
                    answer["channel"] = {"id": "D0BENCH"}
                elif method in ("chat.postMessage", "chat.update"):
                    ts = args.get("ts") or f"{int(time.time())}.{next(counter):06d}"
                    answer |= {"channel": args.get("channel", "C0BENCH"), "ts": ts, "message": {"ts": ts}}
                elif method in ("conversations.history", "conversations.replies"):
                    answer["messages"] = []
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    """`otp serve` on 127.0.0.1, its output in a log file; stopped at exit whatever happens."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.log_path = workdir / "otp-serve.log"
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [str(OTP), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                cwd=workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self.stop)
        until = time.monotonic() + 120
        while time.monotonic() < until:
            if self.proc.poll() is not None:
                raise RuntimeError(f"otp serve exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"otp serve did not become healthy:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Connection:
    """One keep-alive connection; reconnects (untimed) if the server closed it while idle."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.auth = f"Bearer {token}"
        self.reconnects = 0

    def send(self, method: str, path: str, body: bytes | None = None) -> tuple[float, int, bytes]:
        headers = {"Authorization": self.auth}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn.sock is None:
                self.conn.connect()
            try:
                t0 = time.perf_counter_ns()
                self.conn.request(method, "/api/v1" + path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                return (time.perf_counter_ns() - t0) / 1e6, response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # uvicorn closes a connection idle for 5 s; a new one is not what we measure
                self.reconnects += 1
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------- what is sent


@dataclass
class Workload:
    metrics: list[dict[str, Any]]  # pushable: not computed, seat not retired
    draft_seat: str
    rng: random.Random

    def value(self, metric: dict[str, Any]) -> float:
        unit = metric["unit"]
        if unit == "yesno":
            return float(self.rng.random() < 0.8)
        if unit == "percent":
            return round(self.rng.uniform(20, 100), 1)
        return round(self.rng.uniform(0, 2) * metric["_base"], 2)

    def batch(self, *, broken: bool = False) -> bytes:
        run = uuid.uuid4().hex[:12]
        values = [
            {"metric": m["id"], "value": self.value(m), "key": f"bench-{run}-{i}"}
            for i, m in enumerate(self.rng.choices(self.metrics, k=BATCH))
        ]
        if broken:
            values[-1]["perod"] = "last"  # a misspelt field: the whole batch is refused, after it is all read
        return json.dumps({"values": values}).encode()

    def draft(self) -> bytes:
        n = uuid.uuid4().hex[:12]
        body = ("Hi,\n\nwe noticed your lead volume dropped this month. " * 8).strip()
        return json.dumps(
            {
                "seat": self.draft_seat,
                "kind": "retention-outreach",
                "subject": f"client:bench-{n}",
                "title": f"Check in ({n})",
                "body": body,
                "key": f"bench-{n}",
            }
        ).encode()


def expect(case: str, status: int, data: bytes) -> str:
    """What came back, in a word; anything unexpected stops the run."""
    want = {FLOOR_ME: 200, FLOOR_PARSE: 422, PUSH: 200, PUSH_AGAIN: 200, DRAFT: 201}[case]
    if status != want:
        raise RuntimeError(f"{case}: HTTP {status}, expected {want}: {data[:400]!r}")
    if case in (PUSH, PUSH_AGAIN):
        body = json.loads(data)
        wanted = "recorded" if case == PUSH else "duplicates"
        if body[wanted] != BATCH:
            raise RuntimeError(
                f"{case}: {body['recorded']} recorded, {body['duplicates']} duplicates, "
                f"{body['errors']} errors: {[r['error'] for r in body['results'] if r['error']][:3]}"
            )
        return wanted
    return "ok"


@dataclass
class Case:
    name: str
    samples: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)


def measure(
    conn: Connection, work: Workload, *, runs: int, warmup: int, budget: float, seed: int
) -> tuple[list[Case], float]:
    cases = [Case(n) for n in (FLOOR_ME, FLOOR_PARSE, PUSH, PUSH_AGAIN, DRAFT)]
    pushed: list[bytes] = []

    def request(case: str) -> tuple[float, int, bytes]:
        # Bodies are built before the clock starts; only the HTTP exchange is timed.
        if case == FLOOR_ME:
            return conn.send("GET", "/me")
        if case == FLOOR_PARSE:
            return conn.send("POST", "/metrics/values", work.batch(broken=True))
        if case == PUSH:
            body = work.batch()
            pushed.append(body)
            return conn.send("POST", "/metrics/values", body)
        if case == PUSH_AGAIN:
            return conn.send("POST", "/metrics/values", pushed[-1])
        return conn.send("POST", "/drafts", work.draft())

    # Warm-up, not recorded: the first request of each kind compiles its queries.
    for _ in range(warmup):
        for case in cases:
            ms, status, data = request(case.name)
            expect(case.name, status, data)
    rng = random.Random(seed)
    order = list(cases)
    started = time.perf_counter()
    for round_no in range(1, runs + 1):
        rng.shuffle(order)  # a noisy neighbour then slows every case alike
        for case in order:
            ms, status, data = request(case.name)
            case.outcomes[expect(case.name, status, data)] += 1
            case.samples.append(ms)
        if round_no % 50 == 0:
            log(f"  round {round_no}/{runs}, {time.perf_counter() - started:.0f}s")
        if time.perf_counter() - started > budget:
            log(f"  budget of {budget:.0f}s spent after {round_no} rounds")
            break
    return cases, time.perf_counter() - started


def sustain(port: int, token: str, work: Workload, *, clients: int, seconds: float, what: str) -> dict[str, Any]:
    """`clients` connections sending back to back for `seconds`: the throughput, all together."""
    done: list[int] = [0] * clients
    # Built up front, so the clients only send: they share the machine's cores with the server.
    # Enough for a client at 25 batches or 100 drafts a second; one that runs out just stops early.
    per_client = int(seconds * (25 if what == "push" else 100)) + 5
    bodies = [[work.batch() if what == "push" else work.draft() for _ in range(per_client)] for _ in range(clients)]
    stop = time.perf_counter() + seconds
    errors: list[str] = []

    def client(i: int) -> None:
        conn = Connection(port, token)
        try:
            for body in bodies[i]:
                if time.perf_counter() >= stop:
                    break
                _, status, data = conn.send("POST", "/metrics/values" if what == "push" else "/drafts", body)
                expect(PUSH if what == "push" else DRAFT, status, data)
                done[i] += 1
        except Exception as exc:
            errors.append(str(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"sustained {what}: {errors[0]}")
    requests = sum(done)
    return {
        "what": what,
        "clients": clients,
        "seconds": elapsed,
        "requests": requests,
        "per_second": requests * (BATCH if what == "push" else 1) / elapsed,
    }


# ---------------------------------------------------------------- one backend


def prepare(url: str, org: generate.Org, values: list[dict[str, Any]]) -> tuple[str, Workload, dict[str, float]]:
    """The store, the token and what to send."""
    from otp_bot.store.db import Database
    from otp_bot.store.domain.actors import Actor
    from otp_bot.store.domain.agents.tokens import create_token
    from otp_bot.store.domain.chart.chartfile.validation import validate_chart

    retired = {s["id"] for s in org.chart["seats"] if s.get("status") == "retired"}
    metrics = [m for m in org.metrics if not m.get("formula") and m["seat"] not in retired]
    seats_with_metrics = sorted({m["seat"] for m in metrics})
    holder_of = {s["id"]: s.get("holder") for s in org.chart["seats"]}
    agents = {h["id"] for h in org.chart["holders"] if h["kind"] == "agent"}
    draft_seat = next(s["id"] for s in org.chart["seats"] if holder_of.get(s["id"]) in agents)
    db = Database(url, auto_migrate=True)
    try:
        setup = load(db, validate_chart(org.chart, "bench/generate.py"), values)
        with db.session() as session:
            token = create_token(
                session,
                Actor.cli_operator("bench"),
                holder_id=holder_of[draft_seat],
                name="bench",
                push_seats=seats_with_metrics,
            ).secret
    finally:
        db.dispose()
    return token, Workload(metrics, draft_seat, random.Random(7)), setup


def bench_backend(backend: str, url: str, org: generate.Org, stub: SlackStub, args) -> dict[str, Any]:
    log(f"{backend}: building the store ({len(org.seat_ids):,} seats through apply_chart, {args.values:,} values) ...")
    token, work, setup = prepare(url, org, generate.build_values(org, args.values, weeks=50, seed=args.seed + 1))
    workdir = Path(tempfile.mkdtemp(prefix="otp-api-bench-"))  # empty: no .env is picked up
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OTP_"))}
    env |= {
        "OTP_DATABASE_URL": url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": uuid.uuid4().hex,
        "SLACK_API_URL": stub.url,
        "OTP_LOG_LEVEL": "WARNING",
    }
    server = Serve(env, workdir)
    conn = Connection(server.port, token)
    try:
        log(f"{backend}: measuring {args.runs} rounds of 5 cases (at most {args.budget:.0f}s) ...")
        cases, measured = measure(conn, work, runs=args.runs, warmup=args.warmup, budget=args.budget, seed=args.seed)
        sustained = []
        if args.sustain > 0:
            for what in ("push", "draft"):
                log(f"{backend}: {args.clients} clients, {what} back to back for {args.sustain:.0f}s ...")
                sustained.append(
                    sustain(server.port, token, work, clients=args.clients, seconds=args.sustain, what=what)
                )
        if server.proc.poll() is not None:
            raise RuntimeError(f"otp serve died while measured:\n{server.log_tail()}")
    finally:
        conn.close()
        server.stop()
        log_text = server.log_tail()
        shutil.rmtree(workdir, ignore_errors=True)
    floor = summary(cases[0].samples)
    rows = []
    for c in cases:
        s = summary(c.samples)
        row = {"case": c.name, **s, "p50_over_floor": s["p50"] / floor["p50"], "outcomes": dict(c.outcomes)}
        if c.name in (PUSH, PUSH_AGAIN):
            row["values_per_s_p50"], row["values_per_s_p99"] = BATCH * 1000 / s["p50"], BATCH * 1000 / s["p99"]
        if c.name == DRAFT:
            row["drafts_per_s_p50"] = 1000 / s["p50"]
        rows.append(row)
    return {
        "backend": backend,
        "seats": len(org.seat_ids),
        "values_before": args.values,
        "setup_seconds": setup,
        "measured_seconds": measured,
        "rows": rows,
        "sustained": sustained,
        "samples_ms": {c.name: [round(x, 3) for x in c.samples] for c in cases},
        "reconnects": conn.reconnects,
        "server_log": log_text if log_text.strip() else None,
    }


# ---------------------------------------------------------------- output


def table(result: dict[str, Any]) -> str:
    head = (
        f"{'case':<32} {'n':>5} {'mean':>8} {'p50':>8} {'p90':>8} {'p99':>8} {'p50/floor':>10}  "
        f"{'values/s p50':>13} {'p99':>8}"
    )
    lines = [
        f"== {result['backend']}: the agent API over HTTP to otp serve, {result['seats']:,} seats, "
        f"{result['values_before']:,} values before — times in ms",
        head,
        "-" * len(head),
    ]
    for r in result["rows"]:
        star = "*" if r["count"] < 100 else " "
        rate = ""
        if "values_per_s_p50" in r:
            rate = f"{r['values_per_s_p50']:>13,.0f} {r['values_per_s_p99']:>8,.0f}"
        elif "drafts_per_s_p50" in r:
            rate = f"{r['drafts_per_s_p50']:>7,.0f} drafts/s"
        lines.append(
            f"{r['case']:<32} {r['count']:>5} {fmt_ms(r['mean']):>8} {fmt_ms(r['p50']):>8} {fmt_ms(r['p90']):>8} "
            f"{fmt_ms(r['p99']):>7}{star} {r['p50_over_floor']:>9.2f}x  {rate}"
        )
    for s in result["sustained"]:
        unit = "values/s" if s["what"] == "push" else "drafts/s"
        lines.append(
            f"sustained: {s['clients']} clients, {s['what']} back to back for {s['seconds']:.0f}s: "
            f"{s['per_second']:,.0f} {unit} ({s['requests']:,} requests)"
        )
    push = next(r for r in result["rows"] if r["case"] == PUSH)
    if result["backend"] == "sqlite":
        verdict = "met" if push["values_per_s_p50"] >= TARGET else "NOT met"
        lines.append(
            f"target >= {TARGET:,} values/s on SQLite in batches of {BATCH:,}: {verdict} "
            f"({push['values_per_s_p50']:,.0f} at the median batch)"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--seats", type=int, default=2_000)
    p.add_argument("--values", type=int, default=200_000, help="values in the store before measuring (default 200,000)")
    p.add_argument("--runs", type=int, default=200, help="rounds: timed requests per case (default 200)")
    p.add_argument("--warmup", type=int, default=3, help="untimed rounds first (default 3)")
    p.add_argument(
        "--budget", type=float, default=300.0, help="seconds per backend after which rounds stop (default 300)"
    )
    p.add_argument("--clients", type=int, default=2, help="connections in the sustained phase (default 2)")
    p.add_argument(
        "--sustain", type=float, default=10.0, help="seconds of each sustained phase; 0 skips it (default 10)"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--pg-url",
        help="a PostgreSQL server to use instead of a throwaway cluster "
        "(a fresh database is created on it and dropped at the end)",
    )
    p.add_argument("--results", type=Path, default=HERE / "results", help="where the JSON goes (git-ignored)")
    args = p.parse_args(argv)
    if not OTP.exists():
        sys.exit(f"{OTP} not found: install the project in this environment (pip install -e '.[postgres]')")
    args.results.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a CI timeout still stops the server and the cluster

    started = time.perf_counter()
    log(f"generating {args.seats:,} seats ...")
    org = generate.build_chart(args.seats, seed=args.seed)
    stub = SlackStub()
    results = []
    try:
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
                results.append(bench_backend(backend, url, org, stub, args))
            finally:
                for fn in cleanup:
                    try:
                        fn()
                    except Exception as exc:
                        log(f"cleanup failed: {exc}")
            print(table(results[-1]), flush=True)
            print(flush=True)
    finally:
        stub.close()

    total = time.perf_counter() - started
    print(f"whole run {total:.0f}s. * = fewer than 100 runs: p99 is then close to the max.")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = args.results / f"api-push-{stamp}.json"
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
                "slack_api_calls": dict(stub.calls),
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
