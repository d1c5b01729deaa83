"""App Home: the person's to-dos (a Done button each) and their seats' rocks of the quarter
(Confirm / Decline on a track an agent proposed), from `ReviewItems`."""

from __future__ import annotations

from typing import Any

from otp_bot.commands.views import blocks
from otp_bot.commands.views.render import render
from otp_bot.store.domain.rhythm.review_items import ReviewItems

TODO_DONE = "otp_home_todo_done"
ROCK_CONFIRM = "otp_home_rock_confirm"
ROCK_DECLINE = "otp_home_rock_decline"


def _button(label: str, action: str, item_id: int, style: str | None = None) -> dict[str, Any]:
    # action_ids are unique within a view: the item's id follows the prefix the listener matches.
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": f"{action}:{item_id}",
        "value": str(item_id),
    }
    if style:
        button["style"] = style
    return button


def review_blocks(items: ReviewItems) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if items.todos:
        late = sum(1 for t in items.todos if t.days_late)
        out.append(blocks.section(render("home/home_todos_head.j2", count=items.todo_count, late=late)))
        for t in items.todos:
            block = blocks.section(render("home/home_todo.j2", t=t, due=t.due.strftime("%a %d %b")))
            if t.may_complete:
                block["accessory"] = _button("Done", TODO_DONE, t.id)
            out.append(block)
        if items.todo_count > len(items.todos):
            out.append(blocks.context(f"and {items.todo_count - len(items.todos)} more: `/otp todos`"))
    if items.rocks:
        out.append(blocks.section(render("home/home_rocks_head.j2", quarter=items.quarter, count=len(items.rocks))))
        for r in items.rocks:
            out.append(blocks.section(render("home/home_rock.j2", r=r, due=r.due.strftime("%a %d %b"))))
            if r.proposed and r.may_confirm:
                out.append(
                    {
                        "type": "actions",
                        "block_id": f"otp_home_rock_{r.id}",
                        "elements": [
                            _button(f"Confirm {r.proposed} track", ROCK_CONFIRM, r.id, "primary"),
                            _button("Decline", ROCK_DECLINE, r.id),
                        ],
                    }
                )
    return out
