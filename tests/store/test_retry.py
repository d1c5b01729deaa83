"""The one retry policy for a person's write: a database that is away is waited for, briefly;
a refusal by the rules is not retried; a retry is told it is one."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from otp_bot.bot.slack.errors import friendly
from otp_bot.store.domain.errors import Conflict
from otp_bot.store.retry import CLICKS, Backoff, is_transient

AWAY = "postgresql+psycopg://nobody@127.0.0.1:9/nothing"  # port 9 (discard): refused at once, as during a restart


@pytest.fixture(scope="module")
def away():
    engine = create_engine(AWAY)
    yield engine
    engine.dispose()


def connect(engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def test_a_database_that_stays_away_is_retried_until_the_budget_then_the_error_surfaces(away):
    calls: list[bool] = []

    def work(again: bool) -> None:
        calls.append(again)
        connect(away)

    started = time.monotonic()
    with pytest.raises(OperationalError) as info:
        Backoff(budget=0.6).run(work)
    took = time.monotonic() - started
    assert 0.55 <= took < 1.5 and len(calls) >= 3
    assert calls[0] is False and all(calls[1:])  # every attempt after a lost connection knows it is a retry
    assert is_transient(info.value)
    assert "did not answer" in friendly(info.value).text and "never recorded twice" in friendly(info.value).text


def test_a_database_that_comes_back_is_used_without_an_error(away, db):
    calls: list[bool] = []

    def work(again: bool) -> str:
        calls.append(again)
        if len(calls) < 3:
            connect(away)
        with db.session(readonly=True) as s:
            return s.scalar(text("SELECT 'ok'"))

    assert CLICKS.run(work) == "ok" and calls == [False, True, True]


@pytest.mark.parametrize(
    "error", [Conflict("already decided"), IntegrityError("x", {}, Exception("unique")), ValueError("a bug")]
)
def test_refusals_and_bugs_are_not_retried(error):
    calls = []

    def work(again: bool) -> None:
        calls.append(again)
        raise error

    with pytest.raises(type(error)):
        CLICKS.run(work)
    assert calls == [False]
