"""Showing Slack mrkdwn readably in a terminal (for `otp ask` and the console)."""

from __future__ import annotations

import datetime as dt
import re

from rich.markup import escape as rich_escape

EMOJI = {
    ":large_green_circle:": "🟢",
    ":large_yellow_circle:": "🟡",
    ":red_circle:": "🔴",
    ":white_circle:": "⚪",
    ":warning:": "⚠️ ",
    ":white_check_mark:": "✅",
    ":robot_face:": "🤖",
    ":bust_in_silhouette:": "👤",
    ":white_square:": "⬜",
}
_EMOJI_RE = re.compile("|".join(map(re.escape, EMOJI)))
_INLINE = [
    (re.compile(r"`([^`\n]+)`"), r"[cyan]\1[/cyan]"),
    (re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])"), r"[bold]\1[/bold]"),
    (re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])"), r"[italic]\1[/italic]"),
]


# Slack's own markup (never data: data arrives escaped): channel and user links show their id.
_MARKUP = [
    (re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>"), r"#\1"),
    (re.compile(r"<@([UW][A-Z0-9]+)>"), r"@\1"),
]


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# A date as Slack shows it to the reader, in the reader's (here: this machine's) time zone;
# one with a token the console does not know shows its fallback text, as an old client would.
_DATE = re.compile(r"<!date\^(\d+)\^([^|>]*)\|([^>]*)>")
_TOKEN = re.compile(r"\{[a-z_]+\}")
_DATE_FORMATS = {"{time}": "%H:%M %Z", "{date_num}": "%Y-%m-%d", "{date_short}": "%b %d", "{date}": "%B %d"}


def _date(match: re.Match[str]) -> str:
    if any(token not in _DATE_FORMATS for token in _TOKEN.findall(match[2])):
        return match[3]
    when = dt.datetime.fromtimestamp(int(match[1])).astimezone()
    return _TOKEN.sub(lambda t: when.strftime(_DATE_FORMATS[t[0]]), match[2])


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")


def plain(text: str, names: dict[str, str] | None = None) -> str:
    """mrkdwn as plain text: entities decoded, emoji codes as characters, a mention of someone
    in `names` as @their name."""
    if names:
        text = _MENTION.sub(lambda m: "@" + names[m[1]] if m[1] in names else m[0], text)
    text = _DATE.sub(_date, text)
    for pattern, repl in _MARKUP:
        text = pattern.sub(repl, text)
    return unescape(_EMOJI_RE.sub(lambda m: EMOJI[m[0]], text))


def to_rich(text: str, names: dict[str, str] | None = None) -> str:
    """mrkdwn as rich console markup; code blocks stay verbatim."""
    out = []
    for i, part in enumerate(text.split("```")):
        part = rich_escape(plain(part, names))
        if i % 2:
            out.append(f"[dim]{part.strip(chr(10))}[/dim]")
            continue
        for pattern, repl in _INLINE:
            part = pattern.sub(repl, part)
        out.append(part)
    return "\n".join(s for s in out)
