"""The scorecard as a PNG heat-map: one row per metric, one column per week, green on
track, red off, grey without a value; off-track rows first, the latest value against its
goal at the right. Rendered headless (Agg, no pyplot, so any thread may render).
"""

from __future__ import annotations

import io

from otp_bot.commands.views.render import truncate
from otp_bot.store.domain.scorecard.periods import label
from otp_bot.store.domain.scorecard.review import Review

MAX_ROWS = 40  # beyond this a heat-map stops being readable at a glance
COLORS = ("#dfe3e8", "#d62839", "#2a9d8f")  # no value, off track, on track
ARROW = {"up": "↑", "down": "↓", "flat": "→", None: ""}


def _plain(text: str) -> str:
    # A `$` pair would switch matplotlib into math mode ("$52 vs $45").
    return text.replace("$", r"\$")


def render_png(review: Review, *, max_rows: int = MAX_ROWS, dpi: int = 110) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    rows = review.rows[:max_rows]
    weeks = review.weeks
    n = max(1, len(rows))
    grid = [[{None: 0, False: 1, True: 2}[m] for m in r.by_week(weeks)] for r in rows] or [[0] * len(weeks)]

    fig = Figure(figsize=(15, 2.2 + 0.34 * n), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.30, 0.9 / (2.2 + 0.34 * n), 0.44, 0.34 * n / (2.2 + 0.34 * n)))
    ax.pcolormesh(grid, cmap=ListedColormap(COLORS), vmin=0, vmax=2, edgecolors="white", linewidth=2)
    ax.set_xlim(0, len(weeks))
    ax.set_ylim(n, 0)
    ax.set_xticks([i + 0.5 for i in range(len(weeks))], [label(w, "weekly")[-3:] for w in weeks], fontsize=9)
    ax.xaxis.tick_top()
    ax.set_yticks(
        [i + 0.5 for i in range(len(rows))],
        [_plain(truncate(f"{r.row.metric.name} · {r.seat.title}", 52)) for r in rows],
        fontsize=10,
    )
    for tick, r in zip(ax.get_yticklabels(), rows, strict=False):
        if r.off_track:
            tick.set_color(COLORS[1])
            tick.set_fontweight("bold")
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    for i, r in enumerate(rows):
        latest = r.row.latest
        shown = r.row.show(latest.value) if latest else "no value"
        holder = r.seat.holder.name if r.seat.holder else r.seat.status
        text = f"{shown} vs {r.row.describe_goal()} {ARROW[r.row.trend]}  {truncate(holder, 24)}"
        ax.text(
            len(weeks) + 0.25,
            i + 0.5,
            _plain(text),
            va="center",
            fontsize=9.5,
            color=COLORS[1] if r.off_track else "#333333",
            clip_on=False,
        )
    shown_off = sum(1 for r in rows if r.off_track)
    if 0 < shown_off < len(rows):
        ax.axhline(shown_off, color="#333333", linewidth=1.2)
    off = review.off_track_count

    height = 2.2 + 0.34 * n
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
        color=COLORS[1] if off else "#333333",
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
    fig.savefig(out, format="png", dpi=dpi, facecolor="white")
    return out.getvalue()
