"""OTP's OOS shapes imported as a user imports them: `otp chart import` as a subprocess on a
store, the notes it prints, the chart it leaves; the fixtures in tests/support/data/oos."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from otp_bot.store.domain.chart.sync.export import export_chart
from tests.support.paths import DATA

OTP = str(Path(sys.executable).with_name("otp"))
FIXTURES = DATA / "oos"
DENTAL, CLAIMS, STARTER = (
    FIXTURES / "dental-group.oos.json",
    FIXTURES / "dental-claims.oos.md",
    FIXTURES / "bakery-starter.yaml",
)


def otp(db, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "400", "OTP_DATABASE_URL": db.url}
    return subprocess.run([OTP, *args], capture_output=True, text=True, env=env, timeout=120)


def notes(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.removeprefix("note: ") for line in result.stderr.splitlines() if line.startswith("note: ")]


def chart_of(db):
    with db.session(readonly=True) as s:
        return export_chart(s)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
