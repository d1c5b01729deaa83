"""Fixtures for the stand-in's own tests: a fresh stand-in per test, and a slack-sdk client on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from tests.support.slack.api import SlackAPI


@pytest.fixture
def slack_api() -> Iterator[SlackAPI]:
    """A fresh SlackAPI per test; teardown fails the test on rejections (strict)."""
    with SlackAPI() as api:
        yield api


@pytest.fixture
def client(slack_api: SlackAPI) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack_api.url)
