"""/otp who-owns <topic>"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage, topic_words
from otp_bot.commands.reply import Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.describe import card_holder_text, metric_line, status_legend, vacancy_text
from otp_bot.commands.views.render import render
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.directory import SeatCard, directory
from otp_bot.store.domain.chart.question import topic_of
from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.chart.rules import rule_lines_naming
from otp_bot.store.domain.chart.search import normalize, who_owns
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.metrics import current_rows

RULES_SHOWN = 5  # on a seat's card; `/otp rules <seat>` shows them all, in full


@command(
    "who-owns",
    "who-owns <topic>",
    "the seat that owns a topic, its holder and its numbers",
    aliases=("whoowns", "who", "owner", "owns"),
)
def who_owns_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    question = topic_words("who-owns", tokens)
    topic = topic_of(question)
    if not topic:
        raise Usage("tell me the topic, e.g. `who-owns retention`")
    org = get_org(session)
    match = who_owns(session, topic)
    topic = match.query
    if match.best is None and not match.candidates:
        text = render("chart/who_owns_none.j2", topic=topic)
        return Reply(text=text, blocks=[blocks.section(text)])
    kept = directory(session)
    if match.best is None:
        cards = [kept.card(c.seat_id) for c in match.candidates]
        options = [
            {"seat": card, "matched": c.matched, "field": c.field, "holder": card_holder_text(card)}
            for c, card in zip(match.candidates, cards, strict=True)
        ]
        text = render("chart/who_owns_candidates.j2", topic=topic, options=options)
        return Reply(text=text, blocks=[blocks.section(text)])
    return seat_reply(
        session,
        kept.card(match.best.seat_id),
        heading="chart/who_owns.j2",
        today=periods.today(org.timezone),
        topic=topic,
        matched=match.best,
        same=normalize(match.best.matched) == normalize(topic),
    )


def seat_reply(session: Session, seat: SeatCard, *, heading: str, today: dt.date | None = None, **extra: Any) -> Reply:
    rows = current_rows(session, seat.metrics, today)
    context = {
        "seat": seat,
        "holder": card_holder_text(seat),
        "accountable": seat.accountable,
        "line": [
            {"title": s.title, "id": s.id, "holder": s.holder or vacancy_text(s.status)}
            for s in directory(session).line_above(seat.id)
        ],
        "metrics": [metric_line(r) for r in rows],
        "off_track": sum(1 for r in rows if r.off_track),
        "legend": status_legend() if rows else "",
        "rules": [{"id": r.id, "rule": r.rule} for r in rule_lines_naming(session, seat.id)],
        "rules_shown": RULES_SHOWN,
        **extra,
    }
    # The body (and the lead) rendered once, for the text and for their blocks alike.
    body = render("chart/seat_body.j2", **context)
    lead = render("chart/who_owns_lead.j2", **context) if heading == "chart/who_owns.j2" else None
    text = render(heading, body=body, lead=lead, **context)
    out = [blocks.header(f"{seat.title} ({seat.id})"), blocks.section(body)]
    if lead is not None:
        out.insert(1, blocks.section(lead))
    return Reply(text=text, blocks=out)
