"""`otp backup FILE`: a copy of the store that can be restored as it is.

SQLite: through SQLite's online backup API (the `sqlite3` module's `Connection.backup`),
in one step, so the copy is one read snapshot: a server writing meanwhile (WAL mode) is
neither blocked nor seen half-way. The copy is written beside FILE under a temporary name,
switched to a single-file journal, checked with `PRAGMA integrity_check`, and only then
given its name; without `force` an existing FILE is never replaced. It is readable by its
owner only: the store holds token hashes and every draft.

PostgreSQL: its own tool does this properly (a consistent snapshot, parallel, compressed),
so the command says how to run `pg_dump` for this store instead of pretending to.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupRefused(Exception):
    """The backup was not made; the message says why and what to do."""


@dataclass(frozen=True)
class BackedUp:
    source: Path
    target: Path
    size: int
    pages: int
    seconds: float


def backup(url: str, target: Path, *, force: bool = False) -> BackedUp:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        raise BackupRefused(pg_dump_recipe(url, target))
    if parsed.get_backend_name() != "sqlite":
        raise BackupRefused(f"otp backup copies SQLite stores; for {parsed.get_backend_name()}, use its own tools")
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        raise BackupRefused("the store is not a SQLite file that can be copied (OTP_DATABASE_URL)")
    source = Path(parsed.database).absolute()
    if not source.is_file():
        raise BackupRefused(f"there is no database at {source}")
    target = target.absolute()
    if target == source:
        raise BackupRefused("the backup must go to another file than the store itself")
    if target.is_dir():
        raise BackupRefused(f"{target} is a folder: name the file to write")
    if target.exists() and not force:
        raise BackupRefused(f"{target} exists; choose another name, or --force to replace it")
    if not target.parent.is_dir():
        raise BackupRefused(f"there is no folder {target.parent}")
    started = time.monotonic()
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")  # mode 0600
    os.close(fd)
    try:
        pages = _copy(source, Path(partial))
        _put_in_place(Path(partial), target, force)
    finally:
        Path(partial).unlink(missing_ok=True)
    return BackedUp(source, target, target.stat().st_size, pages, time.monotonic() - started)


def _copy(source: Path, partial: Path) -> int:
    # mode=rw: opening never creates a database where there was none.
    src = sqlite3.connect(f"{source.as_uri()}?mode=rw", uri=True, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)  # all pages in one step: one snapshot, not restarted by writers
        dst.execute("PRAGMA journal_mode = DELETE")  # the copy is one file, whatever the store's journal
        problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupRefused("the copy failed SQLite's integrity check: " + "; ".join(problems[:5]))
        return int(dst.execute("PRAGMA page_count").fetchone()[0])
    except sqlite3.Error as exc:
        raise BackupRefused(f"SQLite could not copy {source}: {exc}") from exc
    finally:
        dst.close()
        src.close()


def _put_in_place(partial: Path, target: Path, force: bool) -> None:
    if force:
        os.replace(partial, target)
        return
    try:
        os.link(partial, target)  # fails if the name was taken meanwhile: never replaces
    except FileExistsError:
        raise BackupRefused(f"{target} exists; choose another name, or --force to replace it") from None
    except OSError:  # a file system without hard links: checked, then renamed
        if target.exists():
            raise BackupRefused(f"{target} exists; choose another name, or --force to replace it") from None
        os.replace(partial, target)


def pg_dump_recipe(url: str, target: Path) -> str:
    # libpq's URL, without the driver name or the password (PGPASSWORD or ~/.pgpass give it).
    parsed = make_url(url).set(drivername="postgresql")
    conninfo = parsed._replace(password=None).render_as_string(hide_password=False)  # `set` keeps what is None
    file = shlex.quote(str(target))
    return (
        "otp backup copies SQLite stores. PostgreSQL is backed up with pg_dump, which takes a consistent\n"
        "snapshot while the server runs (the password from PGPASSWORD or ~/.pgpass):\n"
        f"  pg_dump --format=custom --file={file} {shlex.quote(conninfo)}\n"
        "Restore into a new, empty database, then check it:\n"
        f"  pg_restore --no-owner --dbname='postgresql://…/NEW_DB' {file}\n"
        "  OTP_DATABASE_URL=postgresql+psycopg://…/NEW_DB otp db current && otp audit verify"
    )
