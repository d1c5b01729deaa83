"""`otp backup FILE`: a SQLite copy taken while the store is being written is whole (SQLite's
integrity check) and its audit chain verifies; an existing file is never replaced without
--force; for PostgreSQL the command refuses and prints the pg_dump recipe, which works."""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import sqlite3
import stat
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from otp_bot.bot.cli.demo import load_example
from otp_bot.store.db import Database
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.gate import flags
from otp_bot.store.models import AuditEntry
from tests.support.cli import OTP
from tests.support.stores import PG_URL


def otp(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OTP_DATABASE_URL": url}
    return subprocess.run([OTP, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Database]:
    """A SQLite store of its own, whatever the suite's backend: this is SQLite's backup."""
    db = Database(f"sqlite:///{tmp_path / 'otp.db'}")
    db.upgrade()
    load_example(db)
    yield db
    db.dispose()


def audit_entries(db: Database) -> int:
    with db.session(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(AuditEntry)) or 0


def test_a_backup_taken_during_writes_is_whole_and_its_audit_chain_verifies(store, tmp_path):
    stop = threading.Event()
    written = [0]

    def write() -> None:  # each round: a flag set and lifted, two audit entries chained
        operator = Actor.cli_operator()
        while not stop.is_set():
            with store.session() as s:
                flags.set_flag(s, operator, f"client:c{written[0]}", "at-risk", seat_id="retention", reason="x" * 200)
            with store.session() as s:
                flags.lift_flag(s, operator, f"client:c{written[0]}", "at-risk")
            written[0] += 1

    writer = threading.Thread(target=write)
    writer.start()
    copies = []
    try:
        for n in range(3):
            before = audit_entries(store)
            target = tmp_path / f"copy-{n}.db"
            made = otp(store.url, "backup", str(target))
            assert made.returncode == 0, made.stderr
            assert f"to {target}" in made.stdout and "integrity ok" in made.stdout
            copies.append((target, before, audit_entries(store)))
    finally:
        stop.set()
        writer.join(30)
    assert written[0] >= 3, "the store was not being written while the copies were taken"
    for target, before, after in copies:
        assert stat.S_IMODE(target.stat().st_mode) == 0o600  # it holds token hashes and every draft
        assert not Path(f"{target}-wal").exists()  # one file: nothing of it is left in a journal beside it
        with sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            entries = copy.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        assert before <= entries <= after  # a snapshot of one moment while the writes went on
        verified = otp(f"sqlite:///{target}", "audit", "verify")
        assert verified.returncode == 0 and f"audit log intact ({entries} entries)" in verified.stdout
    assert not list(tmp_path.glob(".*.partial"))  # no temporary file left behind


def test_an_existing_file_is_replaced_only_with_force(store, tmp_path):
    target = tmp_path / "copy.db"
    target.write_text("an older backup")
    refused = otp(store.url, "backup", str(target))
    assert refused.returncode == 2 and "exists; choose another name, or --force" in refused.stderr
    assert target.read_text() == "an older backup"
    forced = otp(store.url, "backup", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_store_that_is_not_there_is_not_created_by_a_backup(tmp_path):
    missing = tmp_path / "nowhere.db"
    result = otp(f"sqlite:///{missing}", "backup", str(tmp_path / "copy.db"))
    assert result.returncode == 2 and f"there is no database at {missing}" in result.stderr
    assert not missing.exists() and not (tmp_path / "copy.db").exists()
    assert otp(f"sqlite:///{tmp_path}/x.db", "backup", str(tmp_path)).returncode == 2  # a folder is not a file


def test_postgresql_gets_the_pg_dump_recipe_without_the_password(tmp_path):
    url = "postgresql+psycopg://otp:s3cret-pw@db.internal:5433/otp?sslmode=require"
    result = otp(url, "backup", str(tmp_path / "otp.dump"))
    assert result.returncode == 2 and not (tmp_path / "otp.dump").exists()
    assert "pg_dump --format=custom" in result.stderr and "pg_restore" in result.stderr
    assert "'postgresql://otp@db.internal:5433/otp?sslmode=require'" in result.stderr
    assert "s3cret" not in result.stderr + result.stdout


def _pg_tool(name: str) -> str | None:
    return shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)


@pytest.mark.skipif(not PG_URL, reason="runs the recipe against the suite's PostgreSQL")
def test_the_pg_dump_recipe_printed_makes_a_backup_that_restores(example_db, tmp_path):
    pg_dump, pg_restore = _pg_tool("pg_dump"), _pg_tool("pg_restore")
    if not (pg_dump and pg_restore):
        pytest.skip("the PostgreSQL client tools are not installed")
    dump = tmp_path / "otp.dump"
    said = otp(example_db.url, "backup", str(dump)).stderr
    [line] = [line for line in said.splitlines() if line.strip().startswith("pg_dump ")]
    run = subprocess.run([pg_dump, *shlex.split(line)[1:]], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    name = f"otp_restored_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        restored = make_url(example_db.url).set(database=name).render_as_string(hide_password=False)
        conninfo = make_url(restored).set(drivername="postgresql").render_as_string(hide_password=False)
        run = subprocess.run(
            [pg_restore, "--no-owner", f"--dbname={conninfo}", str(dump)], capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        verified = otp(restored, "audit", "verify")
        assert verified.returncode == 0 and f"({audit_entries(example_db)} entries)" in verified.stdout
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
