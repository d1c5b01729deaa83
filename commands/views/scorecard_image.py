"""The scorecard as a PNG heat-map: one row per metric, one column per week, green on
track, red off, grey without a value; off-track rows first, the latest value against its
goal at the right.

Drawn with Pillow, straight onto pixels: rectangles and text, nothing to lay out. The
picture is the same as when matplotlib drew it (sizes are given in inches and points, as
there), at a fraction of the cost: matplotlib took most of a second to import and draw it,
for a weekly post. Any thread may render, one at a time: the fonts are loaded once and
shared, and a FreeType face is not to be used by two threads at once.
"""

from __future__ import annotations

import importlib.util
import io
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from otp_bot.commands.views.render import truncate
from otp_bot.store.domain.scorecard.periods import label
from otp_bot.store.domain.scorecard.review import Review

if TYPE_CHECKING:
    from collections.abc import Callable

    from PIL import Image, ImageDraw
    from PIL.ImageFont import FreeTypeFont, ImageFont

MAX_ROWS = 40  # beyond this a heat-map stops being readable at a glance
COLORS = ("#dfe3e8", "#d62839", "#2a9d8f")  # no value, off track, on track
SHADE = {None: 0, False: 1, True: 2}  # a week's mark -> its colour in COLORS
ARROW = {"up": "↑", "down": "↓", "flat": "→", None: ""}
DARK = "#333333"
WIDTH_IN = 15.0  # inches; at 110 dpi 1,650 pixels, which Slack shows whole
GRID = (0.30, 0.44)  # the grid's left edge and width, in fractions of the width
ROW_IN = 0.34  # inches per metric
ABOVE_IN, BELOW_IN = 1.3, 0.9  # inches above the grid (title, legend, weeks) and below it
PAD_PT = 3.5  # points between the grid and its labels
# Zlib's fastest level: the image is flat colour and text, which compresses nearly as well
# at it, in a fraction of the time of the default.
PNG_OPTIONS = {"compress_level": 1}
_DRAWING = threading.Lock()  # held while the shared fonts draw


@cache
def _font_dir() -> Path | None:
    """The DejaVu Sans files matplotlib ships (found without importing it): a readable
    font with the arrows and dots the labels use, on any machine, with no system fonts."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"
    return folder if (folder / "DejaVuSans.ttf").is_file() else None


@cache
def _font(pixels: int, bold: bool = False) -> FreeTypeFont | ImageFont:
    from PIL import ImageFont

    folder = _font_dir()
    if folder is not None:
        try:
            return ImageFont.truetype(str(folder / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), pixels)
        except OSError:  # an unreadable file, or Pillow built without FreeType
            pass
    return ImageFont.load_default(pixels)  # Pillow's own font (a bitmap one without FreeType)


def render_png(review: Review, *, max_rows: int = MAX_ROWS, dpi: int = 110) -> bytes:
    with _DRAWING:
        image = _draw(review, max_rows, dpi)
    out = io.BytesIO()  # encoded outside the lock: zlib needs no font
    image.save(out, format="PNG", **PNG_OPTIONS)
    return out.getvalue()


def _draw(review: Review, max_rows: int, dpi: int) -> Image.Image:
    from PIL import Image, ImageDraw

    def px(inches: float) -> int:
        return round(inches * dpi)

    def pt(points: float) -> int:
        return max(1, round(points * dpi / 72))

    rows = review.rows[:max_rows]
    weeks = review.weeks
    n = max(1, len(rows))
    cols = max(1, len(weeks))
    width, height = px(WIDTH_IN), px(ABOVE_IN + BELOW_IN + ROW_IN * n)
    left, top = round(GRID[0] * width), px(ABOVE_IN)
    cell_w, cell_h = GRID[1] * width / cols, ROW_IN * dpi
    right = round(left + cols * cell_w)
    pad, line = pt(PAD_PT), pt(2)  # a 2-point white line between cells, and around them
    small, normal, bold, side = _font(pt(9)), _font(pt(10)), _font(pt(10), True), _font(pt(9.5))

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)

    def x_of(col: float) -> int:
        return round(left + col * cell_w)

    def y_of(row: float) -> int:
        return round(top + row * cell_h)

    for i, w in enumerate(weeks):
        draw.text((x_of(i + 0.5), top - pad), label(w, "weekly")[-3:], font=small, fill="black", anchor="md")
    marks = [r.by_week(weeks) for r in rows] or [[None] * len(weeks)]
    for i, by_week in enumerate(marks):
        for j, mark in enumerate(by_week):
            draw.rectangle((x_of(j), y_of(i), x_of(j + 1), y_of(i + 1)), fill=COLORS[SHADE[mark]])
    # The white lines over the cells' edges, centred on them as a pen draws them.
    half = line // 2
    for j in range(cols + 1):
        draw.rectangle((x_of(j) - half, top, x_of(j) - half + line - 1, y_of(n)), fill="white")
    for i in range(n + 1):
        draw.rectangle((left, y_of(i) - half, right, y_of(i) - half + line - 1), fill="white")
    for i, r in enumerate(rows):
        missed = r.off_track
        middle = y_of(i + 0.5)
        draw.text(
            (left - pad, middle),
            truncate(f"{r.row.metric.name} · {r.seat.title}", 52),
            font=bold if missed else normal,
            fill=COLORS[1] if missed else "black",
            anchor="rm",
        )
        latest = r.row.latest
        shown = r.row.show(latest.value) if latest else "no value"
        holder = r.seat.holder.name if r.seat.holder else r.seat.status
        text = f"{shown} vs {r.row.describe_goal()} {ARROW[r.row.trend]}  {truncate(holder, 24)}"
        draw.text((x_of(cols + 0.25), middle), text, font=side, fill=COLORS[1] if missed else DARK, anchor="lm")
    shown_off = sum(1 for r in rows if r.off_track)
    if 0 < shown_off < len(rows):  # a line between the misses and the rest
        draw.line((left, y_of(shown_off), right, y_of(shown_off)), fill=DARK, width=pt(1.2))

    margin = round(0.02 * width)
    title = truncate(f"{review.org}: scorecard, {review.first} to {review.last}", 90)
    draw.text((margin, px(0.35)), title, font=_font(pt(16), True), fill="black", anchor="la")
    off = review.off_track_count
    shown_rows = (
        f"; showing {len(rows)} of {review.metrics:,}, off track first"
        if review.metrics > len(rows)
        else "; off track first"
    )
    subtitle = f"{off:,} of {review.metrics:,} metrics off track{shown_rows}"
    draw.text((margin, px(0.75)), subtitle, font=_font(pt(11)), fill=COLORS[1] if off else DARK, anchor="la")
    _legend(draw, round(0.98 * width), px(0.25), normal, pt)
    return image


def _legend(
    draw: ImageDraw.ImageDraw, right: int, top: int, font: FreeTypeFont | ImageFont, pt: Callable[[float], int]
) -> None:
    """The three colours and what each means, in a row that ends at `right`."""
    entries = [(COLORS[2], "on track"), (COLORS[1], "off track"), (COLORS[0], "no value")]
    swatch_w, swatch_h, after_swatch, between = pt(20), pt(7), pt(8), pt(20)
    widths = [swatch_w + after_swatch + round(draw.textlength(text, font=font)) for _, text in entries]
    x = right - sum(widths) - between * (len(entries) - 1)
    middle = top + pt(12)
    for (color, text), w in zip(entries, widths, strict=True):
        draw.rectangle((x, middle - swatch_h // 2, x + swatch_w, middle + swatch_h // 2), fill=color)
        draw.text((x + swatch_w + after_swatch, middle), text, font=font, fill="black", anchor="lm")
        x += w + between
