"""Engines, sessions and migrations.

`Database` is the one way in: `with db.session() as s:` is a unit of work that commits
on success and rolls back on any exception, so a failed command writes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

DEFAULT_SQLITE_FILE = "otp.db"
BUSY_SECONDS = 10.0  # how long a SQLite writer waits for the write lock before "database is locked"


class StoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OTP_", env_file=".env", extra="ignore")

    database_url: str = ""

    def resolved_url(self) -> str:
        return self.database_url or f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside one writer.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
    # Checkpoint the WAL every ~40 MB instead of every ~4 MB: a batch of values spread over
    # many metrics dirties a page of each index per value, so at the default nearly every
    # batch paid a checkpoint and its syncs (bench/api_push.py: commits 5-10x faster).
    cur.execute("PRAGMA wal_autocheckpoint = 10000")
    cur.close()


class WriterQueue:
    """The writers of one process wait for SQLite's write lock in a queue of their own.

    SQLite lets one writer in at a time; the others retry in its busy handler, which sleeps
    1, 2, 5, 10, 15, 20, 25 ms and so on between tries, so a waiting push or click typically
    slept past the moment the lock came free (with two clients pushing, a third of the time
    went to those sleeps). Writers of `Database.session` blocks take this lock just before
    BEGIN IMMEDIATE and give it back when the block has committed or rolled back: the next
    one starts at once. Other processes still meet SQLite's own lock and busy handler.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """A write session's span: a BEGIN inside it waits here first."""
        local = self._local
        local.depth = getattr(local, "depth", 0) + 1
        try:
            yield
        finally:
            local.depth -= 1
            if local.depth == 0 and getattr(local, "held", False):
                local.held = False
                self._lock.release()

    def before_begin(self) -> None:
        local = self._local
        if getattr(local, "depth", 0) and not getattr(local, "held", False):
            # Bounded like SQLite's own wait: past it, BEGIN meets the lock and its error.
            local.held = self._lock.acquire(timeout=BUSY_SECONDS)


def _sqlite_begin(conn, writers: WriterQueue) -> None:
    # A deferred BEGIN lets two writers both read, then one fails on upgrade to a write
    # lock. Writers take the lock up front and queue instead; readers never take it.
    if conn.get_execution_options().get("otp_readonly"):
        conn.exec_driver_sql("BEGIN")
        return
    writers.before_begin()
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_db_engine(url: str, writers: WriterQueue | None = None) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_SECONDS})
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_transactions(dbapi_conn, _record):
            dbapi_conn.isolation_level = None

        queue = writers or WriterQueue()
        event.listen(engine, "begin", lambda conn: _sqlite_begin(conn, queue))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config  # alembic is imported only when a schema check needs it

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("otp_bot.store") / "migrations"))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


class MigrationsPending(RuntimeError):
    pass


class Database:
    def __init__(self, url: str | None = None, *, auto_migrate: bool | None = None) -> None:
        self.url = url or StoreSettings().resolved_url()
        self.writers = WriterQueue()
        self.engine = create_db_engine(self.url, self.writers)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        self._read_factory = sessionmaker(
            self.engine.execution_options(**self._read_only_options()), expire_on_commit=False
        )
        # The embedded SQLite migrates itself on first use; a shared server is migrated
        # on purpose, by `otp db upgrade`, so two processes never race a schema change.
        self._auto_migrate = self.is_sqlite if auto_migrate is None else auto_migrate
        self._ready = False
        self._lock = threading.Lock()

    @cached_property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def _read_only_options(self) -> dict[str, bool]:
        # PostgreSQL: the driver opens the transaction with BEGIN READ ONLY, no extra round trip.
        if self.engine.dialect.name == "postgresql":
            return {"postgresql_readonly": True}
        return {"otp_readonly": True}  # read by _sqlite_begin

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def upgrade(self) -> None:
        from alembic import command

        command.upgrade(alembic_config(self.engine), "head")
        self._ready = True

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(alembic_config()).get_current_head()

    def ensure_ready(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            if self.current_revision() != self.head_revision():
                if not self._auto_migrate:
                    raise MigrationsPending(
                        f"the database at {self.safe_url} is not migrated to the current schema; run `otp db upgrade`"
                    )
                self.upgrade()
            self._ready = True

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """A unit of work: commits when the block ends, rolls back on any exception.

        `readonly=True` for reads: on SQLite it does not take the write lock, on
        PostgreSQL the transaction refuses writes.
        """
        self.ensure_ready()
        if readonly:
            with self._read_factory() as session, session.begin():
                yield session
            return
        with self.writers.turn(), self._factory() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
