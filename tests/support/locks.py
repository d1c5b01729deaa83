"""Holding a transaction open in a test until another one waits for a lock it holds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from otp_bot.store.db import Database


def wait_until_blocked(db: Database, what: str) -> None:
    """Until another transaction waits for a lock (PostgreSQL); SQLite queues its writers
    before they read anything, so there a short pause stands in. `what` names the waiter in
    the failure."""
    if db.is_sqlite:
        time.sleep(0.3)
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with db.session(readonly=True) as s:
            waiting = s.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        time.sleep(0.01)
    raise AssertionError(f"{what} never waited for the lock")


def while_held(db: Database, hold: Callable[[Session], object], then: Callable[[], object], what: str) -> object:
    """`hold(session)` in a transaction kept open; `then()` started meanwhile and, once it
    waits for a lock (`what` names it), the first transaction commits. What `then` answered,
    or the exception it raised."""
    held, may_commit, answered = threading.Event(), threading.Event(), {}

    def first() -> None:
        with db.session() as s:
            hold(s)
            held.set()
            may_commit.wait(30)

    def second() -> None:
        try:
            answered["result"] = then()
        except Exception as exc:
            answered["result"] = exc

    one = threading.Thread(target=first)
    one.start()
    assert held.wait(30)
    two = threading.Thread(target=second)
    two.start()
    try:
        wait_until_blocked(db, what)
    finally:
        may_commit.set()
        one.join(30)
        two.join(30)
    return answered["result"]
