"""Which way /otp text goes: the door's plain reads and the listeners' own commands never overlap."""

from __future__ import annotations

import pytest

from otp_bot.commands.routing import draws_chart, plain_read, posts_scorecard, retire_seat


@pytest.mark.parametrize(
    "text",
    [
        "",
        "help",
        "who-owns retention",
        "who owns churn?",
        "/otp who-owns billing",
        "seat retention",
        "rules refunds",
        "chart",
        "chart retention",
        "scorecard",
        "scorecard retention --weeks 4",
        "drafts",
        "flags",
        "who-owns what's churn",  # an apostrophe, not an open quote
    ],
)
def test_reads_are_plain(text):
    assert plain_read(text)


@pytest.mark.parametrize(
    "text",
    [
        "share who-owns retention",
        "share chart",
        "chart --image",
        "org retention --IMAGE",
        "share chart --image",
        "scorecard --post",
        "otp scorecard --post",  # the rhythm listener does not take it; the door must not either
        "who-owns --post",
        "retire retention",
        "retire",
        "hire x 'X'",
        "assign retention U1",
        "kpi retention 3",
        "flag retention",
        "frobnicate",  # unknown: Bolt's listener answers with the closest command
    ],
)
def test_anything_else_is_not(text):
    assert not plain_read(text)


@pytest.mark.parametrize(
    "text", ["retire retention", "scorecard --post", "sc --post", "chart --image", "share tree x --image"]
)
def test_what_a_listener_of_its_own_takes_is_never_plain(text):
    assert retire_seat(text) or posts_scorecard(text) or draws_chart(text)
    assert not plain_read(text)
