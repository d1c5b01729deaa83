"""What is kept per chart version: never a mix of two versions, built once when many ask
at the same time, and every kind of chart change shows in the next answer."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.cache import per_chart
from otp_bot.store.domain.chart.directory import directory, seat_card
from otp_bot.store.domain.errors import Conflict, NotFound
from otp_bot.store.domain.lifecycle import hearings, hiring
from otp_bot.store.domain.lifecycle.hearing_input import HearingInput
from otp_bot.store.models import Seat, SeatOwns
from tests.support.charts import chart, load, seat

OPERATOR = Actor.cli_operator()


def test_a_chart_change_during_a_build_is_not_mixed_into_it(db):
    """A change that commits between a build's statements (PostgreSQL's read committed
    lets the later statements see it) must not leave owners without their seats."""
    load(db, chart())
    changed: list[bool] = []

    def seats_and_owners(s):
        seats = set(s.scalars(select(Seat.id)))
        if not changed:
            with db.session() as other:
                hiring.hire(other, OPERATOR, "partnerships", "Partnerships", owns=["partner deals"])
            changed.append(True)
        return seats, set(s.scalars(select(SeatOwns.seat_id)))

    with db.session(readonly=True) as s:
        seats, owners = per_chart(s, "seats and owners", seats_and_owners)
    assert owners <= seats
    with db.session(readonly=True) as s:
        seats, owners = per_chart(s, "seats and owners", seats_and_owners)
    assert "partnerships" in seats and owners <= seats


def test_questions_arriving_together_wait_for_one_build(db):
    load(db, chart())
    builds: list[int] = []
    building = threading.Event()

    def slow_build(s):
        builds.append(1)
        building.set()
        time.sleep(0.3)
        return len(builds)

    answers: list[int] = []

    def ask() -> None:
        with db.session(readonly=True) as s:
            answers.append(per_chart(s, "slow", slow_build))

    first = threading.Thread(target=ask)
    first.start()
    building.wait(5)
    others = [threading.Thread(target=ask) for _ in range(3)]
    for t in others:
        t.start()
    for t in [first, *others]:
        t.join(10)
    assert builds == [1] and answers == [1, 1, 1, 1]


def test_a_hire_a_retirement_and_a_metric_change_show_in_the_next_read(db):
    data = chart()
    load(db, data)
    with db.session(readonly=True) as s:
        assert "growth" not in directory(s).seats
    with db.session() as s:
        hiring.hire(s, OPERATOR, "growth", "Growth", reports_to="coo", holder="janine", owns=["experiments"])
    with db.session(readonly=True) as s:
        card = directory(s).seats["growth"]
        assert (card.holder, card.reports_to, card.owns) == ("Janine", "coo", ("experiments",))
    with db.session() as s:
        hearings.retire(
            s,
            OPERATOR,
            "growth",
            HearingInput(
                decision="retire",
                moves=[("experiments", "coo")],
                reason="Merged into operations",
                findings="No numbers of its own",
                recommendation="Retire it",
            ),
        )
    with db.session(readonly=True) as s:
        assert directory(s).seats["growth"].status == "retired"
        assert "experiments" in directory(s).seats["coo"].owns
    seat(data, "accounting")["metrics"][0]["goal"] = "< 9000"
    data["seats"].append({"id": "growth", "title": "Growth", "status": "retired", "reports_to": "coo"})
    seat(data, "coo")["owns"].append("experiments")
    load(db, data)
    with db.session(readonly=True) as s:
        goal = directory(s).seats["accounting"].metrics[0]
        assert (goal.goal_op, goal.goal_value) == ("<", 9000)


def test_a_seat_added_while_answering_asks_to_ask_again(db):
    """A PostgreSQL transaction sees a seat committed after it read the chart's version; the
    answer says the chart changed rather than that there is no such seat. SQLite reads one
    snapshot throughout, so there the seat is simply not there yet."""
    load(db, chart())
    with db.session(readonly=True) as s:
        assert seat_card(s, "coo").title == "COO"
        with db.session() as other:
            hiring.hire(other, OPERATOR, "growth", "Growth", reports_to="coo")
        with pytest.raises(NotFound if db.is_sqlite else Conflict, match=r"no seat|changed while"):
            seat_card(s, "growth")
    with db.session(readonly=True) as s:
        assert seat_card(s, "growth").title == "Growth"
