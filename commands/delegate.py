"""/otp delegate @person until <date> [reason], /otp delegate off, /otp delegate"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage
from otp_bot.commands.reply import Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.render import render
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.gate import delegation

LISTED = 50


@command(
    "delegate",
    "delegate [@person until 2026-12-20 [reason] | off]",
    "out of office: a named person decides your approvals until a date; alone, lists those in force",
    writes=True,
)
def delegate_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if not tokens:
        rows = [
            {
                "delegator": d.delegator.name,
                "delegate": d.delegate.name,
                "last_day": delegation.last_day(d),
                "reason": d.reason,
            }
            for d in delegation.current(session)[:LISTED]
        ]
        return _reply(render("gate/delegations.j2", rows=rows))
    if len(tokens) == 1 and tokens[0].lower() == "off":
        ended = delegation.end(session, actor)
        return _reply(render("gate/delegation_ended.j2", delegate=ended.delegate.name))
    if len(tokens) < 3 or tokens[1].lower() != "until":
        raise Usage("name the person and the last day, e.g. `delegate @janine until 2026-12-20 on holiday`")
    row = delegation.delegate(session, actor, tokens[0], tokens[2], " ".join(tokens[3:]) or None)
    text = render(
        "gate/delegation_set.j2", delegate=row.delegate.name, last_day=delegation.last_day(row), reason=row.reason
    )
    return _reply(text)


def _reply(text: str) -> Reply:
    return Reply(text=text, blocks=[blocks.section(text)])
