"""/otp help"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import COMMANDS, command
from otp_bot.commands.reply import Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.render import render
from otp_bot.store.domain.actors import Actor


@command("help", "help", "this list", aliases=("?", "commands", "usage"))
def help_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    cmds = sorted(COMMANDS.values(), key=lambda c: (c.name != "help", c.name))
    text = render("help.j2", commands=cmds)
    return Reply(text=text, blocks=[blocks.section(text)])
