"""who-owns read as a newcomer asks it: the question's own words are not the topic.

Through the real surfaces: `otp serve` answering slash commands signed as Slack signs them,
and `otp ask` run as a user runs it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otp_bot.store.db import Database
from tests.support.cli import otp
from tests.support.paths import DATA


def first_line(text: str) -> str:
    return text.strip().splitlines()[0]


@pytest.mark.parametrize(
    ("typed", "lead"),
    [
        ("who owns churn", "*Client Retention* owns _churn_."),
        ("who-owns who owns billing?", "*Accounting* owns _billing_."),
        ("who-owns Who is responsible for churn?", "*Client Retention* owns _churn_."),
        ("who-owns retenion", "*Client Retention* owns _retenion_ (matched id “retention”)."),
    ],
)
def test_the_answer_names_the_topic_not_the_question(server, typed, lead):
    status, payload = server.command(typed)
    assert status == 200
    assert first_line(payload["text"]) == lead


def test_an_option_that_does_not_belong_is_refused_with_the_usage(server):
    _, payload = server.command("who-owns retention --weeks 3")
    assert payload["text"] == (
        ":warning: who-owns takes a topic and no options: leave out `--weeks`\nUsage: `/otp who-owns &lt;topic&gt;`"
    )


def test_a_question_without_a_topic_asks_for_one(server):
    _, payload = server.command("who owns?")
    assert payload["text"].startswith(":warning: tell me the topic, e.g. `who-owns retention`")


def test_otp_ask_answers_the_topic(example_db):
    result = otp(example_db, "ask", "who owns churn?")
    assert result.returncode == 0, result.stderr
    assert first_line(result.stdout) == "Client Retention owns churn."
    refused = otp(example_db, "ask", "who-owns retention --weeks 3")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.splitlines()[0].endswith("who-owns takes a topic and no options: leave out --weeks")


DENTAL = DATA / "who_owns" / "dental-group.yaml"


@pytest.fixture(scope="module")
def dental(templates) -> Iterator[Database]:
    from tests.support.stores import cloned_store

    for db in cloned_store(templates, "empty"):
        imported = otp(db, "chart", "import", str(DENTAL))
        assert imported.returncode == 0, imported.stderr
        yield db


@pytest.mark.parametrize(
    ("typed", "lead"),
    [
        # a metric's name is searched: the seat whose metric is "Monthly collections"
        ("who-owns collections", "Revenue Cycle owns collections (matched metric “Monthly collections”)."),
        ("who-owns ＲＥＣＡＬＬ", "Patient Recall owns RECALL."),  # full-width letters
        ("who-owns noshow", "Practice Operations Director owns noshow (matched metric “No-show rate”)."),
        ("who-owns nps", "Patient Recall owns nps (matched metric “Patient NPS”)."),
        ("who-owns Clínical Director", "Clinical Director owns Clínical Director."),  # accents do not count
    ],
)
def test_otp_ask_finds_metrics_and_reads_letters_as_letters(dental, typed, lead):
    result = otp(dental, "ask", typed)
    assert result.returncode == 0, result.stderr
    assert first_line(result.stdout) == lead


def test_no_nonsense_candidates(dental, example_db):
    # "noshow" once offered the Compliance Officer, for its alias "osha".
    result = otp(example_db, "ask", "who-owns noshow")
    assert (
        result.stdout.strip()
        == 'No seat owns noshow as far as the chart says. otp ask "chart" shows every seat and what it owns.'
    )
    parking = otp(dental, "ask", "who-owns parking")
    assert parking.stdout.startswith("No seat owns parking")
