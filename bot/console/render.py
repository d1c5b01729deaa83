"""Block Kit as terminal text, with every button numbered so it can be clicked by typing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.markup import escape

from otp_bot.bot.console.modal import field_hint
from otp_bot.bot.console.terminal import to_rich


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str
    block_id: str
    container: dict[str, Any]  # where it was shown: a message (channel, ts, response URL) or a view


def render_blocks(
    blocks: list[dict[str, Any]],
    container: dict[str, Any],
    buttons: list[Button],
    names: dict[str, str] | None = None,  # Slack user id -> name, for mentions
) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        match block.get("type"):
            case "header":
                lines.append(f"[bold underline]{escape(block['text']['text'])}[/bold underline]")
            case "section":
                if "text" in block:
                    lines.append(to_rich(block["text"]["text"], names))
                lines.extend(to_rich(field["text"], names) for field in block.get("fields", []))
                accessory = block.get("accessory") or {}
                if accessory.get("type") == "button":  # a row's own button, at its right in Slack
                    lines[-1] += "   " + _number(accessory, block, container, buttons)
            case "context":
                shown = "  ".join(to_rich(e.get("text", ""), names) for e in block["elements"])
                lines.append(f"[dim]{shown}[/dim]")
            case "input":
                element = block.get("element", {})
                label, hint = escape(block["label"]["text"]), escape(field_hint(block))
                lines.append(f"[bold]{label}[/bold] [dim](type [cyan]{hint}[/cyan])[/dim]")
                if element.get("initial_value"):
                    lines.append("[dim]" + escape(element["initial_value"]) + "[/dim]")
            case "divider":
                lines.append("[dim]" + "─" * 40 + "[/dim]")
            case "actions":
                labels = [
                    _number(element, block, container, buttons)
                    for element in block["elements"]
                    if element.get("type") == "button"
                ]
                lines.append("   ".join(labels))
    return lines


def _number(element: dict[str, Any], block: dict[str, Any], container: dict[str, Any], buttons: list[Button]) -> str:
    """A button, numbered next in `buttons`, as it is shown."""
    label = element["text"]["text"]
    buttons.append(Button(label, element["action_id"], element.get("value", ""), block.get("block_id", ""), container))
    return f"[reverse] {len(buttons)} [/reverse] {escape(label)}"
