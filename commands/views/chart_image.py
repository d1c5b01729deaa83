"""The org chart as a PNG: a box per seat where `chart_layout` puts it, reporting lines
between them. Rendered headless with matplotlib (Agg, no pyplot: any thread may render) and
its own fonts, so it needs no system binary.

How a box says what it is, each in two ways so that neither colour nor shape alone carries
it (and a legend says so): a human's seat is a square-cornered blue box, an agent's a
round-cornered violet one; a seat nobody holds is white with a dashed grey border and says
vacant or planned; a retired seat (kept only while seats report to it) is grey and dotted.
Off track (a metric's latest value misses its goal) is a thick red border and a red line
of text; on track a green one. Sizes are in inches at 100 dpi, so 8 points of text are 11
pixels: legible when the picture is opened at full size.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass

from otp_bot.commands.views.chart_layout import Layout, Spacing, layout_tree
from otp_bot.store.domain.chart.picture import ChartPicture, PictureSeat

DPI = 100
MAX_SIDE_PX = 16_000  # beyond this Slack shows no preview and viewers struggle: fewer dots an inch
MAX_PIXELS = 80_000_000
MARGIN = 0.4  # inches around the chart
HEAD = 1.15  # inches above it: the title, the counts and the legend
TITLE_PT, TEXT_PT = 9.5, 8.0
PAD = 0.1  # inches between a box's border and its text
INK, GREY, WIRE = "#1f2933", "#6b7280", "#9aa1ab"
RED, GREEN = "#c81e1e", "#1a7f4b"
# kind -> (face, edge, corner radius in inches)
STYLE = {
    "human": ("#e3eefa", "#2b5c8a", 0.0),
    "agent": ("#efe6fb", "#6a3fb5", 0.13),
    "vacant": ("#ffffff", "#8d949e", 0.0),
    "retired": ("#eceef1", "#a3a9b2", 0.0),
}
DASH = {"vacant": "--", "retired": ":"}  # the border of a seat nobody holds
PNG_OPTIONS = {"compress_level": 6}  # flat colour and text: small files at little cost


@dataclass(frozen=True)
class BoxText:
    title: list[str]  # one or two lines
    holder: str
    holder_style: str  # normal, italic
    status: str
    status_color: str


def _corners(radius: float) -> str:
    return f"round,pad=0,rounding_size={radius}" if radius else "square,pad=0"


def kind_of(seat: PictureSeat) -> str:
    if seat.status == "retired":
        return "retired"
    return seat.holder_kind if seat.holder_kind in ("human", "agent") else "vacant"


Fits = Callable[[str], bool]


def wrap_to_fit(text: str, fits: Fits, max_lines: int) -> list[str]:
    """`text` in at most `max_lines` lines that each `fits`, broken between words (inside a
    word only when it alone is too long); what does not fit ends the last line with `…`."""
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < max_lines:
        line = words.pop(0)
        while not fits(line) and len(line) > 1:  # one word wider than the box: break it
            cut = len(line) - 1
            while cut > 1 and not fits(line[:cut]):
                cut -= 1
            words.insert(0, line[cut:])
            line = line[:cut]
        while words and fits(f"{line} {words[0]}"):
            line = f"{line} {words.pop(0)}"
        lines.append(line)
    if words and lines:
        last = lines[-1]
        while last and not fits(last + "…"):
            last = last[:-1].rstrip()
        lines[-1] = last + "…"
    return lines or ["—"]


def box_text(seat: PictureSeat, title_fits: Fits, text_fits: Fits) -> BoxText:
    title = wrap_to_fit(seat.title, title_fits, 2)
    kind = kind_of(seat)
    if kind in ("human", "agent"):
        holder, style = wrap_to_fit(f"{seat.holder} · {kind}", text_fits, 1)[0], "normal"
    else:
        holder = "retired" if kind == "retired" else "planned, not filled" if seat.status == "planned" else "vacant"
        style = "italic"
    if seat.off_track:
        status = "off track" if seat.metrics == 1 else f"{seat.off_track} of {seat.metrics} metrics off track"
        color = RED
    elif seat.on_track:
        count = "" if seat.on_track == seat.metrics else f"{seat.on_track} of "
        status = "on track" if seat.metrics == 1 else f"{count}{seat.metrics} metrics on track"
        color = GREEN
    elif seat.metrics:
        status, color = "no value yet", GREY
    else:
        status, color = "", GREY
    return BoxText(title, holder, style, status, color)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def measure(points: float, bold: bool, inches: float) -> Fits:
    """Whether a line of text fits `inches` in matplotlib's own font (DejaVu Sans): the sum of
    its characters' advances, each measured once (kerning moves a line by far less than the
    box's padding; measuring every candidate line whole took a second at 200 seats)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    font = FontProperties(size=points, weight="bold" if bold else "normal")
    room = inches * 72
    # A space alone measures 0 wide: measured between two letters instead.
    base = text_to_path.get_text_width_height_descent("xx", font, ismath=False)[0]
    widths: dict[str, float] = {}

    def width(char: str) -> float:
        if char not in widths:
            widths[char] = text_to_path.get_text_width_height_descent(f"x{char}x", font, ismath=False)[0] - base
        return widths[char]

    def fits(line: str) -> bool:
        return sum(width(c) for c in line) <= room

    return fits


def _plain(text: str) -> str:
    # A `$` pair would switch matplotlib into math mode.
    return text.replace("$", r"\$")


def figure_size(layout: Layout) -> tuple[float, float]:
    """Inches: the layout, its margins and the head (wide enough for the head's words)."""
    return max(layout.width + 2 * MARGIN, 9.0), layout.height + 2 * MARGIN + HEAD


def dpi_for(width_in: float, height_in: float) -> int:
    """`DPI`, or less for a picture that would pass Slack's comfortable size at it."""
    dpi = min(DPI, MAX_SIDE_PX / width_in, MAX_SIDE_PX / height_in, math.sqrt(MAX_PIXELS / (width_in * height_in)))
    return max(30, math.floor(dpi))


def render_chart_png(picture: ChartPicture, *, spacing: Spacing | None = None) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    s = spacing or Spacing()
    layout = layout_tree([(seat.id, seat.parent) for seat in picture.seats], s)
    width, height = figure_size(layout)
    dpi = dpi_for(width, height)
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    # One axes in inches over the whole figure, y downwards: the layout's numbers draw as they are.
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(-MARGIN, width - MARGIN)
    ax.set_ylim(height - MARGIN - HEAD, -MARGIN - HEAD)

    ax.add_collection(
        LineCollection([e.points for e in layout.edges], colors=WIRE, linewidths=1.1, capstyle="butt", zorder=1)
    )
    by_style: dict[tuple[str, bool], list] = {}
    fonts = Fonts.make()
    title_fits = measure(TITLE_PT, True, s.box_w - 2 * PAD)
    text_fits = measure(TEXT_PT, False, s.box_w - 2 * PAD)
    for seat in picture.seats:
        box = layout.boxes[seat.id]
        kind = kind_of(seat)
        radius = STYLE[kind][2]
        by_style.setdefault((kind, bool(seat.off_track)), []).append(
            FancyBboxPatch(
                (box.x, box.y),
                box.w,
                box.h,
                boxstyle=_corners(radius),
            )
        )
        _label(ax, box.x, box.y, box_text(seat, title_fits, text_fits), fonts)
    for (kind, off), patches in by_style.items():
        face, edge, _ = STYLE[kind]
        ax.add_collection(
            PatchCollection(
                patches,
                facecolor=face,
                edgecolor=RED if off else edge,
                linewidth=2.4 if off else 1.2,
                linestyle=DASH.get(kind, "-"),
                zorder=2,
            )
        )
    _head(fig, ax, picture, width, height)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi, facecolor="white", pil_kwargs=PNG_OPTIONS)
    return out.getvalue()


@dataclass(frozen=True)
class Fonts:
    """Shared font properties: given to each text as one object, they are looked up once."""

    title: object
    text: object
    italic: object
    bold: object

    @classmethod
    def make(cls) -> Fonts:
        from matplotlib.font_manager import FontProperties

        return cls(
            FontProperties(size=TITLE_PT, weight="bold"),
            FontProperties(size=TEXT_PT),
            FontProperties(size=TEXT_PT, style="italic"),
            FontProperties(size=TEXT_PT, weight="bold"),
        )


LINE = 0.165  # inches from one line of a box's text to the next


def _label(ax, x: float, y: float, text: BoxText, fonts: Fonts) -> None:
    retired = text.holder == "retired"
    top = y + 0.1
    ax.text(
        x + PAD,
        top,
        _plain("\n".join(text.title)),
        fontproperties=fonts.title,
        color=GREY if retired else INK,
        va="top",
        linespacing=1.25,
        zorder=3,
    )
    row = top + len(text.title) * LINE + 0.04
    normal = text.holder_style == "normal"
    ax.text(
        x + PAD,
        row,
        _plain(text.holder),
        fontproperties=fonts.text if normal else fonts.italic,
        color=INK if normal else GREY,
        va="top",
        zorder=3,
    )
    if text.status:
        ax.text(
            x + PAD,
            row + LINE,
            text.status,
            fontproperties=fonts.bold if text.status_color == RED else fonts.text,
            color=text.status_color,
            va="top",
            zorder=3,
        )


def _head(fig, ax, picture: ChartPicture, width: float, height: float) -> None:
    from matplotlib.patches import FancyBboxPatch

    title = f"{picture.org}: org chart" + (f" below {picture.branch}" if picture.branch else "")
    fig.text(
        MARGIN / width, 1 - 0.3 / height, _plain(_cut(title, 110)), fontsize=15, fontweight="bold", va="top", color=INK
    )
    counts = (
        f"{len(picture.seats)} seats: {picture.humans} held by humans, {picture.agents} by agents, "
        f"{picture.vacant} vacant · {picture.off_track_seats} with a metric off track · {picture.as_of.isoformat()}"
    )
    fig.text(MARGIN / width, 1 - 0.68 / height, counts, fontsize=10, va="top", color=GREY)
    # The legend: a small box of each kind, drawn as the chart draws them, with its word.
    samples = [
        ("human", False, "human"),
        ("agent", False, "agent"),
        ("vacant", False, "vacant or planned"),
        ("human", True, "off track"),
    ]
    if any(seat.status == "retired" for seat in picture.seats):
        samples.append(("retired", False, "retired, seats still report to it"))
    x = 0.0  # in the axes' inches: at the chart's left edge
    y = -HEAD + 0.78
    for kind, off, word in samples:
        face, edge, radius = STYLE[kind]
        ax.add_patch(
            FancyBboxPatch(
                (x, y),
                0.42,
                0.22,
                boxstyle=_corners(radius * 0.6),
                facecolor=face,
                edgecolor=RED if off else edge,
                linewidth=2.4 if off else 1.2,
                linestyle=DASH.get(kind, "-"),
                clip_on=False,
            )
        )
        ax.text(x + 0.52, y + 0.11, word, fontsize=9, va="center", color=INK, clip_on=False)
        x += 0.62 + 0.075 * len(word) + 0.3
