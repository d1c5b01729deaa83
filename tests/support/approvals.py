"""The approval flow as Slack shows it, for the end-to-end tests: drafts submitted from this
process, their approval messages found at the stand-in, clicks signed as Slack signs them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from otp_bot.store.db import Database
from otp_bot.store.domain import outbox
from otp_bot.store.domain.actors import actor_for_holder
from otp_bot.store.domain.gate import drafts
from otp_bot.store.domain.gate.callback_targets import Allowlist
from otp_bot.store.models import Draft, DraftMessage
from tests.support.serve import Server
from tests.support.slack.api import SlackAPI
from tests.support.slack.signing import block_actions_body, view_submission_body

DAVID = "U02DSTL7K1Q"
REQUEST = "otp_draft_request_changes"  # the Request changes button
CALLBACK_SECRET = "callback-secret-for-tests"
# The callback receivers listen on loopback, which callbacks may reach only when an operator
# allows it: both where drafts are submitted and in the delivering `otp serve`.
CALLBACK_ALLOW = "127.0.0.1"
# The lease must exceed the longest call out (Slack's and a callback's timeout) by 2 s.
FAST = {
    "OTP_POLL_SECONDS": "0.1",
    "OTP_SWEEP_SECONDS": "3600",
    "OTP_LEASE_SECONDS": "5",
    "SLACK_TIMEOUT_SECONDS": "3",
    "OTP_CALLBACK_TIMEOUT_SECONDS": "3",
    "OTP_RETRY_BACKOFF": "[0.2, 0.2, 0.2]",
    "OTP_CALLBACK_SECRET": CALLBACK_SECRET,
    "OTP_CALLBACK_ALLOW": CALLBACK_ALLOW,
}


def wait_until(check: Callable[[], Any], timeout: float = 10.0, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def settled(db: Database) -> bool:
    with db.session(readonly=True) as s:
        return outbox.pending_count(s) == 0


def submit(db: Database, seat: str = "retention", holder: str = "pulse", **fields: Any) -> int:
    fields.setdefault("kind", "retention-outreach")
    fields.setdefault("subject", "client:acme")
    fields.setdefault("title", "Check in with Acme")
    fields.setdefault("body", "Hi Jo,\nwe noticed fewer logins this month. Can we help?")
    with db.session() as s:
        return drafts.submit_draft(
            s, actor_for_holder(s, holder), seat_id=seat, callback_allow=Allowlist.parse(CALLBACK_ALLOW), **fields
        ).draft.id


def posted(api: SlackAPI, draft_id: int, channel: str | None = None, timeout: float = 10.0):
    """The approval message for a draft, once the worker posted it."""

    def find():
        for call in api.calls_to("chat.postMessage"):
            values = [
                e.get("value")
                for b in call.args.get("blocks") or []
                for e in b.get("elements", [])
                if b.get("type") == "actions"
            ]
            if call.ok and str(draft_id) in values and (channel is None or call.response["channel"] == channel):
                return call
        return None

    return wait_until(find, timeout, f"the approval message of draft #{draft_id}")


def updates(api: SlackAPI, call) -> list:
    return [c for c in api.calls_to("chat.update") if c.ok and c.args["ts"] == call.response["ts"]]


def _recorded(db: Database, channel: str, ts: str) -> bool:
    with db.session(readonly=True) as s:
        return (
            s.scalar(select(DraftMessage.id).where(DraftMessage.channel == channel, DraftMessage.ts == ts)) is not None
        )


def click(server: Server, user: str, action: str, draft_id: int, message, response_url: str | None = None):
    # Slack answers the post before the worker writes the message down; a person sees it only
    # once Slack shows it. Click then, as they would (a click on a message never recorded is
    # sent after a short wait all the same: some tests click where no draft's buttons are).
    channel, ts = message.response["channel"], message.response["ts"]
    deadline = time.monotonic() + 5
    while not _recorded(server.db, channel, ts) and time.monotonic() < deadline:
        time.sleep(0.02)
    body = block_actions_body(
        user,
        action,
        str(draft_id),
        channel_id=message.response["channel"],
        message_ts=message.response["ts"],
        response_url=response_url or server.api.response_url(),
        message=message.response["message"],
        block_id=f"otp_draft_{draft_id}",
    )
    status, _, _ = server.send(body)
    assert status == 200


def draft_row(db: Database, draft_id: int) -> Draft:
    with db.session(readonly=True) as s:
        draft = s.get(Draft, draft_id)
        draft.decisions  # noqa: B018 - loaded before the session closes
        return draft


def ephemeral(api: SlackAPI, timeout: float = 5.0) -> str:
    call = wait_until(
        lambda: [c for c in api.calls_to("response_url") if c.args.get("response_type") == "ephemeral"],
        timeout,
        "an ephemeral reply",
    )[-1]
    return call.args["text"]


def all_actions(blocks: list[dict]) -> list[str]:
    return [e["action_id"] for b in blocks if b.get("type") == "actions" for e in b["elements"]]


def ask_changes(server, api, user: str, draft_id: int, message, text: str) -> str:
    """Click Request changes and submit the modal; the submission's answer body."""
    opened = len(api.calls_to("views.open"))
    click(server, user, REQUEST, draft_id, message)
    modal = wait_until(lambda: api.calls_to("views.open")[opened:], what="the request-changes modal")[-1].args["view"]
    assert modal["callback_id"] == "otp_draft_changes_view"
    status, _, body = server.send(
        view_submission_body(user, modal["callback_id"], {"changes": {"changes": text}}, modal["private_metadata"])
    )
    assert status == 200
    return body
