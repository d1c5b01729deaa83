"""The Raise as issue form (the message shortcut): a modal with the title taken from the
message, the seat that owns the issue (the clicker's own seats first), and an optional
detail; what a submission says; the errors under each field. Pure builders.

Slack's limits: 24 characters of title, 100 options a static select (75 characters each),
150 characters of an input's initial value in a placeholder, 3,000 in a value.
"""

from __future__ import annotations

import json
from typing import Any

from otp_bot.commands.views import blocks
from otp_bot.commands.views.render import render, truncate
from otp_bot.store.domain.review.message_issues import SeatChoice, trimmed_title

RAISE_VIEW = "otp_raise_issue_view"
SHORTCUT = "otp_raise_issue"  # the message shortcut's callback id (manifest.yml)
FIELDS = ("title", "seat", "detail")
TITLE_MAX = 300
DETAIL_MAX = 3000


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit)}


def _option(choice: SeatChoice) -> dict[str, Any]:
    text = f"{choice.title[:50]} ({choice.id})" + (" · yours" if choice.mine else "")
    return {"text": _plain(text, 75), "value": choice.id}


def raise_modal(message_text: str, link: str, choices: list[SeatChoice]) -> dict[str, Any]:
    title: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "title",
        "max_length": TITLE_MAX,
        "placeholder": _plain("What is the issue?", 150),
    }
    if initial := trimmed_title(message_text):
        title["initial_value"] = initial
    seat: dict[str, Any] = {
        "type": "static_select",
        "action_id": "seat",
        "placeholder": _plain("The seat that owns it", 150),
        "options": [_option(c) for c in choices],
    }
    mine = next((c for c in choices if c.mine), None)
    if mine is not None:
        seat["initial_option"] = _option(mine)
    detail = {
        "type": "plain_text_input",
        "action_id": "detail",
        "multiline": True,
        "max_length": DETAIL_MAX,
        "placeholder": _plain("What is known, what was tried (optional)", 150),
    }
    return {
        "type": "modal",
        "callback_id": RAISE_VIEW,
        "title": _plain("Raise an issue", 24),
        "submit": _plain("Raise", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": json.dumps({"ref": link}),
        "blocks": [
            blocks.context(render("review/raise_form_intro.j2", link=link)),
            {"type": "input", "block_id": "title", "label": _plain("Issue", 150), "element": title},
            {"type": "input", "block_id": "seat", "label": _plain("Owned by", 150), "element": seat},
            {
                "type": "input",
                "block_id": "detail",
                "label": _plain("Detail", 150),
                "optional": True,
                "element": detail,
            },
        ],
    }


def submitted(view: dict[str, Any]) -> tuple[str, str, str | None, str]:
    """Title, seat, detail (None when empty) and the message's link a submission carries."""
    values: dict[str, Any] = (view.get("state") or {}).get("values") or {}

    def get(block: str) -> str:
        element = (values.get(block) or {}).get(block) or {}
        return element.get("value") or (element.get("selected_option") or {}).get("value") or ""

    try:
        ref = str(json.loads(view.get("private_metadata") or "{}").get("ref", ""))
    except (ValueError, AttributeError):
        ref = ""
    return get("title"), get("seat"), get("detail") or None, ref


def field_errors(problems: dict[str, str]) -> dict[str, str]:
    """Slack's `errors` for `response_action: errors`: a field's own, or under the title."""
    out: dict[str, str] = {}
    for key, message in problems.items():
        where = key if key in FIELDS else "title"
        out[where] = truncate(f"{out[where]} {message}" if where in out else message, 150)
    return out


def done_modal(text: str) -> dict[str, Any]:
    """What replaces the form once the issue is raised."""
    return {
        "type": "modal",
        "title": _plain("Issue raised", 24),
        "close": _plain("Done", 24),
        "blocks": [blocks.section(text)],
    }
