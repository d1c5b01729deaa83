"""What people saw in Slack, as text: every message the bot posted (channels, threads, DMs) at
the Slack stand-in, in order, with its buttons — the record of a scripted week."""

from __future__ import annotations

from typing import Any


def _text(obj: dict[str, Any] | None) -> str:
    return (obj or {}).get("text", "") if isinstance(obj, dict) else ""


def block_lines(blocks: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            lines.append(f"== {_text(b.get('text'))} ==")
        elif kind == "section":
            if b.get("text"):
                lines.append(_text(b["text"]))
            lines.extend(_text(f) for f in b.get("fields") or [])
            if (acc := b.get("accessory")) and acc.get("type") == "button":
                lines.append(f"[{_text(acc.get('text'))}]")
        elif kind == "context":
            lines.append("  " + " ".join(_text(e) for e in b.get("elements", [])))
        elif kind == "actions":
            lines.append("  " + "  ".join(f"[{_text(e.get('text'))}]" for e in b.get("elements", [])))
        elif kind == "image":
            lines.append(f"(image: {b.get('alt_text', '')})")
    return lines


def transcript(api: Any, names: dict[str, str]) -> str:
    """Every conversation at the stand-in, oldest message first; `names` turns channel and DM ids into words."""
    out: list[str] = []
    for channel in sorted(api.messages, key=lambda c: min((m["ts"] for m in api.history(c)), default="")):
        history = sorted(api.history(channel), key=lambda m: float(m["ts"]))
        if not history:
            continue
        out.append(f"\n######## {names.get(channel, channel)}")
        for m in history:
            where = "   ↳ in thread" if m.get("thread_ts") and m["thread_ts"] != m["ts"] else ""
            out.append(f"\n--- {where.strip() or 'post'}")
            body = block_lines(m.get("blocks") or []) or [m.get("text", "")]
            out.extend(("    " if where else "") + line for line in "\n".join(body).splitlines())
    return "\n".join(out).strip() + "\n"
