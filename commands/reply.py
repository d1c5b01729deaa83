"""What a command returns: text for people and notifications, Block Kit for Slack."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ok: bool = True
    in_channel: bool = False
    # A step only Slack can take (a button, a form), as a terminal takes it: `otp ask` shows it.
    cli_step: str | None = None

    def to_slack(self) -> dict[str, Any]:
        return {
            "response_type": "in_channel" if self.in_channel else "ephemeral",
            "text": self.text,
            "blocks": self.blocks,
        }
