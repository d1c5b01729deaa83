"""The directory kept per chart version: who a Slack user is, and the seats above a seat."""

from __future__ import annotations

from sqlalchemy import select

from otp_bot.store.domain.actors import Actor, actor_for_slack_user
from otp_bot.store.domain.chart.directory import directory
from otp_bot.store.domain.chart.reading import reporting_line
from otp_bot.store.domain.lifecycle.holders import assign
from otp_bot.store.models import Seat
from tests.support.charts import chart, load


def test_a_slack_user_is_known_until_the_chart_moves_them(db):
    data = chart()
    load(db, data)
    with db.session(readonly=True) as s:
        assert actor_for_slack_user(s, "U02ACC").holder_id == "janine"
        assert actor_for_slack_user(s, "U0NOBODY").holder_id is None
    data["holders"][1]["slack_user"] = "U0JANINE2"
    load(db, data)
    with db.session(readonly=True) as s:
        assert actor_for_slack_user(s, "U02ACC").holder_id is None
        assert actor_for_slack_user(s, "U0JANINE2").holder_id == "janine"


def test_a_profile_email_is_matched_when_the_slack_id_is_not(db):
    load(db, chart())
    with db.session(readonly=True) as s:
        assert actor_for_slack_user(s, "U0NEWPHONE", "Bogdan@Example.com").holder_id == "bogdan"
        assert actor_for_slack_user(s, "U0NEWPHONE", "nobody@example.com").holder_id is None


def test_without_a_chart_everyone_is_a_reader(db):
    with db.session(readonly=True) as s:
        assert actor_for_slack_user(s, "U02ACC") == Actor.anonymous("U02ACC")


def test_the_line_above_every_seat_is_the_live_reporting_line(example_db):
    with example_db.session(readonly=True) as s:
        seats = s.scalars(select(Seat)).all()
        kept = directory(s)
        assert len(seats) > 10
        for seat in seats:
            assert [x.id for x in kept.line_above(seat.id)] == [x.id for x in reporting_line(s, seat)]


def test_a_reassigned_seat_shows_its_new_holder_in_the_next_answer(db):
    data = chart()
    load(db, data)
    with db.session(readonly=True) as s:
        assert directory(s).seats["accounting"].holder == "Janine"
    with db.session() as s:
        assign(s, Actor.cli_operator(), "accounting", "bogdan")
    with db.session(readonly=True) as s:
        assert directory(s).seats["accounting"].holder == "Bogdan"
