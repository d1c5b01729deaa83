"""What a command returns: text for people and notifications, Block Kit for Slack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Attachment:
    """A file an answer comes with (the chart as a picture): Slack uploads it, `otp ask`
    writes it. `render` makes it from plain values the command read, so the surface makes it
    after the command's transaction has closed."""

    filename: str
    title: str
    alt_text: str
    render: Callable[[], bytes]


@dataclass
class Reply:
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ok: bool = True
    in_channel: bool = False
    # A step only Slack can take (a button, a form), as a terminal takes it: `otp ask` shows it.
    cli_step: str | None = None
    attachment: Attachment | None = None

    def to_slack(self) -> dict[str, Any]:
        return {
            "response_type": "in_channel" if self.in_channel else "ephemeral",
            "text": self.text,
            "blocks": self.blocks,
        }
