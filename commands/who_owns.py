"""/otp who-owns <topic>"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.commands import blocks
from otp_bot.commands.describe import accountable_text, metric_line, seat_holder_text
from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage
from otp_bot.commands.render import render
from otp_bot.commands.reply import Reply
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart import get_seat, reporting_line
from otp_bot.store.domain.metrics import current_rows
from otp_bot.store.domain.search import who_owns


@command("who-owns", "who-owns <topic>", "the seat that owns a topic, its holder and its numbers",
         aliases=("whoowns", "who", "owner", "owns"))
def who_owns_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    topic = " ".join(tokens).strip().rstrip("?")
    if not topic:
        raise Usage("tell me the topic, e.g. `who-owns retention`")
    if len(topic) > 200:
        raise Usage("a topic is at most 200 characters")
    match = who_owns(session, topic)
    if match.best is None and not match.candidates:
        text = render("who_owns_none.j2", topic=topic)
        return Reply(text=text, blocks=[blocks.section(text)])
    if match.best is None:
        seats = [get_seat(session, c.seat_id) for c in match.candidates]
        text = render("who_owns_candidates.j2", topic=topic, options=[
            {"seat": s, "holder": seat_holder_text(s), "matched": c.matched, "field": c.field}
            for s, c in zip(seats, match.candidates, strict=True)
        ])
        return Reply(text=text, blocks=[blocks.section(text)])
    seat = get_seat(session, match.best.seat_id)
    return seat_reply(session, seat, heading="who_owns.j2", topic=topic, matched=match.best)


def seat_reply(session: Session, seat, *, heading: str, **extra) -> Reply:
    line = reporting_line(session, seat)
    rows = current_rows(session, seat.metrics)
    context = {
        "seat": seat,
        "holder": seat_holder_text(seat),
        "accountable": accountable_text(seat),
        "line": [{"title": s.title, "id": s.id, "holder": s.holder.name if s.holder else seat_holder_text(s)} for s in line],
        "metrics": [metric_line(r) for r in rows],
        "off_track": sum(1 for r in rows if r.off_track),
        **extra,
    }
    text = render(heading, **context)
    body = render("seat_body.j2", **context)
    out = [blocks.header(f"{seat.title} ({seat.id})"), blocks.section(body)]
    if heading == "who_owns.j2":
        out.insert(1, blocks.section(render("who_owns_lead.j2", **context)))
    return Reply(text=text, blocks=out)
