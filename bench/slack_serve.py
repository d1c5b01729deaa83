"""Benchmark `/otp who-owns` end to end: signed slash commands to `otp serve` over loopback.

    python bench/slack_serve.py [--backend sqlite|postgresql|both] [--seats 10000] [--values 500000]

Builds the generated org (10,000 seats, 500,000 values), starts `otp serve` on it and two
floors (bench/floors.py): a no-op Bolt app and a bare signed Starlette endpoint. Then:

1. one client: the floors and the four who-owns kinds (exact, alias, typo, no-match)
   interleaved round by round over one keep-alive connection per server;
2. four clients at once, for each server alone: the floors, then the who-owns mix.

Verdicts (issue 18, judged in the same run): who-owns p50 <= 0.5x the no-op Bolt app's p50
and p99 <= 3x the bare signed endpoint's p99, with 1 and with 4 clients; and the older
p99 <= 1.5x the no-op Bolt app's p99. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import generate
from backends import add_backend_args, backends, describe, durability, store_url
from runner import Case, Report, Verdict, concurrent, interleaved, log, summary, table
from servers import OTP, Connection, Server, SlackStub, floor_server, signed, slack_env, slash_command

import store

KINDS = ("exact", "alias", "typo", "no-match")
BOLT, BARE = "floor: no-op Bolt /otp", "floor: bare signed endpoint"


def outcome(status: int, body: bytes) -> str:
    if status != 200:
        return f"http {status}"
    if body.strip() == b"ok":
        return "ok"
    try:
        text = json.loads(body).get("text", "")
    except ValueError:
        return "unexpected"
    if text.startswith(":hourglass"):
        return "deferred"  # over the ack budget: the answer went to the response URL
    if text.startswith("No seat owns"):
        return "none"
    if text.startswith("I'm not sure who owns"):
        return "candidates"
    return "answer" if "owns" in text else "unexpected"


def sender(port: int, secret: str, user_id: str, response_url: str, commands: list[str]):
    """A client of one server: signs (untimed) and sends the i-th command over its own connection."""
    conn = Connection(port)

    def send(i: int) -> tuple[float, str]:
        body, headers = signed(secret, slash_command(commands[i % len(commands)], user_id, response_url))
        ms, status, data = conn.send("POST", "/slack/events", body, headers)
        return ms, outcome(status, data)

    return send


def bench_backend(backend: str, url: str, org: generate.Org, stub: SlackStub, args, report: Report) -> None:
    setup = store.build(url, org, values=args.values)
    settings = durability(url)
    log(describe(backend, settings))
    workdir = Path(tempfile.mkdtemp(prefix="otp-serve-bench-"))  # empty: no .env is picked up
    secret = secrets.token_hex(16)
    env = slack_env(url, stub, secret)
    servers = {
        "serve": Server("otp-serve", [str(OTP), "serve"], env, workdir),
        BOLT: floor_server("bolt-command", env, workdir),
        BARE: floor_server("signed", env, workdir),
    }
    try:
        for server in servers.values():
            server.wait_ready()
        # A human on the chart, known by Slack id: no users.info call while measuring.
        user_id = next(h["slack_user"] for h in org.chart["holders"] if h["kind"] == "human" and h.get("slack_user"))
        topics = generate.who_owns_topics(org, args.runs, seed=args.seed + 2)
        mix = [f"who-owns {topics[k][i]}" for i in range(args.runs) for k in KINDS]
        response_url = stub.url + "response"

        def client(name: str, commands: list[str]):
            return sender(servers[name].port, secret, user_id, response_url, commands)

        # The floors get the same texts, so requests of the same size and signing work.
        cases = [Case(BOLT, client(BOLT, mix)), Case(BARE, client(BARE, mix))]
        cases += [Case(f"who-owns {k}", client("serve", [f"who-owns {t}" for t in topics[k]])) for k in KINDS]
        log(f"{backend}: one client, {args.runs} rounds of {len(cases)} cases ...")
        calls_before = dict(stub.calls)
        cpu0 = {name: s.cpu_seconds() for name, s in servers.items()}
        seconds = interleaved(cases, runs=args.runs, warmup=args.warmup, budget=args.budget, seed=args.seed)
        sent = {
            BOLT: len(cases[0].samples),
            BARE: len(cases[1].samples),
            "serve": sum(len(c.samples) for c in cases[2:]),
        }
        sent = {k: v + args.warmup * (len(KINDS) if k == "serve" else 1) for k, v in sent.items()}
        cpu = {"1 client": {k: 1000 * (servers[k].cpu_seconds() - cpu0[k]) / n for k, n in sent.items()}}
        pooled = Case("who-owns (equal mix)", run=cases[2].run)
        n = min(len(c.samples) for c in cases[2:])
        for c in cases[2:]:
            pooled.samples += c.samples[:n]
            pooled.outcomes.update(c.outcomes)
        one = {c.name: c for c in [*cases, pooled]}

        log(f"{backend}: {args.clients} clients at once, each server alone ...")
        many = {}
        cpu[f"{args.clients} clients"] = {}
        for name in (BOLT, BARE, "who-owns (equal mix)"):
            key = "serve" if name == "who-owns (equal mix)" else name
            c0 = servers[key].cpu_seconds()
            many[name] = concurrent(
                name, args.clients, lambda k, key=key: client(key, mix[k::4] + mix), requests=args.concurrent_requests
            )
            n = args.clients * (args.concurrent_requests + 3)  # the warm-up requests of concurrent() included
            cpu[f"{args.clients} clients"][key] = 1000 * (servers[key].cpu_seconds() - c0) / n
        calls = {k: v - calls_before.get(k, 0) for k, v in stub.calls.items() if v - calls_before.get(k, 0)}
        for server in servers.values():
            server.alive()
    finally:
        for server in servers.values():
            server.stop()
        logs = {s.name: s.log_tail() for s in servers.values()}
        shutil.rmtree(workdir, ignore_errors=True)

    for label, group in (("1 client", one), (f"{args.clients} clients", many)):
        rows = [c.row() for c in group.values()]
        floors = {"bolt": summary(group[BOLT].samples), "bare": summary(group[BARE].samples)}
        report.section(
            f"{backend}: /otp who-owns over HTTP, {len(org.seat_ids):,} seats, {args.values:,} values, {label}",
            table(rows, floors=floors)
            + "\nCPU of each server per request (ms, all its threads): "
            + ", ".join(f"{'otp serve' if k == 'serve' else k} {v:.2f}" for k, v in cpu[label].items())
            + f"\n{describe(backend, settings)}",
            {
                "backend": backend,
                "clients": label,
                "rows": rows,
                "cpu_ms_per_request": cpu[label],
                "durability": settings,
                "setup": setup,
            },
        )
        mix_row = summary(group["who-owns (equal mix)"].samples)
        report.verdict(
            Verdict(
                f"who-owns p50 <= 0.5x no-op Bolt p50 ({label})",
                f"{mix_row['p50'] / floors['bolt']['p50']:.2f}x ({mix_row['p50']:.1f}/{floors['bolt']['p50']:.1f} ms)",
                mix_row["p50"] <= 0.5 * floors["bolt"]["p50"],
                backend,
            )
        )
        report.verdict(
            Verdict(
                f"who-owns p99 <= 3x bare signed endpoint p99 ({label})",
                f"{mix_row['p99'] / floors['bare']['p99']:.2f}x ({mix_row['p99']:.1f}/{floors['bare']['p99']:.1f} ms)",
                mix_row["p99"] <= 3 * floors["bare"]["p99"],
                backend,
            )
        )
        report.verdict(
            Verdict(
                f"who-owns p99 <= 1.5x no-op Bolt p99 ({label})",
                f"{mix_row['p99'] / floors['bolt']['p99']:.2f}x ({mix_row['p99']:.1f}/{floors['bolt']['p99']:.1f} ms)",
                mix_row["p99"] <= 1.5 * floors["bolt"]["p99"],
                backend,
            )
        )
    report.data["sections"][-1] |= {
        "slack_api_calls_while_measuring": calls,
        "server_logs": {k: v for k, v in logs.items() if v.strip()},
        "measured_seconds_one_client": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_backend_args(p)
    p.add_argument("--seats", type=int, default=10_000)
    p.add_argument("--values", type=int, default=500_000)
    p.add_argument("--runs", type=int, default=300, help="one client: rounds, a timed request per case each")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--budget", type=float, default=300.0, help="one client: seconds per case at most")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--concurrent-requests", type=int, default=250, help="per client, per server")
    args = p.parse_args(argv)
    store.require_otp()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a timeout still stops the servers and the cluster
    report = Report("slack-serve", args)
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
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
