"""/otp seat <seat>"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.commands.autonomy import seat_line
from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage
from otp_bot.commands.reply import Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.ledger import ledger_section
from otp_bot.commands.who_owns import seat_reply
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.directory import seat_card
from otp_bot.store.domain.chart.reading import get_seat
from otp_bot.store.domain.gate.ledger import may_read, seat_ledger


@command("seat", "seat <seat>", "one seat: holder, reporting line, accountabilities, metrics, its trust ledger")
def seat_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if len(tokens) != 1:
        raise Usage("name one seat by its id, e.g. `seat retention`" if not tokens else "name one seat id (no spaces)")
    card = seat_card(session, tokens[0])
    reply = seat_reply(session, card, heading="chart/seat.j2")
    if card.holder_kind == "agent":
        # The figures are the org's to see, as the scorecard is; the rejection reasons quote
        # what people wrote about customer text, so only the seat's readers see them.
        text = ledger_section(
            seat_ledger(session, card.id), reasons=may_read(session, actor, get_seat(session, card.id))
        )
        reply.text += "\n\n" + text
        reply.blocks.append(blocks.section(text))
    if (autonomy := seat_line(session, card.id)) is not None:
        reply.text += "\n\n" + autonomy
        reply.blocks.append(blocks.section(autonomy))
    return reply
