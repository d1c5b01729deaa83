"""Deliveries counted where Slack holds them: the posts in a channel per delivery key."""

from __future__ import annotations

from collections import Counter

from otp_bot.bot.runtime.delivery import EVENT_TYPE
from tests.support.slack.api import SlackAPI

CUSTOMER = "C0CUSTOMER"


def deliveries(api: SlackAPI, channel: str = CUSTOMER) -> Counter:
    """Posts in `channel` per delivery key, as Slack holds them."""
    return Counter(
        m["metadata"]["event_payload"]["key"]
        for m in api.history(channel)
        if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE
    )
