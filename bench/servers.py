"""The processes and the wire: `otp serve` and the floors as subprocesses, keep-alive
connections to them, Slack's request signing, and a stand-in for the Slack Web API.

Every server runs on 127.0.0.1 on a free port, in its own process session (a Ctrl-C reaches
the benchmark, which stops it), and is stopped at exit whatever happens.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from slack_sdk.signature import SignatureVerifier

HERE = Path(__file__).resolve().parent
OTP = Path(sys.executable).with_name("otp")
BOT_TOKEN = "xoxb-bench-0000-token"
TEAM_ID, TEAM_DOMAIN, APP_ID, BOT_USER_ID = "T0BENCH", "bench", "A0OTP", "U0OTPBOT"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server subprocess; `argv` gets `--host` and `--port` appended."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = workdir / f"{name}.log"
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [*argv, "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                cwd=workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self.stop)

    def wait_ready(self, timeout: float = 300.0, on_wait: Any = None) -> float:
        """Polls /healthz; returns the seconds until it answered. `on_wait` is called between polls."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{self.log_tail()}")
            if on_wait:
                on_wait()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                body = response.read()
                conn.close()
                if response.status == 200:
                    return time.monotonic() - t0
                raise RuntimeError(f"{self.name} is unhealthy: {body.decode()}")
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f}s:\n{self.log_tail()}")

    def memory(self) -> dict[str, float]:
        """Resident memory now and its peak so far (VmHWM), in MB, from /proc."""
        fields = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
        return {"rss_mb": fields["VmRSS"], "peak_mb": fields["VmHWM"]}

    def cpu_seconds(self) -> float:
        """User and system CPU the process has used so far, all its threads: unlike wall
        time, this does not grow when other processes crowd the machine."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} died while measured:\n{self.log_tail()}")

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


def floor_server(kind: str, env: dict[str, str], workdir: Path) -> Server:
    return Server(f"floor-{kind}", [sys.executable, str(HERE / "floors.py"), kind], env, workdir)


class Connection:
    """One keep-alive connection; reconnects (untimed) when the server closed it while idle."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = headers or {}
        self.reconnects = 0

    def send(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None):
        """Returns (ms, status, body), timed from sending to the answer's last byte."""
        all_headers = self.headers | (headers or {})
        for attempt in (1, 2):
            if self.conn.sock is None:
                self.conn.connect()
            try:
                t0 = time.perf_counter_ns()
                self.conn.request(method, path, body=body, headers=all_headers)
                response = self.conn.getresponse()
                data = response.read()
                return (time.perf_counter_ns() - t0) / 1e6, response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # uvicorn closes a connection idle for 5 s; a new one is not what is measured.
                self.conn.close()
                self.reconnects += 1
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------- Slack's side


def signed(secret: str, body: str) -> tuple[bytes, dict[str, str]]:
    """A body and the headers Slack sends with it (`v0` HMAC of timestamp and body)."""
    ts = str(int(time.time()))
    return body.encode(), {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }


def slash_command(text: str, user_id: str, response_url: str) -> str:
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


def button_click(user: str, channel: str, ts: str, action: str, block_id: str, value: str) -> str:
    payload = {
        "type": "block_actions",
        "api_app_id": APP_ID,
        "token": "verification-token",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "trigger_id": f"{int(time.time())}.1.{secrets.token_hex(10)}",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "channel": {"id": channel, "name": "approvals"},
        "response_url": "http://127.0.0.1:9/none",
        "message": {"type": "message", "ts": ts, "text": "", "blocks": []},
        "actions": [
            {
                "action_id": action,
                "block_id": block_id,
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


class SlackStub:
    """The Slack Web API on loopback: every method answers ok and is counted; posts get a
    fresh ts; the moment each message is first updated (`chat.update`) is noted."""

    def __init__(self) -> None:
        self.calls: Counter = Counter()
        self.updated: dict[str, int] = {}
        self.waiting: dict[str, threading.Event] = {}
        self.lock = threading.Lock()
        self.counter = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                try:
                    args = json.loads(raw) if raw.startswith("{") else dict(parse_qsl(raw))
                except ValueError:
                    args = {}
                data = json.dumps(stub.answer(self.path.rstrip("/").rsplit("/", 1)[-1], args)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.calls[method] += 1
            self.counter += 1
            n = self.counter
        body: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            body |= {
                "url": f"https://{TEAM_DOMAIN}.slack.com/",
                "team": "Bench",
                "user": "otp",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": "B0BOT",
            }
        elif method == "chat.update":
            self.note(args.get("ts", ""))
            body |= {"channel": args.get("channel"), "ts": args.get("ts")}
        elif method == "chat.postMessage":
            ts = f"{int(time.time())}.{n:06d}"
            body |= {"channel": args.get("channel", "C0BENCH"), "ts": ts, "message": {"ts": ts}}
        elif method == "conversations.open":
            body["channel"] = {"id": "D0BENCH"}
        elif method in ("conversations.history", "conversations.replies"):
            body |= {"messages": [], "has_more": False}
        return body

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


def slack_env(url: str, stub: SlackStub, secret: str, **extra: str) -> dict[str, str]:
    from store import otp_env

    # Pacing off: the clicks come far faster than Slack's published limits (chat.update,
    # 50 a minute), so paced, the benchmark would time the limit, not the bot. The floors'
    # listeners call through Bolt's per-request client, which is not paced either.
    pace = {"OTP_SLACK_PACE": "0"}
    return otp_env(
        url, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=secret, SLACK_API_URL=stub.url, **(pace | extra)
    )
