"""What is derived from the chart, built once per chart version and kept per database.

Every change to seats, holders or metrics (an import, a hire, a retirement) gives the org
a new etag in the same transaction, so a value kept under (database, etag) is never
stale: the first reader after a change rebuilds it, and nobody reads the old one again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.orm import Session

from otp_bot.store.domain.chart import find_org, get_org

if TYPE_CHECKING:
    from otp_bot.store.db import Database

T = TypeVar("T")

_KEPT: dict[tuple[str, str, str], object] = {}  # (what, database, etag) -> value
_LOCK = threading.Lock()


def per_chart(session: Session, what: str, build: Callable[[Session], T]) -> T:
    """`build(session)`, or what it returned before for this database and chart version."""
    key = (what, str(session.get_bind().url), get_org(session).etag)
    with _LOCK:
        value = _KEPT.get(key)
    if value is None:
        value = build(session)  # outside the lock: two first readers may both build, harmlessly
        with _LOCK:
            for stale in [k for k in _KEPT if k[:2] == key[:2]]:
                del _KEPT[stale]
            _KEPT[key] = value
    return value  # type: ignore[return-value]


def warm(db: Database) -> None:
    """Builds what is kept for the current chart (the who-owns index, the directory), so
    that the first question after a start or a chart change does not wait for it."""
    from otp_bot.store.domain.directory import directory
    from otp_bot.store.domain.search import index_for

    with db.session(readonly=True) as session:
        if find_org(session) is not None:  # no chart yet: nothing to build
            index_for(session)
            directory(session)
