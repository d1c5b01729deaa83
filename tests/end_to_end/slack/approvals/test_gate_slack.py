"""The human gate end to end: `otp serve` (with its outbox worker) in a subprocess, drafts
submitted by another process, clicks signed as Slack signs them, the bot's Web API calls
answered by the local Slack stand-in, callbacks received by a local HTTP server."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select, update

from otp_bot.store.db import Database
from otp_bot.store.domain import audit, outbox
from otp_bot.store.domain.actors import actor_for_holder
from otp_bot.store.domain.gate import drafts, flags
from otp_bot.store.domain.gate.callback_targets import Allowlist
from otp_bot.store.models import ApprovalRoute, Draft, DraftDecision

from .blockkit import assert_valid
from .serve import BOGDAN, PULSE, STRANGER, Server
from .signing import block_actions_body, view_submission_body
from .slack_api import SlackAPI

DAVID = "U02DSTL7K1Q"
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


class Callbacks:
    """A destination for callback deliveries: records each request; answers as told."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[int | float] = []  # status codes, or a float: hang that many seconds
        self.location: str | None = None  # sent with a 3xx answer
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append(
                    {"method": self.command, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                answer = outer.answers.pop(0) if outer.answers else 200
                if isinstance(answer, float):
                    time.sleep(answer)
                    answer = 200
                self.send_response(answer)
                if 300 <= answer < 400 and outer.location:
                    self.send_header("Location", outer.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_PUT = do_HEAD = do_POST  # a followed redirect may come as any of these

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def keys(self) -> list[str]:
        return [r["headers"]["idempotency-key"] for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def server(module_db, api) -> Iterator[Server]:
    srv = Server(module_db, api, env=FAST)
    yield srv
    output = srv.stop()
    assert "Traceback" not in output, output


@pytest.fixture(autouse=True)
def clean_api(api, module_db):
    # Messages stay, as in Slack: a worker may still update an earlier test's approval message.
    api.reset(keep_messages=True)
    yield
    # Let the worker finish what this test set off, so it does not spill into the next one.
    wait_until(lambda: settled(module_db), timeout=60, what="the outbox to drain")
    api.assert_no_rejections()


def settled(db: Database) -> bool:
    with db.session(readonly=True) as s:
        return outbox.pending_count(s) == 0


@pytest.fixture
def callbacks() -> Iterator[Callbacks]:
    c = Callbacks()
    yield c
    c.close()


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


def click(server: Server, user: str, action: str, draft_id: int, message, response_url: str | None = None):
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


# ------------------------------------------------------------------ the core moment


def test_approve_posts_updates_and_delivers_once(server, module_db, api):
    draft_id = submit(module_db, destination="C0CLIENTACME")
    message = posted(api, draft_id, channel="C0APPROVALS")
    assert_valid(message.args)
    assert all_actions(message.args["blocks"]) == ["otp_draft_approve", "otp_draft_edit", "otp_draft_reject"]
    shown = json.dumps(message.args["blocks"])
    assert "Check in with Acme" in shown and "Client Retention" in shown and "Pulse (agent)" in shown

    click(server, BOGDAN, "otp_draft_approve", draft_id, message)
    update = wait_until(lambda: updates(api, message), what="the message updated in place")[-1]
    assert all_actions(update.args["blocks"]) == []
    assert "Approved" in json.dumps(update.args["blocks"]) and "Bogdan" in json.dumps(update.args["blocks"])
    delivered = wait_until(
        lambda: [c for c in api.calls_to("chat.postMessage") if c.ok and c.response["channel"] == "C0CLIENTACME"],
        what="the delivery",
    )
    wait_until(lambda: draft_row(module_db, draft_id).delivery == "delivered", what="delivery recorded")
    time.sleep(0.5)  # a second delivery, if there were one, would land by now
    assert len([c for c in api.calls_to("chat.postMessage") if c.response.get("channel") == "C0CLIENTACME"]) == 1
    assert delivered[0].args["text"].startswith("Hi Jo,")
    draft = draft_row(module_db, draft_id)
    assert draft.status == "approved" and [d.holder_id for d in draft.decisions] == ["bogdan"]
    with module_db.session(readonly=True) as s:
        assert audit.verify(s) is None


def test_a_non_approver_is_told_who_decides_and_nothing_changes(server, module_db, api):
    draft_id = submit(module_db)
    message = posted(api, draft_id)
    click(server, DAVID, "otp_draft_approve", draft_id, message)
    assert "not an approver for draft" in ephemeral(api) and "Bogdan" in ephemeral(api)
    assert draft_row(module_db, draft_id).status == "pending" and not draft_row(module_db, draft_id).decisions
    assert updates(api, message) == []


def test_the_drafting_agent_cannot_approve_its_own_draft(server, module_db, api):
    draft_id = submit(module_db)
    message = posted(api, draft_id)
    click(server, PULSE, "otp_draft_approve", draft_id, message)
    assert "you drafted" in ephemeral(api)
    assert draft_row(module_db, draft_id).status == "pending"


def test_a_button_on_another_drafts_message_changes_nothing(server, module_db, api):
    first, second = submit(module_db), submit(module_db, title="Another")
    message = posted(api, first)
    posted(api, second)
    click(server, BOGDAN, "otp_draft_approve", second, message)  # draft 2's id on draft 1's message
    assert "not on draft" in ephemeral(api)
    assert draft_row(module_db, second).status == "pending" and draft_row(module_db, first).status == "pending"


def test_a_double_click_makes_one_decision(server, module_db, api):
    draft_id = submit(module_db)
    message = posted(api, draft_id)
    clicks = [
        threading.Thread(target=click, args=(server, BOGDAN, "otp_draft_approve", draft_id, message)) for _ in range(2)
    ]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join()
    wait_until(lambda: draft_row(module_db, draft_id).status == "approved", what="the approval")
    assert "already" in ephemeral(api)
    assert len(draft_row(module_db, draft_id).decisions) == 1


def test_edit_and_approve_through_the_modal(server, module_db, api):
    draft_id = submit(module_db, destination="C0CLIENTACME")
    message = posted(api, draft_id)
    click(server, BOGDAN, "otp_draft_edit", draft_id, message)
    modal = wait_until(lambda: api.calls_to("views.open"), what="the edit modal")[-1].args["view"]
    assert modal["callback_id"] == "otp_draft_edit_view"
    assert modal["blocks"][1]["element"]["initial_value"].startswith("Hi Jo,")
    meta = modal["private_metadata"]
    status, _, body = server.send(
        view_submission_body(BOGDAN, modal["callback_id"], {"text": {"text": "Hi Jo, shall we talk?"}}, meta)
    )
    assert (status == 200 and body in ("", "{}")) or "errors" not in body
    wait_until(lambda: draft_row(module_db, draft_id).status == "approved", what="the approval")
    draft = draft_row(module_db, draft_id)
    assert draft.edited and draft.final_body == "Hi Jo, shall we talk?" and draft.body.startswith("Hi Jo,\nwe")
    update = wait_until(lambda: updates(api, message), what="the update")[-1]
    assert "Edits" in json.dumps(update.args["blocks"]) and "shall we talk" in json.dumps(update.args["blocks"])
    delivered = wait_until(
        lambda: [c for c in api.calls_to("chat.postMessage") if c.response.get("channel") == "C0CLIENTACME"]
    )
    assert delivered[0].args["text"] == "Hi Jo, shall we talk?"


def test_reject_needs_a_reason_and_records_it(server, module_db, api):
    draft_id = submit(module_db)
    message = posted(api, draft_id)
    click(server, BOGDAN, "otp_draft_reject", draft_id, message)
    modal = wait_until(lambda: api.calls_to("views.open"), what="the reject modal")[-1].args["view"]
    meta = modal["private_metadata"]
    status, _, body = server.send(
        view_submission_body(BOGDAN, modal["callback_id"], {"reason": {"reason": "  "}}, meta)
    )
    assert status == 200 and json.loads(body)["response_action"] == "errors"
    assert draft_row(module_db, draft_id).status == "pending"
    server.send(view_submission_body(BOGDAN, modal["callback_id"], {"reason": {"reason": "Too pushy <!here>"}}, meta))
    wait_until(lambda: draft_row(module_db, draft_id).status == "rejected", what="the rejection")
    assert draft_row(module_db, draft_id).reason == "Too pushy <!here>"
    update = wait_until(lambda: updates(api, message), what="the update")[-1]
    text = json.dumps(update.args["blocks"])
    assert "Rejected" in text and "Too pushy &lt;!here&gt;" in text and "<!here>" not in text


def test_two_person_rule(server, module_db, api):
    draft_id = submit(module_db, seat="inbox", holder="pepper", kind="lead-reply", title="Reply to a new lead")
    message = posted(api, draft_id)
    click(server, DAVID, "otp_draft_approve", draft_id, message)
    first = wait_until(lambda: updates(api, message), what="the first update")[-1]
    assert "1 of 2 approvals" in json.dumps(first.args["blocks"]) and all_actions(first.args["blocks"])
    assert draft_row(module_db, draft_id).status == "pending"
    click(server, DAVID, "otp_draft_approve", draft_id, message)
    assert "already approved" in ephemeral(api)
    click(server, BOGDAN, "otp_draft_approve", draft_id, message)
    wait_until(lambda: draft_row(module_db, draft_id).status == "approved", what="the second approval")


def test_held_by_policy_then_released_when_the_flag_lifts(server, module_db, api):
    with module_db.session() as s:
        flags.set_flag(s, actor_for_holder(s, "pulse"), "client:globex", "at-risk", reason="usage down 40%")
    draft_id = submit(
        module_db, seat="sales", holder="dirk", kind="expansion", subject="client:globex", title="Upsell Globex"
    )
    assert draft_row(module_db, draft_id).status == "held"
    notice = wait_until(
        lambda: [c for c in api.calls_to("chat.postMessage") if c.response.get("channel") == "D" + DAVID[1:]],
        what="the held notice to Dirk's accountable human",
    )[0]
    assert "held" in notice.args["text"] and "flagged at-risk by Client Retention" in notice.args["text"]
    time.sleep(0.5)
    assert not [c for c in api.calls_to("chat.postMessage") if c.response.get("channel") == "C0APPROVALS"]
    with module_db.session() as s:
        flags.lift_flag(s, actor_for_holder(s, "pulse"), "client:globex", "at-risk")
    posted(api, draft_id, channel="C0APPROVALS")  # another process lifted it; the worker picks it up
    assert draft_row(module_db, draft_id).status == "pending"


def test_mentions_and_links_in_a_draft_are_shown_inert(server, module_db, api):
    body = "Hey <!channel> and <!here> and <@U123> see <http://evil.example|bank.com> & <!subteam^S1>"
    draft_id = submit(module_db, title="<!everyone> urgent", body=body)
    message = posted(api, draft_id)
    text = json.dumps(message.args["blocks"]) + message.args["text"]
    for raw in ("<!channel>", "<!here>", "<@U123>", "<http://evil.example|bank.com>", "<!everyone>", "<!subteam^S1>"):
        assert raw not in text
    assert "&lt;!channel&gt;" in text and "&lt;http://evil.example|bank.com&gt;" in text


def test_show_full_text_checks_the_message_and_the_reader_like_every_button(server, module_db, api):
    long_body = "Hi Jo,\n" + "we can help with the renewal. " * 200
    first, second = submit(module_db, body=long_body), submit(module_db, body="Secret terms: " + long_body)
    message, _ = posted(api, first), posted(api, second)
    assert "otp_draft_full" in all_actions(message.args["blocks"])
    click(server, BOGDAN, "otp_draft_full", second, message)  # draft 2's id on draft 1's message
    assert "not on draft" in ephemeral(api)
    api.reset(keep_messages=True)
    click(server, STRANGER, "otp_draft_full", first, message)  # not on the chart
    assert "only to people on the chart" in ephemeral(api)
    assert api.calls_to("views.open") == []
    click(server, DAVID, "otp_draft_full", first, message)  # on the chart, on the draft's own message
    opened = wait_until(lambda: api.calls_to("views.open"), what="the full text modal")
    assert "we can help with the renewal" in json.dumps(opened[0].args["view"])
    assert "Secret terms" not in json.dumps(opened[0].args["view"])


# ------------------------------------------------------------------ callbacks and failures


def test_callback_delivery_is_signed_retried_and_keyed(server, module_db, api, callbacks):
    callbacks.answers = [503, 503]
    draft_id = submit(module_db, destination=callbacks.url)
    click(server, BOGDAN, "otp_draft_approve", draft_id, posted(api, draft_id))
    wait_until(lambda: draft_row(module_db, draft_id).delivery == "delivered", what="the delivery")
    assert len(callbacks.requests) == 3 and len(set(callbacks.keys())) == 1
    last = callbacks.requests[-1]
    ts, sig = last["headers"]["x-otp-request-timestamp"], last["headers"]["x-otp-signature"]
    expected = (
        "v0=" + hmac.new(CALLBACK_SECRET.encode(), f"v0:{ts}:".encode() + last["body"], hashlib.sha256).hexdigest()
    )
    assert hmac.compare_digest(sig, expected)
    payload = json.loads(last["body"])
    assert payload["draft_id"] == draft_id and payload["status"] == "approved" and payload["text"].startswith("Hi Jo,")


def test_a_callback_that_stays_down_fails_visibly(server, module_db, api, callbacks):
    callbacks.answers = [503] * 10
    draft_id = submit(module_db, destination=callbacks.url)
    message = posted(api, draft_id)
    click(server, BOGDAN, "otp_draft_approve", draft_id, message)
    wait_until(lambda: draft_row(module_db, draft_id).delivery == "failed", timeout=20, what="the failure")
    assert len(callbacks.requests) == 6  # every attempt, then it stops
    assert "HTTP 503" in draft_row(module_db, draft_id).delivery_error
    wait_until(
        lambda: any("Delivery failed" in json.dumps(u.args["blocks"]) for u in updates(api, message)),
        what="the failure shown on the approval message",
    )
    with module_db.session(readonly=True) as s:
        assert audit.verify(s) is None


def test_a_redirect_is_not_followed_and_the_delivery_fails_at_once(server, module_db, api, callbacks):
    inner = Callbacks()  # allowed too (loopback is allow-listed here): only the redirect is refused
    try:
        callbacks.answers, callbacks.location = [302], inner.url
        draft_id = submit(module_db, destination=callbacks.url)
        message = posted(api, draft_id)
        click(server, BOGDAN, "otp_draft_approve", draft_id, message)
        wait_until(lambda: draft_row(module_db, draft_id).delivery == "failed", timeout=20, what="the failure")
        assert len(callbacks.requests) == 1 and inner.requests == []  # one attempt: a redirect is permanent
        assert "redirect (HTTP 302)" in draft_row(module_db, draft_id).delivery_error
        wait_until(
            lambda: any("redirect" in json.dumps(u.args["blocks"]) for u in updates(api, message)),
            what="the failure shown on the approval message",
        )
    finally:
        inner.close()


# ------------------------------------------------------------------ crashes and concurrency


def test_a_worker_killed_mid_delivery_delivers_once_after_restart(module_db, api, callbacks):
    first = Server(module_db, api, env=FAST)
    try:
        callbacks.answers = [30.0]  # the first attempt hangs; the process dies meanwhile
        draft_id = submit(module_db, destination=callbacks.url)
        click(first, BOGDAN, "otp_draft_approve", draft_id, posted(api, draft_id))
        wait_until(lambda: callbacks.requests, what="the first delivery attempt")
    finally:
        first.kill()
    second = Server(module_db, api, env=FAST)
    try:
        wait_until(lambda: draft_row(module_db, draft_id).delivery == "delivered", timeout=20, what="the delivery")
        assert len(set(callbacks.keys())) == 1  # the destination sees one delivery, however often it was tried
    finally:
        second.stop()


def test_a_slack_post_that_landed_before_a_crash_is_not_posted_again(module_db, api):
    first = Server(module_db, api, env=FAST)
    try:
        draft_id = submit(module_db, destination="C0CLIENTACME")
        message = posted(api, draft_id)
        api.fail_next("chat.postMessage", delay=30.0)  # Slack keeps the post but answers late
        click(first, BOGDAN, "otp_draft_approve", draft_id, message)
        wait_until(
            lambda: [c for c in api.calls_to("chat.postMessage") if c.args.get("channel") == "C0CLIENTACME"],
            what="the delivery post",
        )
    finally:
        first.kill()
    second = Server(module_db, api, env=FAST)
    try:
        wait_until(lambda: draft_row(module_db, draft_id).delivery == "delivered", timeout=20, what="the delivery")
        key = f"draft:{draft_id}:deliver"
        assert (
            len(
                [
                    m
                    for m in api.messages["C0CLIENTACME"]
                    if (m.get("metadata") or {}).get("event_payload", {}).get("key") == key
                ]
            )
            == 1
        )
        assert api.calls_to("conversations.history")  # it looked before posting again
    finally:
        second.stop()


def test_two_processes_two_approvers_clicking_at_once_make_one_decision(module_db, api):
    with module_db.session() as s:  # retention's route: either of two approvers decides
        s.execute(update(ApprovalRoute).where(ApprovalRoute.position == 0).values(approvers=["bogdan", "david"]))
    servers = [Server(module_db, api, env=FAST) for _ in range(2)]
    try:
        draft_id = submit(module_db)
        message = posted(api, draft_id)
        clicks = [
            threading.Thread(target=click, args=(srv, who, "otp_draft_approve", draft_id, message))
            for srv, who in zip(servers, (BOGDAN, DAVID))
        ]
        for t in clicks:
            t.start()
        for t in clicks:
            t.join()
        wait_until(lambda: draft_row(module_db, draft_id).status == "approved", what="the decision")
        with module_db.session(readonly=True) as s:
            assert (
                s.scalar(select(func.count()).select_from(DraftDecision).where(DraftDecision.draft_id == draft_id)) == 1
            )
        assert "already approved" in ephemeral(api)
    finally:
        for srv in servers:
            srv.stop()
        with module_db.session() as s:
            s.execute(update(ApprovalRoute).where(ApprovalRoute.position == 0).values(approvers=["bogdan"]))


def test_approvers_named_by_a_slack_user_group(server, module_db, api):
    api.usergroups["S0APPROVERS"] = [DAVID]
    with module_db.session() as s:
        s.execute(
            update(ApprovalRoute).where(ApprovalRoute.position == 0).values(approvers=[], usergroup="S0APPROVERS")
        )
    try:
        draft_id = submit(module_db)
        message = posted(api, draft_id)
        click(server, BOGDAN, "otp_draft_approve", draft_id, message)
        assert "members of the user group S0APPROVERS" in ephemeral(api)
        assert draft_row(module_db, draft_id).status == "pending"
        click(server, DAVID, "otp_draft_approve", draft_id, message)
        wait_until(lambda: draft_row(module_db, draft_id).status == "approved", what="the group member's approval")
        assert api.calls_to("usergroups.users.list")
    finally:
        with module_db.session() as s:
            s.execute(
                update(ApprovalRoute).where(ApprovalRoute.position == 0).values(approvers=["bogdan"], usergroup=None)
            )


def test_a_flag_set_after_posting_pulls_the_draft_back_until_lifted(server, module_db, api):
    draft_id = submit(
        module_db, seat="sales", holder="dirk", kind="expansion", subject="client:initech", title="Upsell Initech"
    )
    message = posted(api, draft_id)
    with module_db.session() as s:
        change = flags.set_flag(s, actor_for_holder(s, "pulse"), "client:initech", "at-risk", reason="champion left")
        assert [d.id for d in change.held] == [draft_id]
    held = wait_until(lambda: updates(api, message), what="the message showing the hold")[-1]
    assert all_actions(held.args["blocks"]) == [] and "Held" in json.dumps(held.args["blocks"])
    click(server, BOGDAN, "otp_draft_approve", draft_id, message)
    assert "is held" in ephemeral(api)
    with module_db.session() as s:
        flags.lift_flag(s, actor_for_holder(s, "pulse"), "client:initech", "at-risk")
    wait_until(lambda: all_actions(updates(api, message)[-1].args["blocks"]), what="the buttons back")
    assert len([c for c in api.calls_to("chat.postMessage") if c.response.get("channel") == "C0APPROVALS"]) == 1
    click(server, BOGDAN, "otp_draft_approve", draft_id, message)
    wait_until(lambda: draft_row(module_db, draft_id).status == "approved", what="the approval after release")
