"""The chart picture's drawing (commands/views/chart_image.py) and `chart --image` from the
command line: text fitted into boxes, what each box says, a picture kept within the size a
viewer opens, and the PNG `otp ask` writes."""

from __future__ import annotations

import datetime as dt

import pytest

from otp_bot.commands.chart import MAX_IMAGE_SEATS, chart_image_reply
from otp_bot.commands.views.chart_image import (
    MAX_PIXELS,
    MAX_SIDE_PX,
    RED,
    box_text,
    dpi_for,
    render_chart_png,
    wrap_to_fit,
)
from otp_bot.store.domain.chart.picture import ChartPicture, PictureSeat
from otp_bot.store.domain.errors import Invalid
from tests.support.cli import otp
from tests.support.png import png_size


def chars(n: int):
    return lambda line: len(line) <= n


def seat(seat_id: str, parent: str | None = None, **kw) -> PictureSeat:
    fields = {"title": seat_id.title(), "holder": None, "holder_kind": None, "status": "vacant", "metrics": 0}
    fields.update(kw)
    fields.setdefault("off_track", 0)
    fields.setdefault("on_track", int(fields["metrics"]) - int(fields["off_track"]))
    return PictureSeat(id=seat_id, parent=parent, **fields)


def test_a_title_wraps_between_words_and_ends_with_an_ellipsis_when_cut():
    assert wrap_to_fit("Analytics / Ad Performance", chars(15), 2) == ["Analytics / Ad", "Performance"]
    cut = wrap_to_fit("Head of Enterprise Partnerships and Channel Sales", chars(15), 2)
    assert len(cut) == 2 and cut[-1].endswith("…") and all(len(line) <= 15 for line in cut)
    long_word = wrap_to_fit("Supercalifragilistic", chars(8), 3)
    assert long_word == ["Supercal", "ifragili", "stic"]
    assert wrap_to_fit("", chars(8), 2) == ["—"]


def test_what_each_box_says():
    fits = chars(40)
    agent = box_text(seat("pulse", holder="Pulse", holder_kind="agent", status="active", metrics=3), fits, fits)
    assert agent.holder == "Pulse · agent" and agent.status == "3 metrics on track"
    off = box_text(seat("x", holder="Dirk", holder_kind="human", status="active", metrics=3, off_track=2), fits, fits)
    assert off.status == "2 of 3 metrics off track" and off.status_color == RED
    one = box_text(seat("x", holder="Dirk", holder_kind="human", status="active", metrics=1, off_track=1), fits, fits)
    assert one.status == "off track"
    unknown = seat("x", holder="Dirk", holder_kind="human", status="active", metrics=2, on_track=0)
    assert box_text(unknown, fits, fits).status == "no value yet"
    some = seat("x", holder="Dirk", holder_kind="human", status="active", metrics=3, on_track=1)
    assert box_text(some, fits, fits).status == "1 of 3 metrics on track"
    assert box_text(seat("v"), fits, fits).holder == "vacant"
    assert box_text(seat("p", status="planned"), fits, fits).holder == "planned, not filled"
    assert box_text(seat("r", status="retired"), fits, fits).holder == "retired"


def test_a_huge_picture_gets_fewer_dots_an_inch_not_more_pixels():
    assert dpi_for(20, 10) == 100
    for width, height in ((400, 20), (30, 300), (200, 150)):
        dpi = dpi_for(width, height)
        assert dpi < 100
        assert width * dpi <= MAX_SIDE_PX and height * dpi <= MAX_SIDE_PX and width * height * dpi**2 <= MAX_PIXELS


def test_every_kind_of_seat_draws_and_dollar_signs_stay_text():
    picture = ChartPicture(
        org="Dollar $ Co",
        branch=None,
        seats=[
            seat("ceo", title="CEO ($2M budget)", holder="Ann", holder_kind="human", status="active", metrics=2),
            seat("bot", "ceo", holder="Bot", holder_kind="agent", status="active", metrics=1, off_track=1),
            seat("old", "ceo", status="retired"),
            seat("gap", "old"),
        ],
        as_of=dt.date(2026, 1, 5),
    )
    width, height = png_size(render_chart_png(picture))
    assert 800 <= width <= 1500 and 500 <= height <= 1500


def test_a_chart_too_big_for_one_picture_asks_for_a_branch():
    seats = [seat("s0")] + [seat(f"s{i}", "s0") for i in range(1, MAX_IMAGE_SEATS + 1)]
    picture = ChartPicture("Big", None, seats, dt.date(2026, 1, 5))
    with pytest.raises(Invalid, match="legible up to") as caught:
        chart_image_reply(picture)
    assert "chart <seat> --image" in (caught.value.hint or "")


def test_otp_ask_writes_the_picture_where_it_is_run(example_db, tmp_path):
    result = otp(example_db, "ask", "chart --image", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "15 seats" in result.stdout and "written to chart.png" in result.stderr
    assert png_size((tmp_path / "chart.png").read_bytes())[0] > 700

    out = tmp_path / "sales.png"
    result = otp(example_db, "ask", "chart sales --image", "-o", str(out), cwd=tmp_path)
    assert result.returncode == 0 and png_size(out.read_bytes())[1] > 300


def test_otp_ask_writes_nothing_for_a_wrong_seat(example_db, tmp_path):
    result = otp(example_db, "ask", "chart nosuch --image", cwd=tmp_path)
    assert result.returncode == 2 and "there is no seat" in result.stderr
    assert list(tmp_path.iterdir()) == []
