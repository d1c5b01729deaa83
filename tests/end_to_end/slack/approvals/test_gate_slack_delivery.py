"""The human gate end to end, past the click: callbacks received by a local HTTP server
(signed, retried, keyed; down; redirected), a worker killed mid-delivery, two processes and
two approvers at once, approvers named by a user group, and a flag set after posting."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading

from sqlalchemy import func, select, update

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import actor_for_holder
from otp_bot.store.domain.gate import flags
from otp_bot.store.models import ApprovalRoute, DraftDecision
from tests.support.approvals import (
    CALLBACK_SECRET,
    DAVID,
    FAST,
    all_actions,
    click,
    draft_row,
    ephemeral,
    posted,
    submit,
    updates,
    wait_until,
)
from tests.support.receivers import Callbacks
from tests.support.serve import BOGDAN, Server

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
            for srv, who in zip(servers, (BOGDAN, DAVID), strict=True)
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
