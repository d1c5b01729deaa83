"""/otp chart [seat]"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.commands import blocks
from otp_bot.commands.describe import accountable_text, seat_holder_text
from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage, parse_args
from otp_bot.commands.render import render
from otp_bot.commands.reply import Reply
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart import get_org, get_seat, seat_tree

MAX_TEXT_LINES = 150


def _line(node) -> dict[str, object]:
    seat = node.seat
    holder = seat.holder
    return {
        "indent": "    " * node.depth,
        "seat": seat,
        "icon": ":white_square:" if holder is None else (":robot_face:" if holder.kind == "agent" else ":bust_in_silhouette:"),
        "holder": seat_holder_text(seat),
        "accountable": accountable_text(seat),
    }


@command("chart", "chart [seat]", "the org chart (below a seat when given): humans, agents, vacancies", aliases=("org", "tree"))
def chart_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    args = parse_args(tokens, options=set())
    if len(args.words) > 1:
        raise Usage("name at most one seat")
    org = get_org(session)
    root = get_seat(session, args.words[0]) if args.words else None
    nodes = seat_tree(session, root)
    lines = [render("chart_line.j2", **_line(n)) for n in nodes]
    counts = {
        "seats": len(nodes),
        "agents": sum(1 for n in nodes if n.seat.holder and n.seat.holder.kind == "agent"),
        "humans": sum(1 for n in nodes if n.seat.holder and n.seat.holder.kind == "human"),
        "vacant": sum(1 for n in nodes if n.seat.holder is None and n.seat.status != "retired"),
    }
    title = f"{org.name}: chart" + (f" below {root.title}" if root else "")
    shown = lines[:MAX_TEXT_LINES]
    text = render("chart.j2", title=title, lines=shown, more=len(lines) - len(shown), **counts)
    budget = blocks.BlockBudget()
    budget.add(blocks.header(title))
    budget.add(blocks.context(render("chart_counts.j2", **counts)))
    blocks.lines_to_sections(lines, budget, more="and {n} more seats: ask for a branch with `/otp chart &lt;seat&gt;`")
    return Reply(text=text, blocks=budget.blocks)
