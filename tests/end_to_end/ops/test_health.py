"""/healthz and /readyz of a real `otp serve`, over HTTP: every readiness check failing for
its own reason (database unreachable, migrations behind, caches cold, Slack away), named in
the body, 503; and /healthz answering through all of it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from otp_bot.store.db import Database, alembic_config
from tests.support.cli import otp
from tests.support.serve import TOKEN, Server, free_port
from tests.support.slack.api import SlackAPI
from tests.support.stores import PG_URL

CHECKS = {"database", "migrations", "caches", "slack", "worker", "serving"}


@pytest.fixture
def fresh_api() -> Iterator[SlackAPI]:
    """A stand-in of the test's own: these tests count its auth.test calls and take it down."""
    with SlackAPI(tokens=[TOKEN]) as api:
        yield api


@contextmanager
def serving(db: Database, api: SlackAPI, **env: str) -> Iterator[Server]:
    srv = Server(db, api, env={"OTP_SCHEDULER_ENABLED": "false", **env})
    try:
        yield srv
    finally:
        srv.output = srv.stop()
    assert "Traceback" not in srv.output, srv.output


def ready(srv: Server) -> tuple[int, dict]:
    r = httpx.get(f"{srv.url}/readyz", timeout=10)
    return r.status_code, r.json()


def until(srv: Server, want: int, timeout: float = 20) -> dict:
    """The /readyz body once it answers `want`; fails with the last body after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = ready(srv)
        if status == want or time.monotonic() > deadline:
            assert status == want, body
            return body
        time.sleep(0.2)


def alive(srv: Server) -> None:
    r = httpx.get(f"{srv.url}/healthz", timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_healthz_is_up_and_readyz_names_every_check(server):
    alive(server)
    status, body = ready(server)
    assert status == 200 and body["status"] == "ready" and body["failed"] == []
    assert set(body["checks"]) == CHECKS
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["migrations"]["detail"].endswith("(current)")
    assert body["checks"]["slack"]["detail"] == "answered auth.test"


@contextmanager
def unreachable(db: Database) -> Iterator[None]:
    """The store stops taking new connections: PostgreSQL refuses them for this database;
    the SQLite file goes away, as when its volume is unmounted (a pooled connection still
    holds the old file open, which is what a fresh connection must not be fooled by)."""
    if PG_URL:
        name = make_url(db.url).database
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        try:
            yield
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            admin.dispose()
    else:
        path = Path(make_url(db.url).database)
        away = path.with_name(path.name + ".away")
        path.rename(away)
        try:
            yield
        finally:
            away.rename(path)


def test_readyz_fails_while_the_database_is_unreachable(example_db, fresh_api):
    with serving(example_db, fresh_api) as srv:
        until(srv, 200)
        with unreachable(example_db):
            status, body = ready(srv)
            assert status == 503 and body["status"] == "not ready"
            assert body["failed"] == ["database", "migrations", "caches"]
            assert body["checks"]["database"]["detail"] == "unreachable: OperationalError"
            assert body["checks"]["migrations"]["detail"] == "not checked: the database is unreachable"
            assert body["checks"]["slack"]["ok"] and body["checks"]["worker"]["ok"]
            alive(srv)  # liveness never asks the database: a restart would not bring it back
        until(srv, 200)
    # The operator learns why from the log, once (the public body names only the kind of failure).
    said = [line for line in srv.output.splitlines() if "readiness: the database" in line]
    assert len(said) == 2 and "does not answer a new connection: OperationalError" in said[0], said
    assert "answers again" in said[1]


def test_readyz_fails_while_migrations_are_behind(example_db, fresh_api):
    cfg = alembic_config(example_db.engine)
    with serving(example_db, fresh_api) as srv:
        head = until(srv, 200)["checks"]["migrations"]["detail"].split()[1]
        command.downgrade(cfg, "-1")
        try:
            status, body = ready(srv)
            assert status == 503 and body["failed"] == ["migrations", "caches"]
            detail = body["checks"]["migrations"]["detail"]
            assert f"need {head}" in detail and "otp db upgrade" in detail and not detail.startswith(f"at {head}")
            assert body["checks"]["database"]["ok"]
        finally:
            command.upgrade(cfg, "head")
        until(srv, 200)


def test_readyz_fails_until_the_caches_are_built_for_a_changed_chart(example_db, fresh_api):
    with serving(example_db, fresh_api) as srv:
        until(srv, 200)
        # Another process changes the chart: this server's who-owns index and directory are
        # for the old version now, and nothing here has asked for the new one yet.
        hired = otp(example_db, "seat", "hire", "ops-desk", "Ops Desk", "--reports-to", "coo")
        assert hired.returncode == 0, hired.stderr
        status, body = ready(srv)
        assert status == 503 and body["failed"] == ["caches"]
        assert body["checks"]["caches"]["detail"] == (
            "not built for the current chart yet: search index, directory (building now)"
        )
        assert until(srv, 200, timeout=10)["checks"]["caches"]["detail"] == "built for the current chart"
        who = srv.command("who-owns ops desk")[1]
        assert "Ops Desk" in who["text"]  # and what was built is the new chart


def test_readyz_fails_when_slack_cannot_be_reached_at_start(example_db, fresh_api):
    closed = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    with serving(example_db, fresh_api, SLACK_API_URL=closed) as srv:
        status, body = ready(srv)
        assert status == 503 and body["failed"] == ["slack"]
        assert "refused" in body["checks"]["slack"]["detail"].lower()
        alive(srv)


def test_readyz_follows_slack_going_away_and_back_without_asking_it_per_probe(example_db, fresh_api):
    api = fresh_api
    with serving(example_db, api, OTP_READY_SLACK_SECONDS="1") as srv:
        until(srv, 200)
        asked, started = len(api.calls_to("auth.test")), time.monotonic()
        for _ in range(30):
            ready(srv)
        # Slack is asked once per second of probing at most (the answer is kept 1 s), not per probe.
        seconds = time.monotonic() - started
        assert len(api.calls_to("auth.test")) - asked <= 1 + int(seconds) < 30
        api.outage("auth.test", seconds=60, kind="drop")
        body = until(srv, 503)
        assert body["failed"] == ["slack"] and body["checks"]["slack"]["detail"]
        api.end_outage()
        assert until(srv, 200)["checks"]["slack"]["ok"]


def test_once_a_stop_begins_readiness_fails_and_new_requests_are_refused(example_db):
    """What SIGTERM sets (`serve`'s handle_exit), on the real app in this process: a request
    that still gets in before uvicorn closes its listener is refused, health is answered."""
    from fastapi.testclient import TestClient

    from otp_bot.bot.runtime.web import create_web_app

    web = create_web_app(example_db, None)
    client = TestClient(web)
    assert client.get("/readyz").json()["checks"]["serving"] == {"ok": True, "detail": "taking requests"}
    assert client.get("/api/v1/chart").status_code == 401  # asks for a token: the API is taking requests
    web.state.stopping.set()
    refused = client.get("/api/v1/chart")
    assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
    assert refused.json()["error"] == "stopping"
    assert client.get("/healthz").status_code == 200
    status = client.get("/readyz")
    assert status.status_code == 503 and status.json()["failed"] == ["serving"]
