"""The `otp` console script run as a user runs it: a subprocess, the store named by
OTP_DATABASE_URL (`otp`), or an agent's environment with no OTP_ settings of the developer's
(`otp_process`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from otp_bot.store.db import Database

OTP = str(Path(sys.executable).with_name("otp"))


def otp(db: Database | None, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("OTP_DATABASE_URL", None)
    if db is not None:
        env["OTP_DATABASE_URL"] = db.url
    return subprocess.run([OTP, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def otp_process(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
    timeout: float = 90,
) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTP_")}
    return subprocess.run(
        [OTP, *args], env={**base, **(env or {})}, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=timeout
    )
