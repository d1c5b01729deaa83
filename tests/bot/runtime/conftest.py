"""A fresh Slack stand-in per test for the worker and scheduler tests (they count every call), and a poster on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otp_bot.bot.runtime.rhythm_posts import RhythmPoster
from otp_bot.bot.slack.client import make_client
from tests.support.schedules import TOKEN
from tests.support.slack.api import SlackAPI


@pytest.fixture
def api() -> Iterator[SlackAPI]:
    # A fresh stand-in per test (not the module's): these tests count every call.
    with SlackAPI(tokens=[TOKEN]) as api:
        yield api


@pytest.fixture
def poster(example_db, api) -> RhythmPoster:
    return RhythmPoster(example_db, make_client(TOKEN, api.url))
