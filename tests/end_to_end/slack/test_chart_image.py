"""`/otp chart --image` through `otp serve`: the picture is drawn after the ack and uploaded
with files_upload_v2 to the asker's DM with the bot (or, shared, to the channel), and the
ephemeral answer links to it; App Home's Org chart image button does the same from a modal.
The Slack stand-in receives the upload and keeps its bytes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.support.png import png_size
from tests.support.serve import BOGDAN, STRANGER
from tests.support.slack.api import SlackAPI
from tests.support.slack.signing import block_actions_body, event_body

BOGDAN_DM = "D" + BOGDAN[1:]  # the stand-in's DM channel with a user


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {"OTP_SCHEDULER_ENABLED": "false"}


@pytest.fixture
def clean(api) -> Iterator[SlackAPI]:
    api.reset()
    yield api
    api.assert_no_rejections()


def uploaded(api: SlackAPI) -> tuple[dict, bytes]:
    (complete,) = api.wait_for("files.completeUploadExternal", timeout=60)
    (item,) = complete.args["files"]
    content = api.files[item["id"]].content
    assert content is not None
    return complete.args, content


def test_a_branch_of_ten_seats_goes_to_the_askers_dm_as_a_png(server, clean):
    api = clean
    status, ack = server.command("chart coo --image", channel_id="C0GENERAL")
    assert status == 200 and "Drawing the chart" in ack["text"]
    args, png = uploaded(api)
    assert args["channel_id"] == BOGDAN_DM  # the asker's alone, like every answer
    assert api.calls_to("conversations.open")[0].args["users"] == BOGDAN
    assert "below COO" in args["initial_comment"] and "10 seats" in args["initial_comment"]
    assert api.calls_to("files.getUploadURLExternal")[0].args["filename"] == "chart-coo.png"
    width, height = png_size(png)
    # Ten boxes of 2 by 0.8 inches at 100 dpi, with the head: about a screen, not a poster.
    assert 700 <= width <= 2000 and 700 <= height <= 2000, (width, height)
    assert 20_000 <= len(png) <= 400_000
    (note,) = api.wait_for("response_url", timeout=10)
    assert note.args["response_type"] == "ephemeral"
    assert "in your messages" in note.args["text"] and "chart-coo.png" in note.args["text"]  # the permalink


def test_shared_the_picture_goes_to_the_channel_and_nothing_else_is_said(server, clean):
    api = clean
    server.command("share chart --image", channel_id="C0GENERAL")
    args, png = uploaded(api)
    assert args["channel_id"] == "C0GENERAL" and not api.calls_to("conversations.open")
    assert "15 seats" in args["initial_comment"] and png_size(png)[0] > 700
    time.sleep(0.5)  # an ephemeral note would follow the upload at once
    assert not api.calls_to("response_url")


def test_a_channel_the_bot_is_not_in_is_named_with_the_fix(server, clean):
    api = clean
    api.fail_next("files.completeUploadExternal", error="not_in_channel")
    server.command("share chart --image", channel_id="C0ELSEWHERE")
    (note,) = api.wait_for("response_url", timeout=60)
    assert "cannot post in this channel" in note.args["text"] and "/invite @otp" in note.args["text"]
    api.take_rejections()  # the refused upload, provoked on purpose


def test_an_unknown_seat_is_answered_and_nothing_is_uploaded(server, clean):
    api = clean
    server.command("chart nosuchseat --image")
    (note,) = api.wait_for("response_url", timeout=30)
    assert "there is no seat" in note.args["text"] and note.args["response_type"] == "ephemeral"
    assert not api.calls_to("files.getUploadURLExternal")


def test_someone_not_on_the_chart_may_look_at_it(server, clean):
    api = clean
    server.command("chart --image", user=STRANGER)
    args, _ = uploaded(api)
    assert args["channel_id"] == "D" + STRANGER[1:]
    assert "in your messages" in api.wait_for("response_url", timeout=10)[0].args["text"]


def test_app_home_has_the_button_and_it_sends_the_picture(server, clean):
    api = clean
    server.send(event_body({"type": "app_home_opened", "user": BOGDAN, "tab": "home", "channel": "D0HOME"}))
    view = api.wait_for("views.publish")[0].args["view"]
    assert "otp_home_chart_image" in json.dumps(view) and "Org chart image" in json.dumps(view)

    server.send(block_actions_body(BOGDAN, "otp_home_chart_image", "", response_url=api.response_url()))
    opened = api.wait_for("views.open", timeout=10)[0]
    assert "Drawing the org chart" in json.dumps(opened.args["view"])
    args, png = uploaded(api)
    assert args["channel_id"] == BOGDAN_DM and png_size(png)[0] > 700
    updated = api.wait_for("views.update", timeout=30)[0]
    assert "in your messages" in json.dumps(updated.args["view"])
