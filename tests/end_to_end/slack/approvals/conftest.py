"""One `otp serve` per module with fast timers and callbacks allowed to loopback; each test
leaves the outbox drained and the stand-in without rejections."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.approvals import FAST, settled, wait_until
from tests.support.receivers import Callbacks


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return FAST


@pytest.fixture(autouse=True)
def clean_api(api, module_db):
    # Messages stay, as in Slack: a worker may still update an earlier test's approval message.
    api.reset(keep_messages=True)
    yield
    # Let the worker finish what this test set off, so it does not spill into the next one.
    wait_until(lambda: settled(module_db), timeout=60, what="the outbox to drain")
    api.assert_no_rejections()


@pytest.fixture
def callbacks() -> Iterator[Callbacks]:
    c = Callbacks()
    yield c
    c.close()
