"""The /otp grammar: split the text, pick the subcommand, read its options.

Anything malformed raises `Usage`, which the dispatcher turns into a short usage line
and the closest valid command: never a traceback.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache

from otp_bot.store.domain.errors import Invalid


class Usage(Invalid):
    """The command text did not fit the grammar."""


@dataclass
class Args:
    words: list[str]
    options: dict[str, str | bool] = field(default_factory=dict)

    def int_option(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.options.get(name)
        if raw is None:
            return default
        if raw is True or not str(raw).lstrip("-").isdigit():
            raise Usage(f"--{name} takes a number from {low} to {high}")
        value = int(str(raw))
        if not low <= value <= high:
            raise Usage(f"--{name} takes a number from {low} to {high}")
        return value


def strip_prefix(text: str) -> str:
    """The command without a leading `/otp` or `otp`, as people copy it from the README."""
    words = text.strip().split(maxsplit=1)
    if words and words[0].lower() in ("/otp", "otp"):
        return words[1] if len(words) > 1 else ""
    return text.strip()


def split_share(text: str) -> tuple[str, bool]:
    """`share chart` is `chart`, posted in the channel: (the command, whether to share)."""
    words = strip_prefix(text).split(maxsplit=1)
    if words and words[0].lower() == "share":
        return (words[1] if len(words) > 1 else ""), True
    return strip_prefix(text), False


def tokenize(text: str) -> list[str]:
    # A fresh list each time (handlers slice and consume it); the splitting itself is kept, as
    # one answer splits its text several times (routing, its metric label, dispatch).
    return list(_split(text))


# An apostrophe inside a word (client's, wasn't, O'Neil, matter’s) is a letter, not a quote:
# shlex would pair two of them and delete both. They are set aside before splitting and put back.
_IN_WORD = re.compile(r"(?<=\w)['\u2019](?=\w)")
_KEPT = {"'": "\ue000", "\u2019": "\ue001"}
_BACK = str.maketrans({v: k for k, v in _KEPT.items()})


@lru_cache(maxsize=512)
def _split(text: str) -> tuple[str, ...]:
    # No one types a NUL; PostgreSQL refuses it in any query, so it never reaches one.
    text = _IN_WORD.sub(lambda m: _KEPT[m.group()], text.replace("\x00", ""))
    # Slack sends smart quotes when people type quotes on phones and Macs.
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2018", "'").replace("\u2019", "'")
    try:
        words = shlex.split(text)
    except ValueError:
        # An apostrophe ("clients' files") is not a quote left open: fall back to plain words.
        words = text.split()
    return tuple(w.translate(_BACK) for w in words)


def parse_args(tokens: list[str], *, options: AbstractSet[str], flags: AbstractSet[str] = frozenset()) -> Args:
    """Split `--name value`, `--name=value` and `--flag` from positional words."""
    args = Args(words=[])
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.startswith("--") and len(tok) > 2:
            name, eq, value = tok[2:].partition("=")
            name = name.lower()
            if name in flags and not eq:
                args.options[name] = True
            elif name in options:
                if not eq:
                    if i + 1 >= len(tokens):
                        raise Usage(f"--{name} needs a value")
                    i += 1
                    value = tokens[i]
                args.options[name] = value
            else:
                known = ", ".join(f"--{o}" for o in sorted(options | set(flags))) or "none"
                raise Usage(f"unknown option --{name} (options here: {known})")
        else:
            args.words.append(tok)
        i += 1
    return args


def topic_words(command: str, tokens: list[str]) -> str:
    """The free text of a command that takes a topic and no options (who-owns, rules)."""
    for token in tokens:
        if token.startswith("--") and len(token) > 2:
            raise Usage(f"{command} takes a topic and no options: leave out `{token[:40]}`")
    text = " ".join(tokens)
    if len(text) > 200:
        raise Usage("a topic is at most 200 characters")
    return text
