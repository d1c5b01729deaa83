"""Messages and views checked as Slack checks them (text, Block Kit limits, modal fields),
and views recorded as Slack returns them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from tests.support.blockkit import LIMITS, problems
from tests.support.slack.web_methods import APP_ID, BOT_ID, TEAM_ID, Refused

MODAL_TEXT_LIMIT = 24  # modal title / submit / close
PRIVATE_METADATA_LIMIT = 3000


class PayloadChecks:
    """The validating half of `SlackAPI`: called by the method handlers, holding its lock."""

    views: dict[str, dict[str, Any]]
    _next_id: Callable[[str], str]

    def _check_message(self, args: dict[str, Any]) -> None:
        text = args.get("text") or args.get("markdown_text")
        blocks, attachments = args.get("blocks"), args.get("attachments")
        if not text and not blocks and not attachments:
            raise Refused("no_text")
        if blocks is not None:
            if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
                raise Refused("invalid_blocks_format")
            found = _block_problems({"text": text or "", "blocks": blocks}, view=False)
            if found:
                raise Refused("invalid_blocks", errors=found)
        elif text and len(text) > LIMITS["message_text"] * 10:
            raise Refused("msg_too_long")

    def _check_view(self, view: Any, *, kinds: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(view, dict):
            raise Refused("invalid_arguments", response_metadata={"messages": ["[ERROR] missing view"]})
        found: list[str] = []
        if view.get("type") not in kinds:
            found.append(f"view type must be one of {kinds}")
        blocks = view.get("blocks")
        if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
            found.append("blocks must be a list of objects")
        else:
            found += _block_problems(view, view=True)
        if view.get("type") == "modal":
            for key in ("title", "submit", "close"):
                text = (view.get(key) or {}).get("text", "")
                if len(text) > MODAL_TEXT_LIMIT:
                    found.append(f"{key} over {MODAL_TEXT_LIMIT} characters")
            if not view.get("title"):
                found.append("modal without title")
        if len(view.get("private_metadata") or "") > PRIVATE_METADATA_LIMIT:
            found.append(f"private_metadata over {PRIVATE_METADATA_LIMIT} characters")
        if len(view.get("callback_id") or "") > LIMITS["id"]:
            found.append("callback_id over 255 characters")
        if found:
            raise Refused(
                "invalid_arguments", errors=found, response_metadata={"messages": [f"[ERROR] {p}" for p in found]}
            )
        return view

    def _view_record(self, view: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        view_id = view_id or self._next_id("V")
        previous = self.views.get(view_id, {})
        record = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view.get("type"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{time.time():.6f}.{uuid.uuid4().hex[:8]}",
            "title": view.get("title"),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "clear_on_close": bool(view.get("clear_on_close")),
            "notify_on_close": bool(view.get("notify_on_close")),
            "external_id": view.get("external_id", ""),
            "previous_view_id": previous.get("previous_view_id"),
            "root_view_id": previous.get("root_view_id", view_id),
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        self.views[view_id] = record
        return record


def _block_problems(payload: dict[str, Any], *, view: bool) -> list[str]:
    try:
        return problems(payload, view=view)
    except (KeyError, TypeError, AttributeError) as e:
        return [f"malformed block: {type(e).__name__} {e}"]
