"""The /otp command core against the example org: every subcommand, good and bad input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otp_bot.commands import COMMANDS, run
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from tests.support.blockkit import assert_valid, mrkdwn_texts
from tests.support.charts import chart, seat

READER = Actor.anonymous("U0READER")
PULSE = Actor(label="Pulse", holder_id="pulse")


def ask(db, text, actor=READER):
    with db.session() as s:
        reply = run(s, actor, text)
    assert_valid(reply.to_slack())
    return reply


def test_help_lists_every_command(example_db):
    reply = ask(example_db, "help")
    for name in COMMANDS:
        assert f"/otp {name}" in reply.text
    assert ask(example_db, "").text == reply.text


def test_who_owns_retention_answers_everything_a_person_needs(example_db):
    reply = ask(example_db, "who-owns retention")
    assert reply.ok
    for expected in (
        "Client Retention",
        "Pulse (agent)",
        "accountable human: *Bogdan*",
        "Reports to:",
        "COO",
        "At-risk clients saved",
        "off track",
    ):
        assert expected in reply.text, expected
    assert reply.blocks[0]["type"] == "header"


def test_who_owns_is_unsure_offers_choices(example_db):
    reply = ask(example_db, "who-owns client")
    assert "not sure" in reply.text and reply.text.count("•") in (2, 3)


def test_who_owns_nothing_suggests_chart(example_db):
    assert "/otp chart" in ask(example_db, "who-owns pizza oven").text


def test_seat_shows_one_seat(example_db):
    reply = ask(example_db, "seat retention")
    assert "Client Retention" in reply.text and "Pulse" in reply.text


def test_chart_marks_humans_agents_and_vacancies(example_db):
    reply = ask(example_db, "chart")
    assert ":robot_face:" in reply.text and ":bust_in_silhouette:" in reply.text and "vacant" in reply.text
    branch = ask(example_db, "chart coo")
    assert "COO" in branch.text and "CEO / Founder" not in branch.text


def test_scorecard_shows_weeks_marks_and_status(example_db):
    reply = ask(example_db, "scorecard retention")
    assert "13 weeks" in reply.text and "✓" in reply.text and "✗" in reply.text
    assert "🔴" in reply.text  # the retention saves are off track in the example
    short = ask(example_db, "scorecard retention --weeks 4")
    assert "4 weeks" in short.text
    assert ask(example_db, "scorecard").ok


def test_kpi_records_for_own_seat(example_db):
    reply = ask(example_db, "kpi retention-saves 3 two saves this week", actor=PULSE)
    assert reply.ok and "Recorded 3" in reply.text and "on track" in reply.text


def test_kpi_refuses_unknown_people_and_other_seats(example_db):
    assert "can read but not record" in ask(example_db, "kpi retention-saves 3").text
    other = ask(example_db, "kpi blended-cpa 40", actor=PULSE)
    assert not other.ok and "held by Dash" in other.text


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("whoowns", "tell me the topic"),
        ("who-owns", "tell me the topic"),
        ("seat", "name one seat"),
        ("seat nope", "no seat `nope`"),
        ("seat retension", "did you mean `retention`"),
        ("seat a b", "name one seat id"),
        ("chart nope", "no seat"),
        ("chart a b", "at most one seat"),
        ("scorecard --weeks", "needs a value"),
        ("scorecard --weeks 0", "from 1 to 52"),
        ("scorecard --weeks many", "from 1 to 52"),
        ("scorecard --page 999", "--page takes a number"),
        ("scorecard --colour red", "unknown option --colour"),
        ("kpi", "name the metric and the value"),
        ("kpi retention-saves", "name the metric and the value"),
        ("kpi nope 3", "no metric `nope`"),
        ("kpi retention-saves lots", "not a number"),
        ("kpi retention-saves 3 --period 2026-W99", "not a week"),
        ("scorcard", "did you mean `/otp scorecard"),
        ("frobnicate", "not a command I know"),
        ('who-owns "unclosed', None),
    ],
)
def test_bad_input_gets_usage_and_a_hint_not_a_traceback(example_db, text, words):
    reply = ask(example_db, text, actor=PULSE)
    if words:
        assert words.lower() in reply.text.lower(), reply.text
        assert not reply.ok


def test_usage_line_is_shown_for_bad_arguments(example_db):
    reply = ask(example_db, "scorecard --weeks 0")
    assert "Usage: `/otp scorecard" in reply.text


def test_a_failed_command_writes_nothing(example_db):
    ask(example_db, "kpi retention-saves 3 --period 2999-W01", actor=PULSE)
    from sqlalchemy import func, select

    from otp_bot.store.models import MetricValue

    with example_db.session() as s:
        before = s.scalar(select(func.count()).select_from(MetricValue))
    ask(example_db, "kpi retention-saves nope", actor=PULSE)
    with example_db.session() as s:
        assert s.scalar(select(func.count()).select_from(MetricValue)) == before


def test_mentions_and_links_in_data_are_inert(db):
    data = chart()
    seat(data, "retention")["title"] = "<!channel> Retention & <http://evil.example|bank.com>"
    seat(data, "retention")["aliases"] = ["<@U123> churn"]
    with db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
    for text in ("who-owns retention", "chart", "scorecard", "seat retention", "who-owns churn"):
        reply = ask(db, text)
        # mrkdwn is where Slack parses mentions and links; plain_text (headers) never is.
        shown = "\n".join([reply.text, *mrkdwn_texts(reply.blocks)])
        assert "<!channel>" not in shown and "<http://evil" not in shown and "<@U123>" not in shown, text
        assert "&lt;!channel&gt;" in shown or "&lt;@U123&gt;" in shown, text


def test_no_chart_yet_is_a_clear_message(db):
    reply = ask(db, "who-owns retention")
    assert not reply.ok and "no chart yet" in reply.text


def test_big_org_stays_within_slack_limits(db):
    data = chart()
    data["seats"] += [
        {
            "id": f"s{i}",
            "title": f"Seat number {i} with a long title to fill the line",
            "reports_to": "coo",
            "metrics": [{"id": f"m{i}", "name": f"Metric {i}", "goal": ">= 1"}],
        }
        for i in range(1000)
    ]
    with db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
    chart_reply = ask(db, "chart coo")
    assert "more seats" in str(chart_reply.blocks[-1])
    assert ask(db, "scorecard").ok and "Page 1 of" in ask(db, "scorecard").text
    assert ask(db, "scorecard --page 80").ok


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.text(max_size=80),
        st.builds(
            lambda c, rest: f"{c} {rest}",
            st.sampled_from([*sorted(COMMANDS), "kpi retention-saves", "scorecard retention"]),
            st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
        ),
    )
)
def test_no_command_text_produces_a_traceback(example_db, text):
    with example_db.session() as s:
        reply = run(s, PULSE, text)
        s.rollback()
    assert reply.text
    assert_valid(reply.to_slack())
