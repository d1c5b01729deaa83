"""/otp seat <seat>"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage
from otp_bot.commands.reply import Reply
from otp_bot.commands.who_owns import seat_reply
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.directory import seat_card


@command("seat", "seat <seat>", "one seat: holder, reporting line, accountabilities, metrics")
def seat_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if len(tokens) != 1:
        raise Usage("name one seat by its id, e.g. `seat retention`" if not tokens else "name one seat id (no spaces)")
    return seat_reply(session, seat_card(session, tokens[0]), heading="chart/seat.j2")
