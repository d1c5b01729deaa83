"""Holding a transaction open in a test until another one waits for a lock it holds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import event, text
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


def at_once(
    db: Database, first: Callable[[], object], then: Callable[[], object], what: str, *, pause_at: int = 1
) -> tuple[object, object]:
    """`first()` runs until it is about to take the audit chain's lock (PostgreSQL) for the
    `pause_at`-th time, so it holds every lock it took before; `then()` starts and, once it
    waits for one of them (`what` names it), `first` goes on. What each answered, or the
    exception it raised."""
    paused, go_on, answered = threading.Event(), threading.Event(), {}
    seen = [0]

    def before_the_audit_chain(_conn, _cursor, statement, *_args) -> None:
        if threading.current_thread().name == "first" and "pg_advisory_xact_lock(7331)" in statement:
            seen[0] += 1
            if seen[0] == pause_at:
                paused.set()
                go_on.wait(30)

    def run(name: str, work: Callable[[], object]) -> threading.Thread:
        def target() -> None:
            try:
                answered[name] = work()
            except Exception as exc:
                answered[name] = exc

        thread = threading.Thread(target=target, name=name)
        thread.start()
        return thread

    event.listen(db.engine, "before_cursor_execute", before_the_audit_chain)
    try:
        one = run("first", first)
        assert paused.wait(30), "the first transaction never reached the audit chain"
        two = run("then", then)
        try:
            wait_until_blocked(db, what)
        finally:
            go_on.set()
            one.join(30)
            two.join(30)
    finally:
        event.remove(db.engine, "before_cursor_execute", before_the_audit_chain)
    return answered["first"], answered["then"]
