"""Block Kit assembled in code, within Slack's limits.

Limits (Slack's documentation): 50 blocks a message, 3,000 characters a section,
150 a header, 10 context elements; and roughly 12,000 characters of blocks in total
before Slack refuses a message even when every block is within its own limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import ContextBlock, DividerBlock, MarkdownTextObject, SectionBlock

from otp_bot.commands.views.render import truncate

MAX_BLOCKS = 50
SECTION_TEXT = 3000
HEADER_TEXT = 150
TOTAL_TEXT = 11000


# The two blocks every answer has are written out as the dicts slack_sdk's models give (keys
# in its order): building and validating the models cost more than the rest of a short answer.
# truncate() keeps them within the limits those models would check.


def header(text: str) -> dict[str, Any]:
    plain = {"emoji": True, "text": truncate(text, HEADER_TEXT), "type": "plain_text"}
    return {"text": _unless_empty(plain), "type": "header"}


def section(mrkdwn: str) -> dict[str, Any]:
    return {"text": _unless_empty({"text": truncate(mrkdwn, SECTION_TEXT), "type": "mrkdwn"}), "type": "section"}


def _unless_empty(text_object: dict[str, Any]) -> dict[str, Any]:
    # slack_sdk leaves an empty text out of the object altogether; so does this.
    return text_object if text_object["text"] else {k: v for k, v in text_object.items() if k != "text"}


def fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return SectionBlock(
        fields=[MarkdownTextObject(text=truncate(f"*{k}*\n{v}", 2000)) for k, v in pairs[:10]]
    ).to_dict()


def context(*mrkdwn: str) -> dict[str, Any]:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(t, 2000)) for t in mrkdwn[:10]]).to_dict()


def divider() -> dict[str, Any]:
    return DividerBlock().to_dict()


def _size(block: dict[str, Any]) -> int:
    return len(str(block))


class BlockBudget:
    """Collects blocks until Slack's limits would be crossed.

    One block and a little text are held back, so a closing "and N more" always fits.
    """

    def __init__(self, max_blocks: int = MAX_BLOCKS, max_chars: int = TOTAL_TEXT) -> None:
        self.blocks: list[dict[str, Any]] = []
        self._max_blocks = max_blocks - 1
        self._max_chars = max_chars - 300
        self._chars = 0
        self.full = False

    def add(self, block: dict[str, Any]) -> bool:
        size = _size(block)
        if self.full or len(self.blocks) >= self._max_blocks or self._chars + size > self._max_chars:
            self.full = True
            return False
        self.blocks.append(block)
        self._chars += size
        return True

    def close(self, note: str) -> None:
        """Add the closing context block into the reserved room."""
        self.blocks.append(context(truncate(note, 280)))


def lines_to_sections(lines: Sequence[str], budget: BlockBudget, more: str = "and {n} more") -> int:
    """Pack lines into as few sections as fit; return how many lines did not fit."""
    placed = 0
    chunk: list[str] = []
    length = 0
    for line in lines:
        if chunk and length + len(line) + 1 > SECTION_TEXT - 100:
            if not budget.add(section("\n".join(chunk))):
                chunk = []
                break
            placed += len(chunk)
            chunk, length = [], 0
        chunk.append(line)
        length += len(line) + 1
    if chunk and budget.add(section("\n".join(chunk))):
        placed += len(chunk)
    left = len(lines) - placed
    if left:
        budget.close(more.format(n=left))
    return left
