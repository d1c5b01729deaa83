"""`/healthz` and `/readyz`.

`/healthz` says the process answers: nothing else is asked, so a liveness probe never
restarts a server because its database or Slack is away (a restart would not bring either
back). `/readyz` says whether this process should get traffic, each check named in the
JSON body, 503 when any fails:

- `database`: a new connection opens and answers (not one from the pool, which can hide a
  server that stopped taking connections, or a SQLite file that is gone while a pooled
  connection still holds it open);
- `migrations`: the store is at the schema this code was built for;
- `caches`: what is kept per chart version (the who-owns index, the directory) is built
  for the chart as it is now; a chart change makes it cold until built, and asking starts
  the build;
- `slack`: Slack answered auth.test lately (bot/slack/reach.py; never asked on the probe's time);
- `worker`: the outbox worker thread is running;
- `serving`: the process is not stopping (SIGTERM: readiness goes first).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from otp_bot.bot.runtime.worker import OutboxWorker
from otp_bot.bot.slack.reach import Reachability
from otp_bot.store.db import Database
from otp_bot.store.domain.chart import cache as chart_cache

log = logging.getLogger("otp_bot.health")
CONNECT_TIMEOUT = 3  # seconds a readiness probe waits for a new database connection


class HealthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OTP_READY_", env_file=".env", extra="ignore")

    # OTP_READY_SLACK_SECONDS: how old Slack's last answer may be before it is asked again.
    slack_seconds: float = Field(default=30.0, gt=0)


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail}


class Readiness:
    def __init__(
        self,
        db: Database,
        *,
        worker: OutboxWorker | None = None,
        slack: Reachability | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self.db, self.worker, self.slack, self.stopping = db, worker, slack, stopping
        self._warming = threading.Lock()
        self._database_error: str | None = None

    @cached_property
    def _probe_engine(self) -> Engine:
        """An engine without a pool: each probe opens a connection of its own, as a restarted process would."""
        url = make_url(self.db.url)
        if url.get_backend_name() == "sqlite":
            if not url.database or url.database == ":memory:":
                return self.db.engine  # nothing to reach: the store lives in this process
            # mode=rw: a file that is gone is an error, not a new empty database.
            uri = f"{Path(url.database).absolute().as_uri()}?mode=rw"
            return create_engine(
                "sqlite://",
                creator=lambda: sqlite3.connect(uri, uri=True, timeout=CONNECT_TIMEOUT, check_same_thread=False),
                poolclass=NullPool,
            )
        return create_engine(
            url,
            poolclass=NullPool,
            connect_args={"connect_timeout": CONNECT_TIMEOUT, "options": f"-c statement_timeout={CONNECT_TIMEOUT}s"},
        )

    @cached_property
    def _head(self) -> str | None:
        return self.db.head_revision()

    def checks(self) -> dict[str, Check]:
        found = self._database()
        if self.worker is not None:
            running = self.worker.running
            found["worker"] = Check(running, "running" if running else "not running")
        if self.slack is not None:
            reason = self.slack.status()
            found["slack"] = Check(reason is None, "answered auth.test" if reason is None else reason)
        if self.stopping is not None:
            stopping = self.stopping.is_set()
            found["serving"] = Check(not stopping, "stopping" if stopping else "taking requests")
        return found

    def _database(self) -> dict[str, Check]:
        from alembic.runtime.migration import MigrationContext

        started = time.monotonic()
        try:
            with self._probe_engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                took = time.monotonic() - started
                current = MigrationContext.configure(conn).get_current_revision()
        except Exception as exc:
            # The driver's words name hosts and users: the log has them, the public body only the kind.
            self._note_database(f"{type(exc).__name__}: {_first_line(exc)}")
            skipped = Check(False, "not checked: the database is unreachable")
            return {
                "database": Check(False, f"unreachable: {type(exc).__name__}"),
                "migrations": skipped,
                "caches": skipped,
            }
        self._note_database(None)
        found = {"database": Check(True, f"a new connection answered in {took * 1000:.0f} ms")}
        if current == self._head:
            found["migrations"] = Check(True, f"at {current} (current)")
        else:
            found["migrations"] = Check(
                False, f"at {current or 'no revision'}, need {self._head}: run `otp db upgrade`"
            )
            found["caches"] = Check(False, "not checked: the schema is not current")
            return found
        found["caches"] = self._caches()
        return found

    def _note_database(self, error: str | None) -> None:
        """One log line when the database stops or starts answering, not one per probe."""
        if error != self._database_error:
            if error is None:
                log.warning("readiness: the database answers again")
            else:
                log.warning("readiness: the database does not answer a new connection: %s", error)
            self._database_error = error

    def _caches(self) -> Check:
        with self.db.session(readonly=True) as session:
            cold = chart_cache.cold(session)
        if not cold:
            return Check(True, "built for the current chart")
        self._warm_in_background()
        return Check(False, f"not built for the current chart yet: {', '.join(cold)} (building now)")

    def _warm_in_background(self) -> None:
        if not self._warming.acquire(blocking=False):
            return  # a build is under way

        def build() -> None:
            try:
                chart_cache.warm(self.db)
            finally:
                self._warming.release()

        threading.Thread(target=build, name="otp-warm", daemon=True).start()


def _first_line(exc: BaseException) -> str:
    # A driver's message can run to several lines (and name the host); the first says what failed.
    return (str(exc).strip().splitlines() or [""])[0][:200]


def add_health_routes(web: FastAPI, readiness: Readiness) -> None:
    """GET /healthz and GET /readyz on `web`."""

    @web.get("/healthz")
    async def healthz() -> JSONResponse:  # on the event loop: no thread, no database
        return JSONResponse({"status": "ok"})

    @web.get("/readyz")
    def readyz() -> JSONResponse:  # in a worker thread: the checks wait on the database
        checks = readiness.checks()
        failed = [name for name, check in checks.items() if not check.ok]
        body = {
            "status": "not ready" if failed else "ready",
            "failed": failed,
            "checks": {name: check.as_json() for name, check in checks.items()},
        }
        return JSONResponse(body, status_code=503 if failed else 200)
