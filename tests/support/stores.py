"""Fresh, migrated stores on SQLite or on a real PostgreSQL, cloned from a template built once
per run (set OTP_TEST_DATABASE_URL to a PostgreSQL server URL to use one)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from otp_bot.store.db import Database

PG_URL = os.environ.get("OTP_TEST_DATABASE_URL", "")
BACKEND = "postgresql" if PG_URL else "sqlite"


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


def cloned_store(templates: Templates, kind: str) -> Iterator[Database]:
    """A clone of the `kind` template, dropped when the generator is closed."""
    name, url = templates.clone(kind)
    db = Database(url, auto_migrate=False)
    try:
        yield db
    finally:
        db.dispose()
        templates.drop(name)
