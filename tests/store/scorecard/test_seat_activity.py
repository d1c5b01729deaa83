"""Each seat's last recorded value (seat_activity): written with the values, in their
transaction, only forward; filled from the stored values by migration 0027."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from alembic import command
from sqlalchemy import func, select

from otp_bot.store.db import Database, alembic_config
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.scorecard import seat_activity
from otp_bot.store.domain.scorecard.metrics import Value, record_value, record_values
from otp_bot.store.models import Metric, MetricValue, Seat, SeatActivity

OPERATOR = Actor.cli_operator()


def activity(db: Database) -> dict[str, dt.datetime]:
    with db.session(readonly=True) as s:
        return {seat: as_utc(at) for seat, at in s.execute(select(SeatActivity.seat_id, SeatActivity.last_value_at))}


def last_recorded(db: Database) -> dict[str, dt.datetime]:
    """Each seat's latest value, read from the values themselves."""
    with db.session(readonly=True) as s:
        rows = s.execute(
            select(Metric.seat_id, func.max(MetricValue.recorded_at))
            .join(MetricValue, MetricValue.metric_id == Metric.id)
            .group_by(Metric.seat_id)
        )
        return {seat: as_utc(at) for seat, at in rows}


def plain_metrics(db: Database) -> list[tuple[str, str]]:
    """(metric, seat) of every metric that takes values by hand, on an active seat."""
    with db.session(readonly=True) as s:
        rows = s.execute(
            select(Metric.id, Metric.seat_id)
            .join(Seat, Seat.id == Metric.seat_id)
            .where(
                Metric.formula.is_(None),
                Metric.gate_figure.is_(None),
                Metric.review_figure.is_(None),
                Seat.status == "active",
            )
            .order_by(Metric.id)
        )
        return [(m, seat) for m, seat in rows]


def test_the_migration_fills_every_seat_from_the_values_stored(example_db):
    expected = last_recorded(example_db)
    assert len(expected) > 10
    cfg = alembic_config(example_db.engine)
    command.downgrade(cfg, "0026")
    command.upgrade(cfg, "head")
    assert activity(example_db) == expected


def test_each_push_moves_its_seats_forward(example_db):
    metrics = plain_metrics(example_db)
    (m1, seat1), (m2, seat2) = metrics[0], next(ms for ms in metrics if ms[1] != metrics[0][1])
    before = activity(example_db)
    with example_db.session() as s:
        record_values(s, OPERATOR, [Value(m1, 3), Value(m2, 4)])
    after = activity(example_db)
    assert after[seat1] > before[seat1] and after[seat2] > before[seat2]
    assert {seat: after[seat] for seat in (seat1, seat2)} == {
        seat: last_recorded(example_db)[seat] for seat in (seat1, seat2)
    }
    assert {k: v for k, v in after.items() if k not in (seat1, seat2)} == {
        k: v for k, v in before.items() if k not in (seat1, seat2)
    }
    with example_db.session() as s:  # one value at a time (`/otp kpi`) moves it as well
        recorded = record_value(s, OPERATOR, m1, 5)
        at = as_utc(recorded.value.recorded_at)
    assert activity(example_db)[seat1] == at


def test_a_duplicate_moves_nothing_and_an_earlier_time_never_moves_it_back(example_db):
    (metric, seat), *_ = plain_metrics(example_db)
    with example_db.session() as s:
        record_values(s, OPERATOR, [Value(metric, 3, key="once")])
    first = activity(example_db)[seat]
    with example_db.session() as s:
        (result,) = record_values(s, OPERATOR, [Value(metric, 3, key="once")]).results
        assert result.outcome == "duplicate"
    assert activity(example_db)[seat] == first
    with example_db.session() as s:  # a push that began earlier and commits later
        seat_activity.note_values(s, [seat], first - dt.timedelta(minutes=5))
    assert activity(example_db)[seat] == first


def test_a_push_that_does_not_commit_leaves_no_trace(example_db):
    (metric, _), *_ = plain_metrics(example_db)
    before = activity(example_db)

    def push_then_fail() -> None:
        with example_db.session() as s:
            record_values(s, OPERATOR, [Value(metric, 3)])
            raise RuntimeError("the request failed after the values")

    with pytest.raises(RuntimeError):
        push_then_fail()
    assert activity(example_db) == before


def test_single_values_and_pushes_for_the_same_seat_at_once_all_land(example_db):
    # On PostgreSQL both hold the seat's row and the audit chain's lock until they commit:
    # taken in opposite orders, the two would deadlock and one of them fail.
    metrics = plain_metrics(example_db)
    seat = next(s for _, s in metrics if sum(1 for _, other in metrics if other == s) >= 2)
    single, *others = [m for m, s in metrics if s == seat]
    failures: list[BaseException] = []
    rounds = 40

    def push() -> None:
        for n in range(rounds):
            with example_db.session() as s:
                record_values(s, OPERATOR, [Value(m, 1, key=f"push-{n}") for m, _ in metrics if m != single])

    def one_at_a_time() -> None:
        for n in range(rounds):
            with example_db.session() as s:
                record_value(s, OPERATOR, single, 1, key=f"single-{n}")

    def run(work) -> None:
        try:
            work()
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(work,)) for work in (push, one_at_a_time)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures
    assert others and activity(example_db) == last_recorded(example_db)
