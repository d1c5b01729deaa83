"""The scorecard as a PNG heat-map: one row per metric, one column per week, green on
track, red off, grey without a value; off-track rows first, the latest value against its
goal at the right. Rendered headless (Agg, no pyplot, so any thread may render).

Drawn with few artists: the grid is one image with white lines between its cells, and
the labels are plain texts with shared font properties. Axis ticks would make five
artists for each label, each with its fonts looked up again: they cost more than the
drawing.
"""

from __future__ import annotations

import io

from otp_bot.commands.views.render import truncate
from otp_bot.store.domain.scorecard.periods import label
from otp_bot.store.domain.scorecard.review import Review

MAX_ROWS = 40  # beyond this a heat-map stops being readable at a glance
COLORS = ("#dfe3e8", "#d62839", "#2a9d8f")  # no value, off track, on track
SHADE = {None: 0, False: 1, True: 2}  # a week's mark -> its colour in COLORS
ARROW = {"up": "↑", "down": "↓", "flat": "→", None: ""}
DARK = "#333333"
PAD = 3.5  # points between the grid and its labels
# Zlib's fastest level: the image is flat colour and text, which compresses nearly as well
# at it, in a fraction of the time of the default.
PNG_OPTIONS = {"compress_level": 1}


def _plain(text: str) -> str:
    # A `$` pair would switch matplotlib into math mode ("$52 vs $45").
    return text.replace("$", r"\$")


def render_png(review: Review, *, max_rows: int = MAX_ROWS, dpi: int = 110) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import Patch

    rows = review.rows[:max_rows]
    weeks = review.weeks
    n = max(1, len(rows))
    cols = len(weeks)
    grid = [[SHADE[m] for m in r.by_week(weeks)] for r in rows] or [[0] * cols]
    height = 2.2 + 0.34 * n
    small, normal = FontProperties(size=9), FontProperties(size=10)
    bold = FontProperties(size=10, weight="bold")

    fig = Figure(figsize=(15, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.30, 0.9 / height, 0.44, 0.34 * n / height))
    ax.set_axis_off()
    ax.imshow(
        grid,
        cmap=ListedColormap(COLORS),
        vmin=0,
        vmax=2,
        extent=(0, cols, n, 0),
        aspect="auto",
        interpolation="nearest",
    )
    ax.vlines(range(cols + 1), 0, n, colors="white", linewidth=2)
    ax.hlines(range(n + 1), 0, cols, colors="white", linewidth=2)
    ax.set_xlim(0, cols)
    ax.set_ylim(n, 0)
    # Labels a few points off the grid: x in axes fractions, y in rows (and the reverse on top).
    left = -PAD / (0.44 * 15 * 72)
    above = 1 + PAD / (0.34 * n * 72)
    on_rows, on_weeks = ax.get_yaxis_transform(), ax.get_xaxis_transform()
    for i, w in enumerate(weeks):
        ax.text(
            i + 0.5, above, label(w, "weekly")[-3:], ha="center", va="bottom", fontproperties=small, transform=on_weeks
        )
    for i, r in enumerate(rows):
        missed = r.off_track
        ax.text(
            left,
            i + 0.5,
            _plain(truncate(f"{r.row.metric.name} · {r.seat.title}", 52)),
            ha="right",
            va="center_baseline",
            fontproperties=bold if missed else normal,
            color=COLORS[1] if missed else "black",
            transform=on_rows,
        )
        latest = r.row.latest
        shown = r.row.show(latest.value) if latest else "no value"
        holder = r.seat.holder.name if r.seat.holder else r.seat.status
        text = f"{shown} vs {r.row.describe_goal()} {ARROW[r.row.trend]}  {truncate(holder, 24)}"
        ax.text(
            cols + 0.25,
            i + 0.5,
            _plain(text),
            va="center",
            fontsize=9.5,
            color=COLORS[1] if missed else DARK,
            clip_on=False,
        )
    shown_off = sum(1 for r in rows if r.off_track)
    if 0 < shown_off < len(rows):
        ax.axhline(shown_off, color=DARK, linewidth=1.2)
    off = review.off_track_count

    fig.text(
        0.02,
        1 - 0.35 / height,
        _plain(truncate(f"{review.org}: scorecard, {review.first} to {review.last}", 90)),
        fontsize=16,
        fontweight="bold",
        va="top",
    )
    shown_rows = (
        f"; showing {len(rows)} of {review.metrics:,}, off track first"
        if review.metrics > len(rows)
        else "; off track first"
    )
    fig.text(
        0.02,
        1 - 0.75 / height,
        f"{off:,} of {review.metrics:,} metrics off track{shown_rows}",
        fontsize=11,
        color=COLORS[1] if off else DARK,
        va="top",
    )
    fig.legend(
        handles=[
            Patch(color=COLORS[2], label="on track"),
            Patch(color=COLORS[1], label="off track"),
            Patch(color=COLORS[0], label="no value"),
        ],
        loc="upper right",
        ncols=3,
        frameon=False,
        fontsize=10,
        bbox_to_anchor=(0.98, 1 - 0.25 / height),
    )
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi, facecolor="white", pil_kwargs=PNG_OPTIONS)
    return out.getvalue()
