"""A checker for Slack's documented Block Kit limits, applied to every payload in tests."""

from __future__ import annotations

from typing import Any

LIMITS = {
    "message_blocks": 50,
    "view_blocks": 100,
    "section_text": 3000,
    "field_text": 2000,
    "fields": 10,
    "header_text": 150,
    "context_elements": 10,
    "actions_elements": 25,
    "button_text": 75,
    "button_value": 2000,
    "id": 255,
    "message_text": 4000,
    "total_chars": 12000,
}


def problems(payload: dict[str, Any], *, view: bool = False) -> list[str]:
    out: list[str] = []
    blocks = payload.get("blocks", [])
    limit = LIMITS["view_blocks"] if view else LIMITS["message_blocks"]
    if len(blocks) > limit:
        out.append(f"{len(blocks)} blocks > {limit}")
    if not view and not payload.get("text"):
        out.append("no fallback text")
    if len(payload.get("text", "")) > LIMITS["message_text"] * 10:
        out.append("text over 40,000 characters")
    if sum(len(str(b)) for b in blocks) > LIMITS["total_chars"]:
        out.append("blocks over ~12,000 characters in total")
    ids: set[str] = set()
    for i, b in enumerate(blocks):
        where = f"blocks[{i}] ({b.get('type')})"
        if "block_id" in b:
            if len(b["block_id"]) > LIMITS["id"] or b["block_id"] in ids:
                out.append(f"{where}: block_id too long or repeated")
            ids.add(b["block_id"])
        match b.get("type"):
            case "section":
                if "text" in b and len(b["text"]["text"]) > LIMITS["section_text"]:
                    out.append(f"{where}: text {len(b['text']['text'])} > 3000")
                if "text" not in b and "fields" not in b:
                    out.append(f"{where}: neither text nor fields")
                out.extend(
                    f"{where}: field over 2000" for f in b.get("fields", []) if len(f["text"]) > LIMITS["field_text"]
                )
                if len(b.get("fields", [])) > LIMITS["fields"]:
                    out.append(f"{where}: more than 10 fields")
            case "header":
                if len(b["text"]["text"]) > LIMITS["header_text"] or b["text"]["type"] != "plain_text":
                    out.append(f"{where}: header text over 150 or not plain_text")
            case "context":
                if not 1 <= len(b["elements"]) <= LIMITS["context_elements"]:
                    out.append(f"{where}: context elements not 1..10")
            case "actions":
                if len(b["elements"]) > LIMITS["actions_elements"]:
                    out.append(f"{where}: more than 25 elements")
                for e in b["elements"]:
                    if e.get("type") == "button":
                        if (
                            len(e["text"]["text"]) > LIMITS["button_text"]
                            or len(e.get("value", "")) > LIMITS["button_value"]
                        ):
                            out.append(f"{where}: button text or value too long")
                        if "action_id" in e:
                            if e["action_id"] in ids or len(e["action_id"]) > LIMITS["id"]:
                                out.append(f"{where}: action_id repeated or too long")
                            ids.add(e["action_id"])
            case "divider" | "image" | "input" | "rich_text":
                pass
            case other:
                out.append(f"{where}: unknown block type {other}")
    return out


def assert_valid(payload: dict[str, Any], *, view: bool = False) -> None:
    found = problems(payload, view=view)
    assert not found, found


def mrkdwn_texts(node):
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            yield node["text"]
        for value in node.values():
            yield from mrkdwn_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from mrkdwn_texts(item)


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
