"""One rule for text that comes from data: what is refused, what is removed, what is kept.

Everything people and agents type ends up in Slack, the audit log and other people's
screens, so it all passes here first (draft titles, bodies, edits and reasons, metric
notes, flag reasons, bus messages, hearing texts, chart file strings):

- **Refused**, with a clear error: NUL (PostgreSQL cannot store it), every other C0
  control, DEL and the C1 controls. Where text may span lines (a body, a note, a
  reason), newline and tab are allowed, and CR LF or a lone CR becomes a newline, as do
  the Unicode line and paragraph separators. In one-line text (a title, a name, a
  subject) a line break is refused: a title with a newline could draw a fake status line.
- **Removed**, silently, because they are invisible and only ever reorder or hide what
  a reader sees: the bidi embeddings, overrides and isolates (U+202A-U+202E,
  U+2066-U+2069) and marks (U+200E, U+200F, U+061C), and zero-width characters
  (U+200B, U+2060-U+2064, U+FEFF, U+180E, soft hyphen U+00AD). Right-to-left text itself
  is untouched: Slack lays it out by the Unicode bidi algorithm without them.
- **Kept where they belong**: the zero-width joiner and non-joiner (U+200D, U+200C) hold
  emoji sequences and Persian and Indic words together, so they stay between two
  non-ASCII characters and are removed anywhere else (inside a plain ASCII word they
  only hide it from a search).

The text is also NFC-normalised, so the same words are stored the same way.
"""

from __future__ import annotations

import re
import unicodedata

from otp_bot.store.domain.errors import Invalid

_REMOVED = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b\u2060-\u2064\ufeff\u180e\u00ad]")
_JOINER = re.compile("[\u200c\u200d]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029]")
_NAMES = {
    "\x00": "a NUL character",
    "\n": "a line break",
    "\t": "a tab",
    "\r": "a carriage return",
    "\x1b": "an escape character",
    "\u2028": "a line break (U+2028)",
    "\u2029": "a paragraph break (U+2029)",
}


def _keep_joiners(text: str) -> str:
    def keep(match: re.Match[str]) -> str:
        i = match.start()
        before, after = text[i - 1 : i], text[i + 1 : i + 2]
        return match.group() if before and after and not before.isascii() and not after.isascii() else ""

    return _JOINER.sub(keep, text)


def _describe(char: str) -> str:
    return _NAMES.get(char, f"a control character (U+{ord(char):04X})")


def clean_text(value: str | None, what: str, *, multiline: bool, limit: int | None = None) -> str:
    """`value` by the rule above, stripped of surrounding whitespace; raises Invalid naming
    `what` ("the title") and the offending character. None becomes ""."""
    text = unicodedata.normalize("NFC", value or "")
    if multiline:
        text = _LINE_BREAKS.sub("\n", text)
    bad = _CONTROL.search(text) or (None if multiline else re.search("[\n\t\u2028\u2029]", text))
    if bad:
        hint = "it is one line" if not multiline and bad.group() in "\n\t\u2028\u2029" else "remove it"
        raise Invalid(f"{what} contains {_describe(bad.group())} at character {bad.start() + 1}; {hint}")
    text = _keep_joiners(_REMOVED.sub("", text)).strip()
    if limit is not None and len(text) > limit:
        raise Invalid(f"{what} is {len(text):,} characters; at most {limit:,} are allowed")
    return text


def clean_optional(value: str | None, what: str, *, multiline: bool, limit: int | None = None) -> str | None:
    """As clean_text, with None (or nothing left) staying None."""
    return clean_text(value, what, multiline=multiline, limit=limit) or None if value is not None else None
