"""Where the trust ledger shows, after the scripted week at the example org's gate: the daily
briefing's warnings, `/otp seat`, App Home and the weekly scorecard post; text from data
escaped; the rejection reasons only for the seat's readers."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from otp_bot.bot.runtime.rhythm_posts import RhythmPoster
from otp_bot.bot.slack.client import make_client
from otp_bot.bot.slack.views.home import home_view
from otp_bot.commands import run
from otp_bot.commands.briefing import briefing_message
from otp_bot.commands.views.ledger import duration, ledger_section
from otp_bot.commands.views.scorecard_post import scorecard_message
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.gate import drafts
from otp_bot.store.domain.gate.ledger import seat_ledger
from otp_bot.store.domain.rhythm import manual_runs, schedule_plans
from otp_bot.store.domain.rhythm.daily_briefing import as_dict, daily_briefing
from otp_bot.store.domain.rhythm.overview import overview_for
from otp_bot.store.domain.scorecard.review import weekly_review
from tests.support.blockkit import assert_valid
from tests.support.ledger_week import PRICE, PUSHY, WRONG_NAME, play_week
from tests.support.slack.api import SlackAPI

TOKEN = "xoxb-test-token"

BOGDAN = Actor(label="Bogdan", holder_id="bogdan")
DAVID = Actor(label="David", holder_id="david")
JANINE = Actor(label="Janine", holder_id="janine")


@pytest.fixture
def week(example_db):
    now = utcnow().replace(microsecond=0)
    play_week(example_db, now)
    return example_db, now


def test_durations_read_in_their_unit():
    assert [duration(s) for s in (None, 5.5, 89, 90, 1200, 5399, 5400, 172_799, 172_800)] == [
        "–",
        "6 s",
        "89 s",
        "2 min",
        "20 min",
        "90 min",
        "2 h",
        "48 h",
        "2 d",
    ]


def test_the_briefing_warns_of_a_rubber_stamp_and_rising_rejections(week):
    db, now = week
    with db.session(readonly=True) as s:
        b = daily_briefing(s, now)
        data = as_dict(b)
    assert not b.quiet
    message = briefing_message(b, threaded=False)
    assert_valid({"text": message.text, "blocks": message.blocks})
    text = message.full_text
    assert "*Rubber-stamp warning (1)*: approving nearly everything, unedited, in seconds" in text
    assert (
        "• *David* approved 10 of 10 decisions unedited (100%), a median of 6 s after the approval message was posted"
        in text
    )
    assert "*Rejections rising (1)*" in text
    assert (
        "• *Sales Pipeline* (`sales`): 3 of 5 drafts rejected in the last 7 days (60%), against 0 of 5 (0%) "
        "in the 30 days before. `/otp seat sales`"
    ) in text
    assert "2 gate warnings" in message.text
    assert data["rubber_stamps"]["items"][0] | {"median_seconds": 5.5} == {
        "holder_id": "david",
        "approver": "David",
        "decisions": 10,
        "unedited": 10,
        "median_seconds": 5.5,
    }
    assert data["rising_rejections"]["items"][0]["seat_id"] == "sales"


def test_a_quiet_gate_warns_of_nothing(example_db):
    with example_db.session(readonly=True) as s:
        b = daily_briefing(s)
    assert b.stamps == [] and b.rising == []
    assert "Rubber-stamp" not in briefing_message(b, threaded=False).full_text


def test_otp_seat_shows_the_ledger_and_the_reasons_to_its_readers(week):
    db, _ = week
    with db.session() as s:
        mine = run(s, BOGDAN, "seat retention")
        other = run(s, JANINE, "seat retention")
        human = run(s, BOGDAN, "seat accounting")
    assert_valid({"text": mine.text, "blocks": mine.blocks})
    assert "*Trust ledger*, drafts of the last 30 days:" in mine.text
    assert "6 submitted · 4 of 5 decided approved (80%) · 60% approved unedited · median edit 11 chars" in mine.text
    assert "Time to decision: median 20 min, p90 60 min · 2 rounds of changes on 1 draft" in mine.text
    assert "• `retention-outreach`: 4 submitted, 75% approved, 50% unedited, median 22 min" in mine.text
    assert "• `win-back`: 2 submitted, 100% approved, 100% unedited, median 20 min" in mine.text
    assert f"Rejected for: _{PUSHY}_ (1×)" in mine.text
    assert "Trust ledger" in json.dumps(mine.blocks)
    # Janine is on the chart, not above retention: the figures, not what people wrote.
    assert "6 submitted" in other.text and "Rejected for" not in other.text and PUSHY not in other.text
    assert "Trust ledger" not in human.text  # a seat a person holds has no ledger


def test_a_seat_without_drafts_says_so(example_db):
    with example_db.session() as s:
        reply = run(s, BOGDAN, "seat analytics")
    assert "_No drafts in the last 30 days._" in reply.text


def test_data_in_the_ledger_is_escaped(example_db):
    now = utcnow().replace(microsecond=0)
    pulse = Actor(label="Pulse", holder_id="pulse")
    with example_db.session() as s:
        draft = drafts.submit_draft(
            s, pulse, seat_id="retention", kind="outreach", subject="client:acme", title="t", body="b", now=now
        ).draft
        from otp_bot.store.domain.gate import decisions

        decisions.decide(s, BOGDAN, draft.id, "reject", reason="<!channel> *now* & <http://evil|bank>", now=now)
        text = ledger_section(seat_ledger(s, "retention", now=now + dt.timedelta(minutes=1)), reasons=True)
    assert "&lt;!channel&gt;" in text and "&amp;" in text and "<!channel>" not in text and "<http" not in text
    assert "*now*" not in text  # formatting characters from data are inert


def test_app_home_shows_the_ledgers_of_the_agents_one_answers_for(week):
    db, _ = week
    with db.session(readonly=True) as s:
        bogdan = home_view(overview_for(s, BOGDAN), "U02BGD4N8RM")
        david = home_view(overview_for(s, DAVID), "U02DSTL7K1Q")
        janine = home_view(overview_for(s, JANINE), "U03JNN2W5TA")
    assert_valid(bogdan, view=True)
    shown = json.dumps(bogdan, ensure_ascii=False)
    # Bogdan supervises Pulse (retention); Dirk (sales) and Pepper (inbox) answer to David.
    assert "Trust ledger · Client Retention" in shown and PUSHY in shown
    assert "Trust ledger · Sales" not in shown
    david_shown = json.dumps(david, ensure_ascii=False)
    assert "Trust ledger · Sales Pipeline" in david_shown and PRICE in david_shown
    assert "10 submitted · 7 of 10 decided approved (70%) · 50% approved unedited · median edit 9 chars" in david_shown
    assert WRONG_NAME in david_shown
    assert "Trust ledger" not in json.dumps(janine, ensure_ascii=False)


def test_the_scorecard_post_has_a_gate_line_per_agent_seat(week):
    db, _ = week
    with db.session(readonly=True) as s:
        review = weekly_review(s)
    message = scorecard_message(review, run_id=None, threaded=False)
    assert_valid({"text": message.text, "blocks": message.blocks})
    gate = next(b["text"]["text"] for b in message.blocks if "At the gate" in json.dumps(b))
    assert gate.splitlines() == [
        "*At the gate, drafts of the last 7 days*",
        "• *Client Retention* (Pulse): 6 submitted · 80% approved · 60% unedited · median 20 min to decision",
        "• *Sales Pipeline* (Dirk): 5 submitted · 40% approved · 40% unedited · median 15 min to decision",
        "• *Inbox* (Pepper): 10 submitted · 70% approved · 50% unedited · median 9 min to decision",
    ]


@pytest.mark.parametrize(
    ("post", "channel", "expected"),
    [
        ("briefing", "C0LEADERSHIP", "• *David* approved 10 of 10 decisions unedited (100%), a median of 6 s"),
        ("scorecard", "C0L10", "• *Sales Pipeline* (Dirk): 5 submitted · 40% approved · 40% unedited · median 15 min"),
    ],
)
def test_the_scheduled_posts_carry_the_gate_to_slack(week, post, channel, expected):
    db, _ = week
    with SlackAPI(tokens=[TOKEN]) as api:  # strict: a payload Slack would refuse fails the test
        with db.session() as s:
            taken = manual_runs.run_now(s, schedule_plans.get_plan(s, post), started_by="operator:test")
        assert RhythmPoster(db, make_client(TOKEN, api.url)).perform(taken.claim).status == "posted"
        (main,) = [m for m in api.messages[channel] if "thread_ts" not in m]
    assert expected in json.dumps(main["blocks"], ensure_ascii=False)
