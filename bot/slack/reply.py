"""A command Reply as a Slack message: ephemeral with a Share button, or in the channel."""

from __future__ import annotations

from typing import Any

from otp_bot.commands.dispatch import is_read_only
from otp_bot.commands.reply import Reply
from otp_bot.commands.views.blocks import MAX_BLOCKS

SHARE_ACTION = "otp_share"


def share_button(text: str) -> dict[str, Any]:
    # The button carries the command itself (at most 2,000 characters; /otp text is far shorter).
    # Written out as slack_sdk's ActionsBlock and ButtonElement give it, without building them
    # for every answer.
    return {
        "block_id": "otp_share_block",
        "elements": [
            {
                "action_id": SHARE_ACTION,
                "text": {"emoji": True, "text": "Share in channel", "type": "plain_text"},
                "type": "button",
                "value": text[:2000],
            }
        ],
        "type": "actions",
    }


def answer_payload(reply: Reply, text: str, *, share: bool = False, read_only: bool | None = None) -> dict[str, Any]:
    """`read_only` is `is_read_only(text)`, when the caller knows it already."""
    if read_only is None:
        read_only = is_read_only(text)
    if share and reply.ok and read_only:
        return {"response_type": "in_channel", "text": reply.text, "blocks": reply.blocks}
    blocks = list(reply.blocks)
    if reply.ok and len(blocks) < MAX_BLOCKS and text.strip() and read_only:
        blocks.append(share_button(text))
    return {"response_type": "ephemeral", "text": reply.text, "blocks": blocks}
