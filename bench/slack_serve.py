"""Benchmark `/otp who-owns` end to end: signed Slack requests to `otp serve` over loopback.

    python bench/slack_serve.py [--backend sqlite|postgresql|both] [--seats 10000] [--values 500000] [--runs 300]

Builds the synthetic org of `bench/generate.py` into a store (as `bench/run.py` does), then
starts two HTTP servers on 127.0.0.1:

- `otp serve`, the real console script, on that store;
- the floor: the same FastAPI app (`bot/runtime/web.py`), Bolt App settings and uvicorn settings,
  but its `/otp` listener only acks "ok". What it costs is HTTP, signature checking and
  Bolt's dispatch: the framework. Whatever `otp serve` costs beyond it is our work.

Both talk to a local stand-in for the Slack Web API that answers {"ok": true}. Requests
are signed as Slack signs them and sent one at a time over a keep-alive connection per
server, floor and who-owns interleaved round by round (the who-owns mix of `bench/run.py`:
exact, alias, typo, no-match), each timed from sending to the last byte of the answer.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import http.client
import json
import logging
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from run import ThrowawayPostgres, fmt_ms, fresh_pg_database, load, log, summary  # noqa: E402
from slack_sdk.signature import SignatureVerifier  # noqa: E402

OTP = Path(sys.executable).with_name("otp")
BOT_TOKEN = "xoxb-bench-0000-token"
TEAM_ID, TEAM_DOMAIN, APP_ID, BOT_USER_ID = "T0BENCH", "bench", "A0OTP", "U0OTPBOT"
KINDS = ("exact", "alias", "typo", "no-match")
FLOOR = "floor: no-op Bolt /otp"
TARGET = 1.5  # issue 3: who-owns p99 within 1.5x the floor's p99


# ---------------------------------------------------------------- the Slack side


class SlackWebAPIStub:
    """The Slack Web API on a free loopback port: every method answers ok, and is counted.

    `otp serve` calls it for auth.test (once) and users.info (for a user not on the chart);
    the benchmark's user is on the chart, so nothing should reach it while measuring.
    """

    def __init__(self) -> None:
        self.calls: Counter = Counter()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                method = self.path.rstrip("/").rsplit("/", 1)[-1]
                stub.calls[method] += 1
                answer: dict[str, Any] = {"ok": True}
                if method == "auth.test":
                    answer |= {
                        "url": f"https://{TEAM_DOMAIN}.slack.com/",
                        "team": "Bench",
                        "user": "otp",
                        "team_id": TEAM_ID,
                        "user_id": BOT_USER_ID,
                        "bot_id": "B0BOT",
                    }
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


def slash_command_body(text: str, user_id: str, response_url: str) -> str:
    """A slash command as Slack posts it (the builder of tests/support/slack/signing.py, without the test package)."""
    return urlencode(
        {
            "token": "verification-token",
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": "C0GENERAL",
            "channel_name": "general",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/otp",
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": f"{int(time.time())}.1.{secrets.token_hex(10)}",
        }
    )


def signed(secret: str, body: str) -> tuple[bytes, dict[str, str]]:
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    return body.encode(), headers


class Connection:
    """One keep-alive connection to a server; reconnects (untimed) if the server closed it while idle."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.reconnects = 0

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[float, int, bytes]:
        for attempt in (1, 2):
            if self.conn.sock is None:
                self.conn.connect()
            try:
                t0 = time.perf_counter_ns()
                self.conn.request("POST", "/slack/events", body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                return (time.perf_counter_ns() - t0) / 1e6, response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # uvicorn closes a connection idle for 5 s; a new one is not what we measure.
                self.conn.close()
                self.reconnects += 1
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------- the servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server subprocess on 127.0.0.1:`port`, its output in a log file; stopped at exit whatever happens."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = workdir / f"{name}.log"
        with open(self.log_path, "wb") as out:
            # Its own session: a Ctrl-C in the terminal reaches the benchmark, which stops it.
            self.proc = subprocess.Popen(
                [*argv, "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                cwd=workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self.stop)

    def wait_ready(self, timeout: float = 120.0) -> None:
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                body = response.read()
                conn.close()
                if response.status == 200:
                    return
                raise RuntimeError(f"{self.name} is unhealthy: {body.decode()}")
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f}s:\n{self.log_tail()}")

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


def serve_floor(host: str, port: int) -> None:
    """The floor server: what `otp serve` runs, with a /otp listener that only acks."""
    from concurrent.futures import ThreadPoolExecutor

    import uvicorn
    from slack_bolt import App

    from otp_bot.bot.runtime.web import create_web_app
    from otp_bot.bot.slack.client import make_client
    from otp_bot.bot.slack.settings import SlackSettings
    from otp_bot.store.db import Database

    logging.basicConfig(
        level=os.environ.get("OTP_LOG_LEVEL", "INFO").upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = SlackSettings()
    settings.require("bot_token", "signing_secret")
    # The same App arguments as bot/slack/app.py's create_app, and the same web app and uvicorn
    # options as `otp serve`: only the listener differs.
    bolt = App(
        client=make_client(settings.secret("bot_token"), settings.base_url),
        signing_secret=settings.secret("signing_secret"),
        listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="otp-listener"),
        logger=logging.getLogger("otp_bot.slack"),
    )

    @bolt.command("/otp")
    def noop(ack) -> None:
        ack("ok")

    uvicorn.run(
        create_web_app(Database(), bolt, signing_secret=settings.secret("signing_secret")),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )


# ---------------------------------------------------------------- measuring


@dataclass
class Case:
    name: str
    commands: list[str]
    samples: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)

    def next_command(self) -> str:
        return self.commands[len(self.samples) % len(self.commands)]


def outcome(status: int, body: bytes, floor: bool) -> str:
    if status != 200:
        return f"http {status}"
    if floor:
        return "ok" if body.strip() == b"ok" else "unexpected"
    try:
        text = json.loads(body).get("text", "")
    except ValueError:
        return "unexpected"
    if text.startswith(":hourglass"):
        return "deferred"  # over the 2 s ack budget: the answer went to the response URL
    if text.startswith("No seat owns"):
        return "none"
    if text.startswith("I'm not sure who owns"):
        return "candidates"
    return "answer" if "owns" in text else "unexpected"


class Sender:
    """Signs and sends a case's command to its server: the floor or `otp serve`."""

    def __init__(self, floor: Connection, serve: Connection, secret: str, user_id: str, response_url: str) -> None:
        self.floor, self.serve, self.secret, self.user_id, self.response_url = (
            floor,
            serve,
            secret,
            user_id,
            response_url,
        )

    def __call__(self, case: Case, command: str) -> tuple[float, int, bytes]:
        # Signed just before sending (Slack refuses a timestamp over 5 minutes old), untimed.
        body, headers = signed(self.secret, slash_command_body(command, self.user_id, self.response_url))
        return (self.floor if case.name == FLOOR else self.serve).post(body, headers)


def warm_up(cases: list[Case], send: Sender, rounds: int) -> None:
    """Not recorded: the first of each kind compiles queries and templates. (`otp serve` builds
    the search index before it listens, so the first who-owns finds it ready.)"""
    for i in range(rounds):
        for case in cases:
            _, status, body = send(case, case.commands[-1 - i % len(case.commands)])
            if status != 200:
                raise RuntimeError(f"{case.name}: HTTP {status} during warm-up: {body[:300]!r}")


def measure(cases: list[Case], send: Sender, *, runs: int, budget: float, seed: int) -> float:
    rng = random.Random(seed)
    order = list(cases)
    started = time.perf_counter()
    for round_no in range(1, runs + 1):
        rng.shuffle(order)  # a noisy neighbour then slows every case alike
        for case in order:
            ms, status, body = send(case, case.next_command())
            case.samples.append(ms)
            case.outcomes[outcome(status, body, case.name == FLOOR)] += 1
        if round_no % 50 == 0:
            log(f"  round {round_no}/{runs}, {time.perf_counter() - started:.0f}s")
        if time.perf_counter() - started > budget:
            log(f"  budget of {budget:.0f}s spent after {round_no} rounds")
            break
    return time.perf_counter() - started


def row(name: str, samples: list[float], floor: dict[str, float], outcomes: Counter | None = None) -> dict[str, Any]:
    s = summary(samples)
    return {
        "case": name,
        **s,
        "p50_over_floor": s["p50"] / floor["p50"],
        "p99_over_floor": s["p99"] / floor["p99"],
        "outcomes": dict(outcomes or {}),
    }


def bench_backend(backend: str, url: str, org: generate.Org, stub: SlackWebAPIStub, args) -> dict[str, Any]:
    from otp_bot.store.db import Database
    from otp_bot.store.domain.chart.chartfile.validation import validate_chart

    db = Database(url, auto_migrate=True)
    try:
        t0 = time.perf_counter()
        chart = validate_chart(org.chart, "bench/generate.py")
        values = generate.build_values(org, args.values, weeks=50, seed=args.seed + 1)
        log(
            f"{backend}: building the store: {len(chart.seats):,} seats through apply_chart, "
            f"{len(values):,} values bulk-loaded ..."
        )
        setup = load(db, chart, values)
        setup["total"] = time.perf_counter() - t0
        del chart, values
        log(f"{backend}: store ready in {setup['total']:.0f}s")
    finally:
        db.dispose()

    workdir = Path(tempfile.mkdtemp(prefix="otp-serve-bench-"))  # empty: no .env is picked up
    secret = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OTP_"))}
    env |= {
        "OTP_DATABASE_URL": url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": stub.url,
        "OTP_LOG_LEVEL": "WARNING",
    }
    servers = [
        Server("otp-serve", [str(OTP), "serve"], env, workdir),
        Server("floor", [sys.executable, str(Path(__file__).resolve()), "--serve-floor"], env, workdir),
    ]
    connections: list[Connection] = []
    try:
        for server in servers:
            server.wait_ready()
        serve, floor = (Connection(s.port) for s in servers)
        connections = [serve, floor]
        # A human on the chart (the root seat's holder): known by Slack id, so no users.info call.
        user_id = next(h["slack_user"] for h in org.chart["holders"] if h["kind"] == "human" and h.get("slack_user"))
        topics = generate.who_owns_topics(org, args.runs, seed=args.seed + 2)
        mix = [f"who-owns {topics[k][i]}" for i in range(args.runs) for k in KINDS]
        # The floor gets the same requests (same size, same signing work), only answered by a no-op.
        cases = [Case(FLOOR, mix)] + [Case(f"who-owns {k}", [f"who-owns {t}" for t in topics[k]]) for k in KINDS]
        send = Sender(floor, serve, secret, user_id, response_url=stub.url + "response")
        warm_up(cases, send, args.warmup)
        calls_before = Counter(stub.calls)
        log(f"{backend}: measuring {len(cases)} cases, {args.runs} rounds (at most {args.budget:.0f}s) ...")
        measured = measure(cases, send, runs=args.runs, budget=args.budget, seed=args.seed)
        slack_calls = dict(stub.calls - calls_before)
        for server in servers:
            if server.proc.poll() is not None:
                raise RuntimeError(f"{server.name} died while measured:\n{server.log_tail()}")
    finally:
        for c in connections:
            c.close()
        for server in servers:
            server.stop()
        logs = {s.name: s.log_tail() for s in servers}
        shutil.rmtree(workdir, ignore_errors=True)

    floor_summary = summary(cases[0].samples)
    kinds = cases[1:]
    n = min(len(c.samples) for c in kinds)
    pooled = [x for c in kinds for x in c.samples[:n]]
    return {
        "backend": backend,
        "seats": len(org.seat_ids),
        "values": args.values,
        "setup_seconds": setup,
        "measured_seconds": measured,
        "rows": [row(c.name, c.samples, floor_summary, c.outcomes) for c in cases]
        + [row("who-owns (equal mix)", pooled, floor_summary, sum((c.outcomes for c in kinds), Counter()))],
        "samples_ms": {c.name: [round(x, 3) for x in c.samples] for c in cases},
        "slack_api_calls_while_measuring": slack_calls,
        "reconnects": sum(c.reconnects for c in connections),
        "server_logs": {k: v for k, v in logs.items() if v.strip()},
    }


# ---------------------------------------------------------------- output


def table(result: dict[str, Any]) -> str:
    head = (
        f"{'case':<24} {'n':>5} {'mean':>8} {'p50':>8} {'p90':>8} {'p99':>8} "
        f"{'p50/floor':>10} {'p99/floor':>10}  outcomes"
    )
    title = (
        f"== {result['backend']}: /otp over HTTP to otp serve, {result['seats']:,} seats, "
        f"{result['values']:,} values — times in ms"
    )
    lines = [title, head, "-" * len(head)]
    for r in result["rows"]:
        flag = "*" if r["count"] < 100 else " "
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items()))
        lines.append(
            f"{r['case']:<24} {r['count']:>5} {fmt_ms(r['mean']):>8} {fmt_ms(r['p50']):>8} "
            f"{fmt_ms(r['p90']):>8} {fmt_ms(r['p99']):>7}{flag} {r['p50_over_floor']:>9.2f}x "
            f"{r['p99_over_floor']:>9.2f}x  {outcomes}"
        )
    mix = result["rows"][-1]
    verdict = "met" if mix["p99_over_floor"] <= TARGET else "NOT met"
    lines.append(
        f"target p99 <= {TARGET}x the floor's p99: {verdict} "
        f"(equal mix {mix['p99_over_floor']:.2f}x; "
        + ", ".join(f"{r['case'].removeprefix('who-owns ')} {r['p99_over_floor']:.2f}x" for r in result["rows"][1:-1])
        + ")"
    )
    calls = result["slack_api_calls_while_measuring"]
    lines.append(
        f"Slack Web API calls while measuring: {', '.join(f'{k} {v}' for k, v in calls.items()) or 'none'}; "
        f"reconnects {result['reconnects']}; measured for {result['measured_seconds']:.0f}s"
    )
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--seats", type=int, default=10_000)
    p.add_argument("--values", type=int, default=500_000)
    p.add_argument("--runs", type=int, default=300, help="rounds: timed requests per case (default 300)")
    p.add_argument("--warmup", type=int, default=5, help="untimed rounds first (default 5)")
    p.add_argument(
        "--budget",
        type=float,
        default=600.0,
        help="seconds per backend after which the rounds stop early (default 600)",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--pg-url",
        help="a PostgreSQL server to use instead of a throwaway cluster "
        "(a fresh database is created on it and dropped at the end)",
    )
    p.add_argument("--results", type=Path, default=HERE / "results", help="where the JSON goes (git-ignored)")
    p.add_argument("--serve-floor", action="store_true", help=argparse.SUPPRESS)  # the floor server's own entry
    p.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_floor:
        serve_floor(args.host, args.port)
        return 0
    if not OTP.exists():
        sys.exit(f"{OTP} not found: install the project in this environment (pip install -e '.[postgres]')")
    args.results.mkdir(parents=True, exist_ok=True)
    # SIGTERM (a CI timeout) still stops the servers and the throwaway cluster: make it an exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    started = time.perf_counter()
    log(f"generating {args.seats:,} seats ...")
    org = generate.build_chart(args.seats, seed=args.seed)
    stub = SlackWebAPIStub()
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
    path = args.results / f"slack-serve-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "started": stamp,
                "args": {
                    k: (str(v) if isinstance(v, Path) else v)
                    for k, v in vars(args).items()
                    if k not in ("pg_url", "serve_floor", "host", "port")
                },
                "machine": {
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                    "cpus": os.cpu_count(),
                },
                "org": org.stats,
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
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the servers and the throwaway cluster are stopped by then
        log("interrupted")
        sys.exit(130)
