"""The human gate end to end: `otp serve` (with its outbox worker) in a subprocess, drafts
submitted by another process, clicks signed as Slack signs them, the bot's Web API calls
answered by the local Slack stand-in. Here: the core moment and every button."""

from __future__ import annotations

import json
import threading
import time

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import actor_for_holder
from otp_bot.store.domain.gate import flags
from tests.support.approvals import (
    DAVID,
    all_actions,
    click,
    draft_row,
    ephemeral,
    posted,
    submit,
    updates,
    wait_until,
)
from tests.support.blockkit import assert_valid
from tests.support.serve import BOGDAN, PULSE, STRANGER
from tests.support.slack.signing import view_submission_body

# ------------------------------------------------------------------ the core moment


def test_approve_posts_updates_and_delivers_once(server, module_db, api):
    draft_id = submit(module_db, destination="C0CLIENTACME")
    message = posted(api, draft_id, channel="C0APPROVALS")
    assert_valid(message.args)
    assert all_actions(message.args["blocks"]) == [
        "otp_draft_approve",
        "otp_draft_edit",
        "otp_draft_request_changes",
        "otp_draft_reject",
    ]
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
