"""Where a value ends among the words of a message: `/otp kpi mrr 12 500 € after the promo`."""

from __future__ import annotations

import re

from otp_bot.store.domain.scorecard import measures
from otp_bot.store.domain.scorecard.measures import Measure, is_currency_token
from otp_bot.store.domain.scorecard.value_parse import MINUS, own_unit

_GROUPED = re.compile(rf"^[{MINUS}+]?\D{{0,3}}\d{{1,3}}( \d{{3}})*$")  # `12`, `$12 500`: a group may follow
_GROUP = re.compile(r"^\d{3}([.,]\d+)?(%|k|M|bn)?$")
_UNIT_WORD = re.compile(r"^(%|min|k|M|bn)$", re.IGNORECASE)


def split_value(words: list[str], measure: Measure | None = None) -> tuple[str, list[str]]:
    """The value at the head of `words` (a command's arguments split on spaces) and the words
    after it. `12 500` and `85 %` are one value: a three-digit group after a number that could
    continue, or a lone %, currency or magnitude word, is read as part of it; so is the metric's
    own unit (`12 calls`, `NPS 45`), a unit of time (`2 d`; on a duration `1 h 30 min`).
    (A note that starts with such a word is quoted: `kpi calls 12 "500 more than last week"`.)"""
    value, rest = words[0], list(words[1:])
    timed = measure is not None and measure.kind == "duration"

    def time_word(word: str) -> bool:
        # On any metric: `2 d` on a count is refused as a whole, not recorded as 2 with a note `d`.
        return word.lower() in (measures.VALUE_TIME_WORDS if timed else measures.TIME_WORDS)

    while rest:
        word = rest[0]
        after_digit = value[-1:].isdigit()
        if (_GROUP.match(word) and _GROUPED.match(value)) or (
            after_digit
            and (
                _UNIT_WORD.match(word)
                or is_currency_token(word)
                or time_word(word)
                or (measure is not None and own_unit(word, measure))
            )
        ):
            value += " " + word
        elif (
            word[:1].isdigit()
            and measure is not None
            and (own_unit(value, measure) or (time_word(value.split()[-1]) and len(rest) > 1 and time_word(rest[1])))
        ):
            value += " " + word  # `NPS 45`; `1 h 30 min`
        else:
            break
        rest.pop(0)
    return value, rest
