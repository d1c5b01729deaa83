"""The weekly scorecard post: the PNG heat-map (a real PNG, readable size), uploaded with
files_upload_v2 through the local Slack stand-in; the text fallback when the upload fails;
`/otp scorecard --post` and the Raise issue button end to end against `otp serve`."""

from __future__ import annotations

import io
import json
import struct
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from otp_bot.bot.runtime.rhythm_posts import RhythmPoster
from otp_bot.bot.slack.client import make_client
from otp_bot.commands.views import scorecard_image
from otp_bot.commands.views.scorecard_image import render_png
from otp_bot.commands.views.scorecard_post import RAISE_ACTION, scorecard_message
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.errors import Forbidden, Invalid
from otp_bot.store.domain.review.metric_issues import raise_from_metric
from otp_bot.store.domain.rhythm import due_runs, manual_runs, run_claims, schedule_plans
from otp_bot.store.domain.scorecard.metrics import record_value
from otp_bot.store.domain.scorecard.review import weekly_review
from otp_bot.store.models import AuditEntry, Issue, ScheduleRun
from tests.support.blockkit import assert_valid
from tests.support.serve import BOGDAN, STRANGER, TOKEN
from tests.support.slack.api import SlackAPI
from tests.support.slack.signing import block_actions_body

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# ---------------------------------------------------------------- the image


def test_the_chart_image_is_a_png_of_a_readable_size(example_db):
    with example_db.session(readonly=True) as s:
        review = weekly_review(s)
    data = render_png(review)
    width, height = png_size(data)
    assert 1200 <= width <= 2400 and 600 <= height <= 6000  # one row per metric, legible when Slack scales it
    assert 20_000 < len(data) < 2_000_000
    assert len(review.rows) == 43 and review.rows[0].off_track  # off-track rows come first
    smaller = render_png(review, max_rows=5)
    assert png_size(smaller)[1] < height  # the height follows the rows shown


def test_every_cell_of_the_image_has_its_weeks_colour(example_db):
    from PIL import Image, ImageColor

    with example_db.session(readonly=True) as s:
        review = weekly_review(s)
    image = Image.open(io.BytesIO(render_png(review, dpi=110))).convert("RGB")
    width, _ = image.size
    cols, dpi = len(review.weeks), 110
    left, cell_w = scorecard_image.GRID[0] * width, scorecard_image.GRID[1] * width / cols
    top, cell_h = scorecard_image.ABOVE_IN * dpi, scorecard_image.ROW_IN * dpi
    colours = [ImageColor.getrgb(c) for c in scorecard_image.COLORS]
    seen = set()
    for i, r in enumerate(review.rows[: scorecard_image.MAX_ROWS]):
        for j, mark in enumerate(r.by_week(review.weeks)):
            shade = scorecard_image.SHADE[mark]
            assert image.getpixel((int(left + (j + 0.5) * cell_w), int(top + (i + 0.5) * cell_h))) == colours[shade]
            seen.add(shade)
    assert seen == {0, 1, 2}  # the example has weeks on track, off track and without a value
    # The labels are drawn: dark text left of the grid on each row, nothing but white far right.
    row_band = image.crop((0, int(top), int(left), int(top + cell_h)))
    assert row_band.convert("L").getextrema()[0] < 128
    assert image.getpixel((width - 2, image.size[1] - 2)) == (255, 255, 255)


def test_the_post_lists_off_track_rows_first_with_a_raise_issue_button_each(example_db):
    with example_db.session(readonly=True) as s:
        review = weekly_review(s)
    message = scorecard_message(review, run_id=7)
    assert_valid({"text": message.text, "blocks": message.blocks})
    buttons = [b["accessory"] for b in message.blocks if b.get("accessory")]
    assert len(buttons) == len(review.off_track) == 4
    assert [b["value"] for b in buttons] == [f"7:{r.row.metric.id}" for r in review.off_track]
    assert len({b["action_id"] for b in buttons}) == 4 and all(
        b["action_id"].startswith(RAISE_ACTION) and b["text"]["text"] == "Raise issue" for b in buttons
    )
    # Every seat's metrics × 13 weeks are in the thread, in the /otp scorecard layout.
    thread = json.dumps(message.replies)
    assert all(seat.title.split(" /")[0] in thread for seat in review.seats)
    for reply in message.replies:
        assert_valid(reply)


def test_a_big_org_shows_its_furthest_misses_and_first_seats_and_counts_them_all(example_db):
    with example_db.session(readonly=True) as s:
        whole = weekly_review(s)
        review = weekly_review(s, detail_seats=3, detail_misses=2)
    assert (review.metrics, review.off_track_count, review.seat_count) == (43, 4, whole.seat_count)
    # The two furthest misses, then the first three seats' metrics, in chart order.
    assert [r.row.metric.id for r in review.off_track] == [r.row.metric.id for r in whole.off_track[:2]]
    assert [s.id for s in review.seats] == [s.id for s in whole.seats[:3]]
    assert {r.seat.id for r in review.rows if not r.off_track} <= {s.id for s in review.seats}
    message = scorecard_message(review, run_id=1)
    assert_valid({"text": message.text, "blocks": message.blocks})
    text = json.dumps(message.blocks)
    assert "*4* of 43 metrics off track" in text and "and 2 more off track" in text
    assert f"and {whole.seat_count - 3} more seats" in json.dumps(message.replies[-1])
    data = render_png(review)
    assert png_size(data)[1] < png_size(render_png(whole))[1]


# ---------------------------------------------------------------- posting, through the stand-in


@pytest.fixture
def local_api() -> Iterator[SlackAPI]:
    with SlackAPI(tokens=[TOKEN]) as api:
        yield api


@pytest.fixture
def poster(example_db, local_api) -> RhythmPoster:
    return RhythmPoster(example_db, make_client(TOKEN, local_api.url))


def run_scorecard(db, poster: RhythmPoster) -> tuple[run_claims.Claim, object]:
    with db.session() as s:
        taken = manual_runs.run_now(s, schedule_plans.get_plan(s, "scorecard"), started_by="operator:test")
    return taken.claim, poster.perform(taken.claim)


def test_the_image_is_uploaded_with_files_upload_v2(example_db, local_api, poster):
    claim, outcome = run_scorecard(example_db, poster)
    assert outcome.status == "posted" and outcome.note is None
    (upload,) = local_api.files.values()
    assert upload.completed and upload.channels == ["C0L10"] and upload.filename == f"scorecard-{claim.period}.png"
    assert upload.content[:8] == PNG_SIGNATURE and png_size(upload.content)[0] >= 1200
    assert upload.title.startswith("Scorecard ") and "metrics off track" in upload.initial_comment
    methods = [c.method for c in local_api.calls]
    assert (
        methods.index("chat.postMessage")
        < methods.index("files.getUploadURLExternal")
        < methods.index("upload_url")
        < methods.index("files.completeUploadExternal")
    )
    (main,) = [m for m in local_api.messages["C0L10"] if "thread_ts" not in m]
    assert main["metadata"]["event_payload"]["key"] == claim.key
    tables = [m for m in local_api.messages["C0L10"] if m.get("thread_ts") == main["ts"]]
    assert tables and "Client Retention" in json.dumps([t["blocks"] for t in tables])
    with example_db.session(readonly=True) as s:
        run = s.get(ScheduleRun, claim.id)
        assert (run.status, run.file_id, run.posted_ts) == ("posted", upload.id, main["ts"])


@pytest.mark.parametrize(
    "failure", [{"status": 500}, {"error": "not_allowed_token_type"}], ids=["slack down", "slack refuses"]
)
def test_a_failed_upload_falls_back_to_the_picture_as_text(example_db, local_api, poster, failure):
    local_api.fail_next("files.completeUploadExternal", **failure)
    claim, outcome = run_scorecard(example_db, poster)
    assert outcome.status == "posted" and "text fallback posted" in outcome.note
    assert not [f for f in local_api.files.values() if f.completed]
    (main,) = [m for m in local_api.messages["C0L10"] if "thread_ts" not in m]
    (fallback,) = [m for m in local_api.messages["C0L10"] if m.get("subtype") == "thread_broadcast"]
    assert fallback["thread_ts"] == main["ts"] and "could not be uploaded" in fallback["text"]
    assert "✗✗✗  At-risk clients saved · Client Retention" in fallback["text"]  # the rows the image shows
    with example_db.session(readonly=True) as s:
        run = s.get(ScheduleRun, claim.id)
        assert run.status == "posted" and run.file_id is None and "image not uploaded" in run.note
    local_api.take_rejections()  # the refused completion was provoked on purpose


def test_a_retry_after_the_upload_neither_posts_nor_uploads_again(example_db, local_api, poster):
    claim, _ = run_scorecard(example_db, poster)
    with example_db.session() as s:  # as if the process died after the upload, before marking the run posted
        s.get(ScheduleRun, claim.id).status = "claimed"
        s.get(ScheduleRun, claim.id).locked_until = claim.claimed_at
        (again,) = due_runs.take_over(s)
    assert again.file_id and again.posted_ts
    before = len(local_api.calls_to("chat.postMessage"))
    assert poster.perform(again).status == "posted"
    assert len(local_api.files) == 1 and not local_api.calls_to("files.getUploadURLExternal")[1:]
    # Only the thread replies were looked up (and found): nothing new in the channel.
    assert len(local_api.calls_to("chat.postMessage")) == before
    assert len([m for m in local_api.messages["C0L10"] if "thread_ts" not in m]) == 1


def test_a_miss_raises_one_issue_owned_by_its_seat_and_only_while_off_track(example_db):
    with example_db.session() as s:
        bogdan = Actor(label="Bogdan", holder_id="bogdan")
        first = raise_from_metric(s, bogdan, "retention-saves")
        again = raise_from_metric(s, Actor(label="David", holder_id="david"), "retention-saves")
        assert again.id == first.id and again.raised_by == "holder:bogdan"
        assert (first.seat_id, first.source, first.status, first.title) == (
            "retention",  # Pulse's seat owns it, not the person who clicked
            "metric",
            "open",
            "At-risk clients saved off track",
        )
        assert first.period is not None and first.value is not None and first.goal
        with pytest.raises(Invalid, match="not off track now"):
            raise_from_metric(s, bogdan, "early-flags")
        with pytest.raises(Forbidden, match="only people on the chart"):
            raise_from_metric(s, Actor.anonymous("U0STRANGER"), "blended-cpa")
        with pytest.raises(Forbidden, match="raise_issue"):  # an agent says what the issue is about
            raise_from_metric(s, Actor(label="Pulse", holder_id="pulse"), "blended-cpa")
        operator = raise_from_metric(s, Actor.cli_operator(), "blended-cpa")
        assert operator.rank == first.rank + 1  # at the bottom of the open list
        raised = s.scalars(select(AuditEntry).where(AuditEntry.action == "issue.raised")).all()
        assert [(e.subject, e.detail["source"], e.detail["metric"]) for e in raised] == [
            (f"issue:{first.id}", "metric", "retention-saves"),
            (f"issue:{operator.id}", "metric", "blended-cpa"),
        ]


# ---------------------------------------------------------------- end to end, against otp serve


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {"OTP_SCHEDULER_ENABLED": "false", "OTP_POLL_SECONDS": "0.1"}


@pytest.fixture(autouse=False)
def clean(api, module_db) -> Iterator[SlackAPI]:
    api.reset()
    yield api
    # A post goes on after its first message (the image, then the thread): it ends here, not
    # in the next test's stand-in, reset by then.
    wait_for(lambda: _no_post_under_way(module_db), timeout=30)
    api.assert_no_rejections()


def _no_post_under_way(db) -> bool:
    with db.session(readonly=True) as s:
        return not s.scalar(select(func.count()).select_from(ScheduleRun).where(ScheduleRun.status == "claimed"))


def wait_for(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_otp_scorecard_post_and_the_raise_issue_button(server, clean, module_db):
    api = clean
    status, body = server.command("scorecard --post", channel_id="C0L10")
    assert status == 200 and "Posting the scorecard" in body["text"]
    (complete,) = api.wait_for("files.completeUploadExternal", timeout=30)
    assert complete.args["channel_id"] == "C0L10"
    main = wait_for(lambda: [m for m in api.messages["C0L10"] if "thread_ts" not in m])[0]
    button = next(b["accessory"] for b in main["blocks"] if b.get("accessory"))
    assert button["value"].endswith(":retention-saves")

    click = block_actions_body(
        BOGDAN,
        button["action_id"],
        button["value"],
        channel_id="C0L10",
        message_ts=main["ts"],
        response_url=api.response_url(),
    )
    assert server.send(click)[0] == 200
    (update,) = api.wait_for("chat.update", timeout=20)
    assert update.args["ts"] == main["ts"]
    row = next(b for b in update.args["blocks"] if "At-risk clients saved" in json.dumps(b))
    assert "accessory" not in row and "Issue #" in row["text"]["text"] and "raised by Bogdan" in row["text"]["text"]
    assert len([b for b in update.args["blocks"] if b.get("accessory")]) == 3  # the other misses keep theirs

    # A double click is a second request from Slack (its own trigger id and signature).
    again = block_actions_body(
        BOGDAN,
        button["action_id"],
        button["value"],
        channel_id="C0L10",
        message_ts=main["ts"],
        response_url=api.response_url(),
    )
    assert server.send(again)[0] == 200  # still one issue
    api.wait_for("chat.update", count=2, timeout=20)
    with module_db.session(readonly=True) as s:
        (issue,) = s.scalars(select(Issue))
        assert (issue.metric_id, issue.seat_id, issue.source, issue.raised_by) == (
            "retention-saves",
            "retention",
            "metric",
            "holder:bogdan",
        )
        assert f"Issue #{issue.id} raised by Bogdan" in json.dumps(api.calls_to("chat.update")[-1].args["blocks"])
        run = s.get(ScheduleRun, issue.run_id)
        assert (run.schedule, run.posted_ts) == (manual_runs.ON_DEMAND, main["ts"])


def test_a_click_from_someone_off_the_chart_changes_nothing(server, clean, module_db):
    api = clean
    server.command("scorecard --post", channel_id="C0L10")
    main = wait_for(lambda: [m for m in api.messages["C0L10"] if "thread_ts" not in m])[0]
    button = next(b["accessory"] for b in main["blocks"] if b.get("accessory"))
    url = api.response_url()
    server.send(
        block_actions_body(
            STRANGER, button["action_id"], button["value"], channel_id="C0L10", message_ts=main["ts"], response_url=url
        )
    )
    (said,) = api.wait_for("response_url", timeout=20)
    assert "only people on the chart" in said.args["text"] and not api.calls_to("chat.update")
    # The same button on a message that is not a scorecard post counts for nothing.
    server.send(
        block_actions_body(
            BOGDAN,
            button["action_id"],
            button["value"],
            channel_id="C0L10",
            message_ts="1700000000.000999",
            response_url=url,
        )
    )
    said = api.wait_for("response_url", count=2, timeout=20)[-1]
    assert "not on a scorecard post" in said.args["text"] and not api.calls_to("chat.update")


def test_only_people_on_the_chart_post_in_a_channel(server, clean):
    api = clean
    url = api.response_url()
    server.command("scorecard --post", user=STRANGER, channel_id="C0L10", response_url=url)
    (said,) = api.wait_for("response_url", timeout=20)
    assert "only people on the chart" in said.args["text"] and not api.messages["C0L10"]


def _post_and_button(server, api, metric_id: str) -> tuple[dict, dict]:
    server.command("scorecard --post", channel_id="C0L10")
    main = wait_for(lambda: [m for m in api.messages["C0L10"] if "thread_ts" not in m])[0]
    button = next(
        b["accessory"] for b in main["blocks"] if b.get("accessory", {}).get("value", "").endswith(f":{metric_id}")
    )
    return main, button


def _click(server, api, main: dict, action_id: str, value: str, user: str = BOGDAN) -> None:
    body = block_actions_body(
        user, action_id, value, channel_id="C0L10", message_ts=main["ts"], response_url=api.response_url()
    )
    assert server.send(body)[0] == 200


def test_a_click_on_a_row_no_longer_off_track_is_refused(server, clean, module_db):
    api = clean
    main, button = _post_and_button(server, api, "blended-cpa")
    with module_db.session() as s:  # a better number arrives after the post went out
        row = weekly_review(s).off_track
        latest = next(r for r in row if r.row.metric.id == "blended-cpa").row.latest
        record_value(s, Actor.cli_operator(), "blended-cpa", "30", period=latest.period, correction=True)
    _click(server, api, main, button["action_id"], button["value"])
    (said,) = api.wait_for("response_url", timeout=20)
    assert (
        "Blended cost per acquisition" in said.args["text"] and "not off track in that post's week" in said.args["text"]
    )
    assert "no issue was raised" in said.args["text"] and not api.calls_to("chat.update")
    with module_db.session(readonly=True) as s:
        assert not s.scalars(select(Issue).where(Issue.metric_id == "blended-cpa")).all()


def test_a_forged_value_is_refused_and_raises_nothing(server, clean, module_db):
    api = clean
    main, button = _post_and_button(server, api, "briefing-items")
    run_id = int(button["value"].split(":")[0])
    forged = [
        (f"{run_id + 50}:briefing-items", "does not belong to this scorecard post"),  # another run's value
        (f"{run_id}:no-such-metric", "there is no metric `no-such-metric`"),
        ("briefing-items", "does not belong to this scorecard post"),
    ]
    for n, (value, words) in enumerate(forged, 1):
        _click(server, api, main, button["action_id"], value)
        said = api.wait_for("response_url", count=n, timeout=20)[-1]
        assert words in said.args["text"], said.args["text"]
    assert not api.calls_to("chat.update")
    with module_db.session(readonly=True) as s:
        assert not s.scalars(select(Issue).where(Issue.metric_id.in_(["briefing-items", "no-such-metric"]))).all()


def test_the_row_names_the_issue_and_its_raiser_escaped(example_db):
    with example_db.session() as s:
        issue = raise_from_metric(s, Actor(label="Bogdan", holder_id="bogdan"), "retention-saves")
        review = weekly_review(s)
        message = scorecard_message(review, run_id=3, raisers={issue.id: "<!channel> *Bo* & co"})
    assert_valid({"text": message.text, "blocks": message.blocks})
    row = next(b for b in message.blocks if "At-risk clients saved" in json.dumps(b))
    text = row["text"]["text"]
    assert "accessory" not in row and f"Issue #{issue.id} raised by &lt;!channel&gt;" in text
    assert "<!channel>" not in text and "&amp; co" in text and "*Bo*" not in text
    assert len([b for b in message.blocks if b.get("accessory")]) == 3
