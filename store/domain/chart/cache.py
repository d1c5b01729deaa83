"""What is derived from the chart, built once per chart version and kept per database.

Every change to seats, holders or metrics (an import, a hire, a retirement) gives the org
a new etag in the same transaction, so a value kept under (database, etag) is never
stale: the first reader after a change rebuilds it, and nobody reads the old one again.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, cast

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.reading import find_org, get_org
from otp_bot.store.models import Org

if TYPE_CHECKING:
    from otp_bot.store.db import Database

T = TypeVar("T")

KEEP = 2  # chart versions kept per kind and database: the current one, and one a slow build may still finish
_ATTEMPTS = 3

_KEPT: dict[tuple[str, str], dict[str, object]] = {}  # (what, database) -> {etag: value}, oldest first
_BUILDERS: dict[tuple[str, str], threading.Lock] = {}
_BUILT: dict[tuple[str, str], tuple[int, float, float]] = {}  # -> builds kept, last build's seconds, its Unix time
_LOCK = threading.Lock()
_NAMES: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class KeptState:
    """What is kept of one kind for one database, as plain data for an operator's metrics."""

    what: str
    versions: int  # chart versions kept now (at most KEEP)
    builds: int  # builds kept since the process started
    last_build_seconds: float
    last_built_at: float  # Unix time


def per_chart(session: Session, what: str, build: Callable[[Session], T]) -> T:
    """`build(session)`, or what it returned before for this database and chart version."""
    place = (what, _database(session))
    etag = get_org(session).etag
    kept = _kept(place, etag)
    if kept is None:
        # A build reads through the connection, which does not flush by itself. Flushed
        # before waiting: whoever holds the builder then only reads, and never waits on us.
        session.flush()
        # One build per kind and database at a time: after a chart change, the questions
        # that arrive together wait for one build instead of each making its own.
        with _builder(place):
            kept = _kept(place, etag)
            if kept is None:
                return _build(session, place, etag, build)
    # Each `what` is built by one function, so what is kept under it is that function's T.
    return cast(T, kept)


def last_kept(session: Session, what: str) -> tuple[str, object] | None:
    """(etag, value) last kept for `what` in this database, read without a statement: for work
    done before a transaction takes its locks, which must check afterwards that `etag` is
    still the org's, and redo the work if not."""
    place = (what, str(session.get_bind().engine.url))
    with _LOCK:
        versions = _KEPT.get(place)
        if not versions:
            return None
        etag = next(reversed(versions))
        return etag, versions[etag]


def _database(session: Session) -> str:
    # The engine's URL as text names the database; rendering it costs more than the rest of a
    # look-up, so it is rendered once per engine.
    engine = session.get_bind().engine
    name = _NAMES.get(engine)
    if name is None:
        name = _NAMES[engine] = str(engine.url)
    return name


def _build(session: Session, place: tuple[str, str], etag: str, build: Callable[[Session], T]) -> T:
    version: str | None = etag
    for _ in range(_ATTEMPTS):
        started = time.perf_counter()
        value = build(session)
        # A build is several statements. On PostgreSQL each sees what has committed by
        # then, so a chart change committing part-way would mix two versions: kept only
        # when the version is the same after the build as before it.
        now = session.scalar(select(Org.etag).where(Org.id == 1))
        if now is not None and now == version:
            _keep(place, now, value, time.perf_counter() - started)
            return value
        version = now
    return value  # the chart kept changing: answer from the last read and keep nothing


def _kept(place: tuple[str, str], etag: str) -> object | None:
    with _LOCK:
        return _KEPT.get(place, {}).get(etag)


def _keep(place: tuple[str, str], etag: str, value: object, seconds: float) -> None:
    with _LOCK:
        versions = _KEPT.setdefault(place, {})
        versions[etag] = value
        while len(versions) > KEEP:
            del versions[next(iter(versions))]
        builds = _BUILT.get(place, (0, 0.0, 0.0))[0]
        _BUILT[place] = (builds + 1, seconds, time.time())


def kept_states(database: str) -> list[KeptState]:
    """What is kept for the database whose engine URL renders as `database`, by kind."""
    with _LOCK:
        return [
            KeptState(what, len(_KEPT.get((what, db), {})), builds, seconds, at)
            for (what, db), (builds, seconds, at) in sorted(_BUILT.items())
            if db == database
        ]


def _builder(place: tuple[str, str]) -> threading.Lock:
    with _LOCK:
        return _BUILDERS.setdefault(place, threading.Lock())


# What `warm` builds, by the names `index_for` and `directory` keep it under.
WARMED = ("search index", "directory")


def cold(session: Session) -> list[str]:
    """What `warm` builds that is not kept yet for the chart as it is now (nothing without a chart)."""
    org = find_org(session)
    if org is None:
        return []
    database = str(session.get_bind().engine.url)
    return [what for what in WARMED if _kept((what, database), org.etag) is None]


def warm(db: Database) -> None:
    """Builds what is kept for the current chart (the who-owns index, the directory), so
    that the first question after a start or a chart change does not wait for it."""
    from otp_bot.store.domain.chart.directory import directory
    from otp_bot.store.domain.chart.search import index_for

    with db.session(readonly=True) as session:
        if find_org(session) is not None:  # no chart yet: nothing to build
            index_for(session)
            directory(session)
