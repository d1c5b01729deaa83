"""The weekly review as the chart file will declare it, set in the store for tests: David
facilitates, David and Bogdan attend, the `scorecard` schedule's post opens the thread."""

from __future__ import annotations

from otp_bot.store.db import Database
from otp_bot.store.models import ReviewSetup

DAVID, BOGDAN = "U02DSTL7K1Q", "U02BGD4N8RM"


def set_review(
    db: Database,
    *,
    schedule: str = "scorecard",
    facilitator: str = "david",
    attendees: tuple[str, ...] = ("david", "bogdan", "pulse"),
    ahead: int = 120,
) -> None:
    with db.session() as s:
        setup = s.get(ReviewSetup, 1) or ReviewSetup(id=1)
        setup.schedule, setup.facilitator_id = schedule, facilitator
        setup.attendees, setup.headlines_ahead = list(attendees), ahead
        s.add(setup)


# ---- the review's thread at the Slack stand-in


def thread(api, channel: str, ts: str) -> list[dict]:
    return [m for m in api.history(channel) if m.get("thread_ts") == ts and m["ts"] != ts]


def reply(api, channel: str, ts: str, words: str, timeout: float = 15.0) -> dict:
    """The thread reply whose text has `words`, once the worker posted it."""
    from tests.support.approvals import wait_until

    try:
        return wait_until(
            lambda: next((m for m in thread(api, channel, ts) if words in m.get("text", "")), None),
            timeout,
            f"a reply saying {words!r}",
        )
    except AssertionError:
        raise AssertionError(f"no reply saying {words!r}; Slack refused: {api.rejections}") from None


def message(api, channel: str, ts: str) -> dict:
    return next(m for m in api.history(channel) if m["ts"] == ts)


def buttons(msg: dict, action: str) -> list[tuple[str, str, str]]:
    """(block_id, action_id, value) of each button with `action` in the message, in an actions
    block or beside a section (a row's button carries its row's id after the action:
    `otp_review_todo_done_7`, `otp_raise_issue_2`)."""

    def ours(e: dict) -> bool:
        return e.get("action_id") == action or e.get("action_id", "").removeprefix(action + "_").isdigit()

    found = []
    for b in msg.get("blocks") or []:
        elements = b.get("elements", []) if b.get("type") == "actions" else [b.get("accessory") or {}]
        found += [(b.get("block_id", ""), e["action_id"], e.get("value", "")) for e in elements if e and ours(e)]
    return found


def press(server, api, user: str, action: str, msg: dict, channel: str, nth: int = 0, value: str | None = None):
    """Click a button of `msg` as Slack sends the click (the message as it is at the stand-in)."""
    from tests.support.slack.signing import block_actions_body

    found = buttons(msg, action)
    assert found, f"no {action} button in {msg.get('text')!r}"
    if value is not None:  # the row's button, or (a forged click) any button of its kind with this value
        found = [b for b in found if b[2] == value] or [(found[0][0], found[0][1], value)]
    block_id, action_id, val = found[nth]
    body = block_actions_body(
        user,
        action_id,
        val,
        channel_id=channel,
        message_ts=msg["ts"],
        response_url=api.response_url(),
        message=msg,
        block_id=block_id,
    )
    status, _, _ = server.send(body)
    assert status == 200


def ephemerals(api) -> list[str]:
    return [c.args["text"] for c in api.calls_to("response_url") if c.args.get("response_type") == "ephemeral"]
