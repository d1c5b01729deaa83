"""Which way a line of /otp text goes in Slack: the one place that decides.

Most commands are answered the same way, by `commands.dispatch.run`. A few need Slack
itself and have listeners of their own (bot/slack/listeners): `retire <seat>` opens a form,
`scorecard --post` posts in the channel, `chart --image` uploads a picture. `share …`
answers in the channel. Everything else that only reads is a *plain read*: the HTTP door
(bot/slack/door.py) answers it without Bolt. The listeners' matchers and the door ask
these same functions, so the two can never disagree about who takes a request.
"""

from __future__ import annotations

from otp_bot.commands.dispatch import command_of
from otp_bot.commands.parser import split_share, tokenize

# Options that make an answer do something in Slack; where they appear, Bolt's listeners decide.
SLACK_OPTIONS = frozenset({"--post", "--image"})


def _names(tokens: list[str], name: str) -> bool:
    """The line's first word is the command `name` or one of its aliases (as dispatch reads it)."""
    found = command_of(tokens) if tokens else None
    return found is not None and found.name == name


def retire_seat(text: str) -> str | None:
    """The seat of `retire <seat>` (the listener opens its hearing form), else None."""
    tokens = tokenize(text)
    return tokens[1] if len(tokens) == 2 and _names(tokens, "retire") else None


def posts_scorecard(text: str) -> bool:
    tokens = tokenize(text)
    return _names(tokens, "scorecard") and "--post" in (t.lower() for t in tokens)


def draws_chart(text: str) -> bool:
    command, _ = split_share(text)
    tokens = tokenize(command)
    return _names(tokens, "chart") and "--image" in (t.lower() for t in tokens)


def plain_read(text: str) -> bool:
    """True when `text` only reads and is answered in the acknowledgement alone: it shares
    nothing, names a command that writes nothing, and carries no option that acts in Slack.

    Deliberately narrow: what the listeners above take is never a plain read (`retire`
    writes; `--post` and `--image` are refused wherever they appear), nor is an unknown
    command; all of those take Bolt's way as before."""
    command, share = split_share(text)
    if share:
        return False
    tokens = tokenize(command)
    if any(token.lower() in SLACK_OPTIONS for token in tokens):
        return False
    found = command_of(tokens)
    return found is not None and not found.writes
