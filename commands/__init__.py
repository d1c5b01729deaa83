"""The /otp command core: (session, actor, text) -> Reply, shared by Slack and the CLI."""

from otp_bot.commands.dispatch import COMMANDS, run

__all__ = ["COMMANDS", "run"]
