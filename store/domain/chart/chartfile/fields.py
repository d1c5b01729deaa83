"""The chart file's field types and the checks its sections share: ids, text, Slack ids, timezones."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.text_rules import clean_text


def _by_text_rule(multiline: bool) -> AfterValidator:
    """Chart strings follow the one text rule (text_rules): no control characters, nothing
    invisible; titles, names and the like are one line."""

    def check(value: str) -> str:
        if value.isascii() and value.isprintable():
            # Printable ASCII has nothing the rule refuses or removes, and NFC leaves it as it
            # is: the rule would only strip it. Most of a chart is such text.
            cleaned = value.strip()
            if value and not cleaned:
                raise ValueError("is empty once invisible characters are removed")
            return cleaned
        try:
            cleaned = clean_text(value, "the text", multiline=multiline)
        except Invalid as exc:
            raise ValueError(exc.message.removeprefix("the text ")) from None
        if value and not cleaned:
            raise ValueError("is empty once invisible characters are removed")
        return cleaned

    return AfterValidator(check)


Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), _by_text_rule(False)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), _by_text_rule(False)]
Description = Annotated[str, _by_text_rule(True)]
SlackId = Annotated[str, StringConstraints(pattern=r"^[UWCGDS][A-Z0-9]{2,31}$")]
# Where a newcomer finds a channel's id: the name (`general`) is what they know.
CHANNEL_HELP = (
    "a channel is named by its id (C followed by letters and digits, like C0123ABCD), not its name: "
    "in Slack, open the channel's details (click its name) and find the id at the bottom of the About "
    "tab, or copy the channel's link, whose last part is the id"
)


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def decimal_mark_named(value: object) -> object:
    """`comma` and `point` for the marks themselves: a bare comma must be quoted in YAML."""
    named = {"comma": ",", "point": ".", "dot": ".", "period": "."}
    return named.get(value.strip().lower(), value.strip()) if isinstance(value, str) else value


def known_zone(value: str | None) -> str | None:
    if value is not None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}; use an IANA name like America/New_York") from None
    return value
