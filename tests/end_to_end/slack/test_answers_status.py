"""Colour and words agree: every metric line says, in words, what its colour says, the
header counts what the words count, and each answer that uses the colours says once what
they mean. Through `otp serve` with requests signed as Slack signs them.

In the example org this week: `retention-saves` missed its goal three weeks running (red,
off track); `clients-lost` missed it once, two weeks ago (yellow, latest on track).
"""

from __future__ import annotations

import json

import pytest

from tests.support.approvals import FAST, posted, submit, wait_until
from tests.support.serve import BOGDAN, PULSE
from tests.support.slack.signing import event_body

LEGEND = (
    "_Colours, over the last 3 weeks or months: :large_green_circle: on track in each · "
    ":large_yellow_circle: missed 1 · :red_circle: missed 2 or 3 (a period without a value counts as missed) · "
    ":white_circle: no value yet_"
)


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return FAST


def metric_lines(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("*Metrics*"))
    # An agent seat's answer ends with its trust ledger (tests/end_to_end/slack/approvals/test_ledger_slack.py).
    end = next((i for i, line in enumerate(lines) if line.startswith("*Trust ledger*")), len(lines))
    return [line for line in lines[start:end] if line]


def test_the_approval_message_shows_the_seats_off_track_metrics_in_the_same_words(server, module_db, api):
    # First in this module: before a later test records more saves.
    draft_id = submit(module_db, destination="C0CLIENTACME")
    message = posted(api, draft_id, channel="C0APPROVALS")
    context = [b for b in message.args["blocks"] if b["type"] == "context"][-1]
    texts = [e["text"] for e in context["elements"]]
    assert texts == [
        LEGEND,
        ":red_circle: At-risk clients saved: 1 (goal &gt;= 2), off track, missed 3 of the last 3 weeks",
    ]


def test_a_red_line_whose_latest_value_is_on_track_says_both(server):
    _, before = server.command("seat retention")
    assert metric_lines(before["text"]) == [
        "*Metrics* (1 of 3 off track at the latest value):",
        ":large_green_circle: At-risk clients flagged early: 7 (goal &gt;= 3), on track each of the last 3 weeks",
        ":red_circle: At-risk clients saved: 1 (goal &gt;= 2), off track, missed 3 of the last 3 weeks",
        ":large_yellow_circle: Clients lost: 0 (goal == 0), latest on track, but missed 1 of the last 3 weeks",
        LEGEND,
    ]
    # Five more saves this week: the latest value is on track, the two weeks before still missed.
    _, recorded = server.command("kpi retention-saves 5", user=PULSE)
    assert "on track" in recorded["text"]
    _, after = server.command("who-owns retention")
    assert metric_lines(after["text"])[:3] == [
        "*Metrics* (0 of 3 off track at the latest value):",
        ":large_green_circle: At-risk clients flagged early: 7 (goal &gt;= 3), on track each of the last 3 weeks",
        ":red_circle: At-risk clients saved: 6 (goal &gt;= 2), latest on track, but missed 2 of the last 3 weeks",
    ]
    assert after["text"].count("_Colours,") == 1


def test_the_scorecard_says_what_its_colours_and_marks_mean(server):
    _, payload = server.command("scorecard accounting")
    assert (
        payload["text"]
        .splitlines()[1]
        .endswith(
            " · 0 of 3 metrics off track · ✓ on track  ✗ off track  · no value · "
            "🟢 no miss in the last 3 periods  🟡 1 miss  🔴 2 or 3 (no value counts as a miss)"
        )
    )


def test_app_home_says_once_what_the_colours_mean(server, api):
    status, _, _ = server.send(event_body({"type": "app_home_opened", "user": BOGDAN, "tab": "home"}))
    assert status == 200
    home = wait_until(lambda: api.home.get(BOGDAN), what="the Home tab")
    shown = json.dumps(home)
    assert shown.count("_Colours, over the last 3 weeks") == 1
    assert "at their latest value" in shown
