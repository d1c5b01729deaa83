"""`otp serve` in a subprocess, for end-to-end tests: started on a free port, stopped at the end."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from otp_bot.store.db import Database
from tests.support.slack.api import SlackAPI
from tests.support.slack.signing import post, signed_headers, slash_command_body

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-token"
BOGDAN, PULSE, STRANGER = "U02BGD4N8RM", "U07PLS8RT4N", "U0STRANGER"
OTP = str(Path(sys.executable).with_name("otp"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db: Database, api: SlackAPI, env: dict[str, str] | None = None) -> None:
        self.db, self.api = db, api
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "OTP_DATABASE_URL": db.url,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api.url,
            "OTP_LOG_LEVEL": "WARNING",
            # Nothing posted on schedule unless the test asks: a server started on a Monday
            # after the example org's post times would otherwise catch up the briefing, the
            # scorecard and the review first, and those posts land in what the test counts.
            "OTP_SCHEDULER_ENABLED": "false",
            **(env or {}),
        }
        self.proc = subprocess.Popen(
            [OTP, "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.proc.stdout.read()) from None
                time.sleep(0.1)
        raise RuntimeError("otp serve did not become healthy")

    def send(self, body: str, headers: dict[str, str] | None = None) -> tuple[int, dict, str]:
        return post(f"{self.url}/slack/events", body, signed_headers(SECRET, body) if headers is None else headers)

    def command(self, text: str, user: str = BOGDAN, **kw) -> tuple[int, dict]:
        kw.setdefault("response_url", self.api.response_url())
        status, _, body = self.send(slash_command_body(text, user_id=user, **kw))
        return status, (json.loads(body) if body else {})

    def kill(self) -> None:
        """Die at once, as a crashed process would: no cleanup, no goodbye."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> str:
        self.proc.terminate()
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out


def raw_request(
    port: int, head: str, body_parts: list[bytes] = (), *, half_close: bool = False, timeout: float = 10.0
) -> tuple[int, float]:
    """Send a request as raw bytes (whatever its headers claim); return (status, seconds to the answer)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode())
        try:
            for part in body_parts:
                sock.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused and closed while we were still sending: that is the point
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while b"\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except ConnectionResetError:
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, time.monotonic() - started


def head(port: int, headers: dict[str, str]) -> str:
    lines = ["POST /slack/events HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    return "\r\n".join(lines) + "\r\n\r\n"
