"""Showing Slack mrkdwn readably in a terminal (for `otp ask` and the console)."""

from __future__ import annotations

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


# Slack's own markup (never data: data arrives escaped): dates show their fallback,
# channel and user links their id.
_MARKUP = [
    (re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>"), r"\1"),
    (re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>"), r"#\1"),
    (re.compile(r"<@([UW][A-Z0-9]+)>"), r"@\1"),
]


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain(text: str) -> str:
    """mrkdwn as plain text: entities decoded, emoji codes as characters."""
    for pattern, repl in _MARKUP:
        text = pattern.sub(repl, text)
    return unescape(_EMOJI_RE.sub(lambda m: EMOJI[m[0]], text))


def to_rich(text: str) -> str:
    """mrkdwn as rich console markup; code blocks stay verbatim."""
    out = []
    for i, part in enumerate(text.split("```")):
        part = rich_escape(plain(part))
        if i % 2:
            out.append(f"[dim]{part.strip(chr(10))}[/dim]")
            continue
        for pattern, repl in _INLINE:
            part = pattern.sub(repl, part)
        out.append(part)
    return "\n".join(s for s in out)
