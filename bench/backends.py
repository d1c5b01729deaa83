"""Where a benchmark's store lives: a throwaway SQLite file, or a database on PostgreSQL.

PostgreSQL runs with its durable defaults (fsync, synchronous_commit and full_page_writes
on): `scripts/postgres.sh durable`. The test suite's fast settings are no place to measure
a commit. Whatever the server, `durability()` reads the settings back from it and the
benchmark prints them, so a figure from a non-durable server cannot pass unnoticed.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runner import log
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "postgres.sh"
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


class ThrowawayPostgres:
    """A cluster of scripts/postgres.sh, durable, removed at exit (Ctrl-C and SIGTERM too)."""

    def __init__(self) -> None:
        self.url = ""
        self.dir = ""

    def start(self) -> str:
        out = subprocess.run(
            [
                "bash",
                "-c",
                f'source "{SCRIPT}" && start_postgres durable >&2 && printf "%s\\n%s\\n" "$PG_URL" "$PG_DIR"',
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        self.url, self.dir = out.stdout.split()[:2]
        log(out.stderr.strip())
        atexit.register(self.stop)
        return self.url

    def stop(self) -> None:
        if not self.dir:
            return
        subprocess.run(
            ["bash", "-c", f'source "{SCRIPT}"; PG_DIR="$1"; stop_postgres', "_", self.dir],
            check=False,
            capture_output=True,
            cwd=ROOT,
        )
        log(f"stopped PostgreSQL ({self.dir})")
        self.dir = ""


def fresh_pg_database(server_url: str) -> tuple[str, Any]:
    """A new database on the server, so a given --pg-url is never written over; dropped at the end."""
    name = f"otp_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server_url).set(database=name).render_as_string(hide_password=False), drop


def durability(url: str) -> dict[str, str]:
    """The settings that decide what a commit costs, as the server reports them."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                # What the app's own connections set (store/db.py), not SQLite's defaults.
                from otp_bot.store.db import Database

                db = Database(url, auto_migrate=False)
                try:
                    with db.engine.connect() as c:
                        return {
                            "journal_mode": c.exec_driver_sql("PRAGMA journal_mode").scalar(),
                            "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
                                c.exec_driver_sql("PRAGMA synchronous").scalar(), "?"
                            ),
                        }
                finally:
                    db.dispose()
            settings = {k: conn.exec_driver_sql(f"SHOW {k}").scalar() for k in DURABLE}
            settings["version"] = conn.exec_driver_sql("SHOW server_version").scalar()
            return settings
    finally:
        engine.dispose()


def describe(backend: str, settings: dict[str, str]) -> str:
    if backend == "sqlite":
        mode, sync = settings["journal_mode"], settings["synchronous"]
        return f"SQLite, as the app opens it: journal_mode={mode}, synchronous={sync}"
    durable = all(settings.get(k) == v for k, v in DURABLE.items())
    state = "DURABLE" if durable else "NOT DURABLE: figures are not comparable"
    return f"PostgreSQL {settings['version']} {state}: " + ", ".join(f"{k}={settings[k]}" for k in DURABLE)


@contextmanager
def store_url(backend: str, pg_url: str | None = None) -> Iterator[str]:
    """An empty store for one benchmark, removed afterwards."""
    if backend == "sqlite":
        tmp = tempfile.mkdtemp(prefix="otp-bench-")
        try:
            yield f"sqlite:///{tmp}/bench.db"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    pg = None
    if pg_url is None:
        pg = ThrowawayPostgres()
        pg_url = pg.start()
    url, drop = fresh_pg_database(pg_url)
    try:
        yield url
    finally:
        try:
            drop()
        except Exception as exc:
            log(f"dropping the database failed: {exc}")
        if pg is not None:
            pg.stop()


def backends(choice: str) -> list[str]:
    return ["sqlite", "postgresql"] if choice == "both" else [choice]


def add_backend_args(p: Any) -> None:
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument(
        "--pg-url",
        help="a PostgreSQL server to use instead of a throwaway durable cluster "
        "(a fresh database is created on it and dropped at the end)",
    )
    p.add_argument("--seed", type=int, default=1)
