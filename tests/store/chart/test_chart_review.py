"""The chart file declares the weekly review: validated, stored, exported, diffed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.chartfile.yaml_text import dump_chart
from otp_bot.store.domain.chart.file_import import load_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.review.meetings import review_setup
from otp_bot.store.domain.review.setup import attendees
from otp_bot.store.models import AuditEntry, ReviewSetup
from tests.support.charts import chart, write

SCORECARD = {"name": "l10", "post": "scorecard", "channel": "C0L10", "cron": "0 9 * * mon"}


def with_review(**review):
    data = chart()
    data["schedules"].append(dict(SCORECARD))
    data["review"] = {"facilitator": "bogdan", **review}
    return data


def apply(db, data):
    with db.session() as s:
        return apply_chart(s, validate_chart(data, "chart.yaml"), actor="ops", source="chart.yaml")


def problems_of(data):
    with pytest.raises(ChartErrors) as info:
        validate_chart(data, "chart.yaml")
    return dict(info.value.problems)


def test_the_review_is_stored_with_its_defaults_and_attendees_follow_the_seats(db):
    apply(db, with_review())
    with db.session() as s:
        setup = review_setup(s)
        assert setup is not None
        assert (setup.schedule, setup.facilitator_id, setup.attendees, setup.headlines_ahead) == (
            "l10",
            "bogdan",
            [],
            120,
        )
        # Every holder of an active seat, in chart order.
        assert attendees(s, setup) == ["bogdan", "janine", "pulse", "dirk"]


def test_named_attendees_and_a_duration_are_kept_as_written(db):
    apply(db, with_review(attendees=["bogdan", "pulse"], headlines_ahead="90m", scorecard="l10"))
    with db.session() as s:
        setup = s.get(ReviewSetup, 1)
        assert setup.attendees == ["bogdan", "pulse"] and setup.headlines_ahead == 90
        assert attendees(s, setup) == ["bogdan", "pulse"]
        review = export_chart(s).review
        assert review.model_dump() == {
            "scorecard": "l10",
            "facilitator": "bogdan",
            "attendees": ["bogdan", "pulse"],
            "headlines_ahead": "1h30m",
        }


def test_export_round_trips_and_an_unchanged_reimport_changes_nothing(db, tmp_path):
    apply(db, with_review(headlines_ahead="120m"))
    assert apply(db, with_review()).changes == []  # `120m` is the default `2h`; the one schedule is named
    with db.session() as s:
        exported = dump_chart(export_chart(s))
    assert "review: {scorecard: l10, facilitator: bogdan}\n" in exported
    path = write(tmp_path / "exported.yaml", exported)
    with db.session() as s:
        assert apply_chart(s, load_chart(path), actor="t", source=str(path)).changes == []


def test_a_changed_review_reads_in_the_diff_and_is_audited(db):
    apply(db, with_review())
    result = apply(db, with_review(facilitator="janine", attendees=["janine", "pulse"], headlines_ahead="3h"))
    assert [c.describe() for c in result.changes] == [
        "~ review setup: facilitator bogdan → janine; attendees (none) → [janine, pulse]; headlines_ahead 2h → 3h"
    ]
    with db.session() as s:
        assert s.get(ReviewSetup, 1).facilitator_id == "janine"
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("chart.review.%"))).all()
        assert actions == ["chart.review.added", "chart.review.changed"]


def test_a_chart_without_a_review_clears_it(db):
    apply(db, with_review())
    data = with_review()
    del data["review"]
    result = apply(db, data)
    assert [c.describe() for c in result.changes] == ["- review setup removed"]
    with db.session() as s:
        assert s.get(ReviewSetup, 1) is None and export_chart(s).review is None


def test_the_facilitator_can_leave_the_chart_with_the_review_handed_on(db):
    data = with_review(facilitator="omar")
    data["holders"].append({"id": "omar", "name": "Omar", "kind": "human"})  # holds no seat: no history
    apply(db, data)
    apply(db, with_review(facilitator="bogdan"))
    with db.session() as s:
        assert s.get(ReviewSetup, 1).facilitator_id == "bogdan"


@pytest.mark.parametrize(
    ("review", "schedules", "where", "words"),
    [
        ({"facilitator": "nobody"}, None, "review.facilitator", "unknown holder 'nobody'"),
        ({"facilitator": "pulse"}, None, "review.facilitator", "'pulse' is an agent"),
        ({"facilitator": "bogdan", "attendees": ["bogdan", "ghost"]}, None, "review.attendees[1]", "unknown holder"),
        ({"facilitator": "bogdan", "attendees": ["pulse", "pulse"]}, None, "review.attendees[1]", "listed twice"),
        ({"facilitator": "bogdan", "scorecard": "weekly"}, None, "review.scorecard", "no schedule is called 'weekly'"),
        ({"facilitator": "bogdan", "scorecard": "briefing"}, None, "review.scorecard", "posts the briefing"),
        ({"facilitator": "bogdan"}, [], "review", "add a schedule with `post: scorecard`"),
        (
            {"facilitator": "bogdan"},
            [SCORECARD, {**SCORECARD, "name": "l10-berlin"}],
            "review.scorecard",
            "2 scorecard schedules (l10, l10-berlin)",
        ),
        ({"facilitator": "bogdan", "headlines_ahead": "soon"}, None, "review.headlines_ahead", "not a duration"),
        ({"facilitator": "bogdan", "headlines_ahead": "8d"}, None, "review.headlines_ahead", "too long"),
        ({"facilitator": "bogdan", "attendees": []}, None, "review.attendees", "at least 1"),
        ({"facilitator": "bogdan", "chair": "x"}, None, "review.chair", "unknown key"),
        ({}, None, "review.facilitator", "Field required"),
    ],
)
def test_a_bad_review_is_refused_naming_the_key(review, schedules, where, words):
    data = chart()
    data["schedules"].append(dict(SCORECARD))
    if schedules is not None:
        data["schedules"] = [s for s in data["schedules"] if s["post"] != "scorecard"] + schedules
    data["review"] = review
    found = problems_of(data)
    assert where in found, found
    assert words.lower() in found[where].lower(), found


def test_a_review_problem_is_reported_beside_other_broken_fields():
    data = with_review(facilitator="pulse")
    data["seats"][0]["colour"] = "red"
    found = problems_of(data)
    assert "seats[0].colour" in found and "agent" in found["review.facilitator"]


def test_the_example_org_declares_its_review(example_db):
    with example_db.session() as s:
        setup = review_setup(s)
        assert setup is not None and setup.schedule == "scorecard" and setup.facilitator_id == "bogdan"
        assert "pulse" in attendees(s, setup) and "david" in attendees(s, setup)


def test_headlines_are_asked_of_every_person_on_an_active_seat_when_no_attendees_are_named(db):
    from otp_bot.store.domain.review import agenda

    apply(db, with_review())
    with db.session() as s:
        assert [h.id for h in agenda.attendees(s)] == ["bogdan", "janine"]  # the agents answer through MCP/API
    apply(db, with_review(attendees=["janine", "pulse"]))
    with db.session() as s:
        assert [h.id for h in agenda.attendees(s)] == ["janine"]
