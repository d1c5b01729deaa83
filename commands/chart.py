"""/otp chart [seat]"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage, parse_args
from otp_bot.commands.reply import Attachment, Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.describe import accountable_text, seat_holder_text
from otp_bot.commands.views.render import Mrkdwn, render
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.picture import ChartPicture, chart_picture
from otp_bot.store.domain.chart.reading import get_org, get_seat, seat_tree
from otp_bot.store.domain.errors import Invalid

MAX_TEXT_LINES = 150
MAX_IMAGE_SEATS = 500  # past this one picture is a poster, not a chart: a branch at a time


# Slack drops the leading spaces of a line, and so does `render`: the tree is drawn with
# characters that stay, box-drawing lines and em spaces (one level = two characters).
_PIPE, _BLANK, _TEE, _ELBOW = "\u2502\u2003", "\u2003\u2003", "\u251c\u2500 ", "\u2514\u2500 "


def tree_prefixes(depths: list[int]) -> list[str]:
    """For seats listed depth first, what draws each one's place in the tree:
    `├─ ` before a seat with a later sibling, `└─ ` before the last, and a `│` for each
    ancestor level whose own later siblings are still to come."""
    top = min(depths, default=0)
    levels = [d - top for d in depths]
    last = [True] * len(levels)
    later: set[int] = set()  # levels with a later sibling still open, walking backwards
    for i in range(len(levels) - 1, -1, -1):
        level = levels[i]
        last[i] = level not in later
        later = {k for k in later if k < level} | {level}
    out: list[str] = []
    open_levels: list[bool] = []  # for each level above, whether more siblings follow
    for level, is_last in zip(levels, last, strict=True):
        if level == 0:
            out.append("")
        else:
            out.append(
                "".join(_PIPE if more else _BLANK for more in open_levels[1:level]) + (_ELBOW if is_last else _TEE)
            )
        open_levels = [*open_levels[:level], not is_last]
    return out


def _line(node) -> dict[str, object]:
    seat = node.seat
    holder = seat.holder
    return {
        "seat": seat,
        "icon": ":white_square:"
        if holder is None
        else (":robot_face:" if holder.kind == "agent" else ":bust_in_silhouette:"),
        "holder": seat_holder_text(seat),
        "accountable": accountable_text(seat),
    }


@command(
    "chart",
    "chart [seat] [--image]",
    "the org chart (below a seat when given): humans, agents, vacancies; --image: as a picture",
    aliases=("org", "tree"),
)
def chart_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    args = parse_args(tokens, options=set(), flags={"image"})
    if len(args.words) > 1:
        raise Usage("name at most one seat")
    if args.options.get("image"):
        return chart_image_reply(chart_picture(session, args.words[0] if args.words else None))
    org = get_org(session)
    root = get_seat(session, args.words[0]) if args.words else None
    nodes = seat_tree(session, root)
    prefixes = tree_prefixes([n.depth for n in nodes])
    lines = [
        Mrkdwn(prefix + render("chart/chart_line.j2", **_line(n))) for prefix, n in zip(prefixes, nodes, strict=True)
    ]
    counts = {
        "seats": len(nodes),
        "agents": sum(1 for n in nodes if n.seat.holder and n.seat.holder.kind == "agent"),
        "humans": sum(1 for n in nodes if n.seat.holder and n.seat.holder.kind == "human"),
        "vacant": sum(1 for n in nodes if n.seat.holder is None and n.seat.status != "retired"),
    }
    title = f"{org.name}: chart" + (f" below {root.title}" if root else "")
    shown = lines[:MAX_TEXT_LINES]
    text = render("chart/chart.j2", title=title, lines=shown, more=len(lines) - len(shown), **counts)
    budget = blocks.BlockBudget()
    budget.add(blocks.header(title))
    budget.add(blocks.context(render("chart/chart_counts.j2", **counts)))
    blocks.lines_to_sections(lines, budget, more="and {n} more seats: ask for a branch with `/otp chart &lt;seat&gt;`")
    return Reply(text=text, blocks=budget.blocks)


def chart_image_reply(picture: ChartPicture) -> Reply:
    """The chart as a picture: the summary as text, the PNG made when the surface sends it."""
    from otp_bot.commands.views.chart_image import render_chart_png

    if len(picture.seats) > MAX_IMAGE_SEATS:
        raise Invalid(
            f"the chart has {len(picture.seats):,} seats: one picture stays legible up to {MAX_IMAGE_SEATS}",
            hint="draw a branch: `/otp chart <seat> --image`",
        )
    branch = picture.seats[0].id if picture.branch else None
    title = f"{picture.org}: org chart" + (f" below {picture.branch}" if picture.branch else "")
    context = {
        "title": title,
        "seats": len(picture.seats),
        "humans": picture.humans,
        "agents": picture.agents,
        "vacant": picture.vacant,
        "off_track": picture.off_track_seats,
    }
    return Reply(
        text=render("chart/chart_image.j2", **context),
        attachment=Attachment(
            filename=f"chart-{branch}.png" if branch else "chart.png",
            title=title,
            alt_text=render("chart/chart_image_alt.j2", **context),
            render=lambda: render_chart_png(picture),
        ),
    )
