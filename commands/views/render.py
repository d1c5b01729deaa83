"""Rendering: the one mrkdwn escape, and the Jinja environment that applies it.

Every `{{ value }}` in a template is escaped for Slack mrkdwn unless it is `Mrkdwn`
(already-built markup), so a seat titled `<!channel>` cannot ping a channel and
`<http://evil|bank>` cannot disguise a link.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


class Mrkdwn(str):
    """A string that is already safe mrkdwn; the renderer passes it through."""


def escape(value: Any) -> Mrkdwn:
    """Slack's rule: escape exactly &, < and >; nothing else."""
    if isinstance(value, Mrkdwn):
        return value
    return Mrkdwn(str(value).translate(_ESCAPES))


# Slack mrkdwn has no escape for its formatting characters. In one-line labels (draft
# titles) they are shown as look-alikes that Slack does not interpret, so a title cannot
# bold, strike, or code-format the text around it.
_INLINE = str.maketrans({"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"})


def inline(value: Any) -> Mrkdwn:
    """A one-line label from data: escaped, on one line, formatting characters inert."""
    return Mrkdwn(" ".join(str(value).split()).translate(_INLINE).translate(_ESCAPES))


def _finalize(value: Any) -> Any:
    return "" if value is None else escape(value)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("otp_bot.templates", ""),
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
        auto_reload=False,  # templates ship with the package: no stat() of each file per render
    )
    env.filters["pad"] = lambda s, n: str(s)[:n].ljust(n)
    env.filters["inline"] = inline
    return env


def render(template: str, **context: Any) -> Mrkdwn:
    return Mrkdwn(environment().get_template(template).render(**context).strip())


def truncate(text: str, limit: int, suffix: str = "…") -> str:
    return text if len(text) <= limit else text[: max(0, limit - len(suffix))] + suffix


def fit_escaped(text: str, limit: int) -> tuple[str, int]:
    """The longest start of `text` whose escaped form fits in `limit` characters, and how
    many characters were left out: cutting after escaping could split an entity."""
    size = 0
    for i, char in enumerate(text):
        size += len(escape(char))
        if size > limit:
            return text[:i], len(text) - i
    return text, 0
