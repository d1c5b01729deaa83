"""Test fixtures: a fresh, migrated store per test, on SQLite or on a real PostgreSQL.

Set OTP_TEST_DATABASE_URL to a PostgreSQL server URL (`.ci/run` starts one) to run the
whole suite against it; each test then gets its own database cloned from a migrated
template, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from otp_bot.store.db import Database

from .serve import TOKEN
from .slack_api import SlackAPI

PG_URL = os.environ.get("OTP_TEST_DATABASE_URL", "")
BACKEND = "postgresql" if PG_URL else "sqlite"


def pytest_report_header() -> str:
    return f"store backend: {BACKEND}" + (
        f" ({make_url(PG_URL).render_as_string(hide_password=True)})" if PG_URL else ""
    )


class Templates:
    """Builds each kind of template store once per run, then clones it per test."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.built: dict[str, str] = {}
        self.admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT") if PG_URL else None
        self.run_id = uuid.uuid4().hex[:8]

    def _url_for(self, name: str) -> str:
        if self.admin is not None:
            return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        return f"sqlite:///{self.workdir / (name + '.db')}"

    def _create_empty(self, name: str, template: str | None = None) -> str:
        if self.admin is not None:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        elif template:
            shutil.copyfile(self.workdir / f"{template}.db", self.workdir / f"{name}.db")
        return self._url_for(name)

    def template(self, kind: str) -> str:
        if kind not in self.built:
            name = f"otp_tpl_{kind}_{self.run_id}"
            db = Database(self._create_empty(name), auto_migrate=True)
            db.upgrade()
            if kind == "example":
                from otp_bot.bot.cli.demo import load_example

                load_example(db)
            db.dispose()
            self.built[kind] = name
        return self.built[kind]

    def clone(self, kind: str) -> tuple[str, str]:
        name = f"otp_t_{uuid.uuid4().hex[:12]}"
        return name, self._create_empty(name, self.template(kind))

    def drop(self, name: str) -> None:
        if self.admin is not None:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            for suffix in (".db", ".db-wal", ".db-shm"):
                (self.workdir / f"{name}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        for name in self.built.values():
            self.drop(name)
        if self.admin is not None:
            self.admin.dispose()


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    t = Templates(tmp_path_factory.mktemp("stores"))
    yield t
    t.close()


def _store(templates: Templates, kind: str) -> Iterator[Database]:
    name, url = templates.clone(kind)
    db = Database(url, auto_migrate=False)
    try:
        yield db
    finally:
        db.dispose()
        templates.drop(name)


@pytest.fixture
def db(templates: Templates) -> Iterator[Database]:
    """An empty, migrated store."""
    yield from _store(templates, "empty")


@pytest.fixture
def example_db(templates: Templates) -> Iterator[Database]:
    """A store holding the example org (Acme Agency) with 13 weeks of values."""
    yield from _store(templates, "example")


@pytest.fixture(scope="module")
def module_db(templates: Templates) -> Iterator[Database]:
    """The example org, shared by one module's tests (modules that start `otp serve` once)."""
    yield from _store(templates, "example")


@pytest.fixture(scope="module")
def api() -> Iterator[SlackAPI]:
    """The local Slack Web API, shared by one module's tests; it accepts the tests' bot token."""
    with SlackAPI(tokens=[TOKEN]) as api:
        yield api


@pytest.fixture
def session(db: Database):
    with db.session() as s:
        yield s
