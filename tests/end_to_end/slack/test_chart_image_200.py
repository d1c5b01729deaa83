"""`/otp chart --image` of a 200-seat company (tests/support/big_org.py) through `otp serve`:
the upload the Slack stand-in receives is a PNG a screen can open at full size, wrapped
into rows rather than one 200-box-wide line, and made within Slack's patience."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from otp_bot.store.db import Database
from tests.support.big_org import load_big_org
from tests.support.png import png_size
from tests.support.slack.api import SlackAPI
from tests.support.stores import Templates, cloned_store


@pytest.fixture(scope="module")
def server_db(templates: Templates) -> Iterator[Database]:
    stores = cloned_store(templates, "empty")
    db = next(stores)
    load_big_org(db, 200)
    yield db
    stores.close()


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {"OTP_SCHEDULER_ENABLED": "false"}


@pytest.fixture
def clean(api) -> Iterator[SlackAPI]:
    api.reset()
    yield api
    api.assert_no_rejections()


def test_two_hundred_seats_make_a_legible_png(server, clean):
    api = clean
    started = time.monotonic()
    status, ack = server.command("chart --image")
    assert status == 200 and "Drawing" in ack["text"]
    (complete,) = api.wait_for("files.completeUploadExternal", timeout=120)
    took = time.monotonic() - started
    assert "200 seats" in complete.args["initial_comment"]
    alt = api.calls_to("files.getUploadURLExternal")[0].args["alt_txt"]
    assert alt.startswith("Org chart diagram, 200 seats") and "agents (rounded boxes)" in alt
    png = api.files[complete.args["files"][0]["id"]].content
    assert png is not None
    width, height = png_size(png)
    # 200 boxes of 2 x 0.8 inches at 100 dpi (text of 8 points and more stays 11+ pixels high):
    # wrapped into rows, so neither side runs away, and well under Slack's preview limits.
    assert 2500 <= width <= 8000 and 1500 <= height <= 5000, (width, height)
    assert 1.0 <= width / height <= 3.0
    assert 200_000 <= len(png) <= 4_000_000, len(png)
    assert took < 60, f"{took:.1f} s from the command to the upload"
    assert "in your messages" in api.wait_for("response_url", timeout=10)[0].args["text"]
