"""Graduated autonomy end to end: `otp serve` with the example org, whose call-center route
lets the seat earn approval by policy after 3 unedited approvals, half of them reviewed
(every 2nd use, starting with the first). Each test uses a kind of its own, so each earns
its own grant and the tests run in any order."""

from __future__ import annotations

import json
import time

import pytest
import yaml
from sqlalchemy import select

from otp_bot.store.domain.actors import actor_for_holder
from otp_bot.store.domain.gate import flags
from otp_bot.store.domain.gate.ledger import seat_ledger
from otp_bot.store.models import AuditEntry, AutonomyGrant
from tests.support.approvals import click, draft_row, posted, submit, updates, wait_until
from tests.support.charts import load
from tests.support.paths import EXAMPLES
from tests.support.serve import BOGDAN, STRANGER
from tests.support.slack.signing import view_submission_body

KINDS = ["coaching-note", "shift-note", "call-summary", "escalation-note", "handover-note"]
APPROVALS = "C0APPROVALS"
CALLERS = "C0CALLERS"
JANINE, DAVID = "U03JNN2W5TA", "U02DSTL7K1Q"  # accounting (not above call-center); the CEO


@pytest.fixture(scope="module")
def server_db(module_db):
    data = yaml.safe_load((EXAMPLES / "acme-agency.yaml").read_text())
    route = next(r for r in data["approvals"] if r["seats"] == ["call-center"])
    route["kinds"] = KINDS
    route["autonomy"] = {"kinds": KINDS, "after": 3, "sample": "50%"}
    # A policy holds handover notes about a caller on leave: it holds them before autonomy approves.
    data["policies"].append({"name": "leave-first", "hold_kind": "handover-note", "while_flag": "on-leave"})
    load(module_db, data)
    return module_db


def _submit(db, kind: str, **fields) -> int:
    fields.setdefault("customer_facing", False)
    fields.setdefault("destination", CALLERS)
    return submit(db, seat="call-center", holder="arin", kind=kind, subject="caller:sam", **fields)


def _approve_by_hand(server, db, api, kind: str, n: int = 3) -> None:
    for _ in range(n):
        draft_id = _submit(db, kind, body=f"Sam, slow down on the greeting ({kind}).")
        message = posted(api, draft_id, channel=APPROVALS)
        _click(server, db, BOGDAN, "otp_draft_approve", draft_id, message)
        wait_until(lambda d=draft_id: draft_row(db, d).status == "approved", what="the approval")


def _click(server, db, user: str, action: str, draft_id: int, message) -> None:
    """A click once the worker recorded the message it is on (it records it after Slack answers the post)."""
    wait_until(lambda: draft_row(db, draft_id).messages, what=f"draft #{draft_id}'s message recorded")
    click(server, user, action, draft_id, message)


def _audit(db, action: str, subject: str | None = None) -> list[AuditEntry]:
    with db.session(readonly=True) as s:
        query = select(AuditEntry).where(AuditEntry.action == action)
        if subject is not None:
            query = query.where(AuditEntry.subject == subject)
        return list(s.scalars(query.order_by(AuditEntry.id)))


def _grant(db, kind: str) -> AutonomyGrant | None:
    with db.session(readonly=True) as s:
        return s.scalar(select(AutonomyGrant).where(AutonomyGrant.kind == kind, AutonomyGrant.revoked_at.is_(None)))


def _deliveries(api, draft_id: int) -> list:
    text = f"({draft_id})"
    return [
        c
        for c in api.calls_to("chat.postMessage")
        if c.ok and c.response["channel"] == CALLERS and text in c.args["text"]
    ]


def _reviews(api, draft_id: int) -> list:
    return [
        c
        for c in api.calls_to("chat.postMessage")
        for b in c.args.get("blocks") or []
        if b.get("type") == "actions"
        and b["elements"][0]["action_id"] == "otp_autonomy_right"
        and b["elements"][0]["value"] == str(draft_id)
    ]


def _updated(api, message, words: str):
    """The review message's update that says `words` (a delivery updates it too)."""
    found = wait_until(
        lambda: [u for u in updates(api, message) if words in json.dumps(u.args["blocks"])],
        what=f"the review message to say {words}",
    )
    return found[-1]


def _said(api, n: int) -> str:
    """The text of the `n`th ephemeral reply of this test."""
    found = wait_until(
        lambda: (
            (e := [c for c in api.calls_to("response_url") if c.args.get("response_type") == "ephemeral"])[n - 1 :]
            and e
        ),
        what=f"ephemeral reply {n}",
    )
    return found[n - 1].args["text"]


def _actions(call) -> list[str]:
    return [e["action_id"] for b in call.args["blocks"] if b.get("type") == "actions" for e in b["elements"]]


def test_earned_used_sampled_and_revoked_by_a_review(server, module_db, api):
    kind = KINDS[0]
    _approve_by_hand(server, module_db, api, kind, 2)
    assert _grant(module_db, kind) is None  # two of three: not yet
    _approve_by_hand(server, module_db, api, kind, 1)
    grant = wait_until(lambda: _grant(module_db, kind), what="the grant")
    assert grant.earned == 3 and grant.seat_id == "call-center"
    assert [e.detail["kind"] for e in _audit(module_db, "autonomy.granted")].count(kind) == 1

    # Use 1: approved by policy at submit, delivered once, and sampled for review.
    first = _submit(module_db, kind, body=f"Sam, great energy today ({0}).".replace("(0)", "(first)"))
    draft = draft_row(module_db, first)
    assert draft.status == "approved" and draft.decided_by == "policy:autonomy" and draft.decisions == []
    review = posted(api, first, channel=APPROVALS)
    assert _actions(review) == ["otp_autonomy_right", "otp_autonomy_wrong"]
    assert "approved by policy" in json.dumps(review.args["blocks"])
    wait_until(lambda: draft_row(module_db, first).delivery == "delivered", what="the delivery")
    assert [e.detail["sampled"] for e in _audit(module_db, "autonomy.used", f"draft:{first}")] == [True]

    # Use 2: approved by policy, delivered, not sampled (every 2nd use is).
    second = _submit(module_db, kind, body="Sam, the close was clean (second).")
    assert draft_row(module_db, second).status == "approved"
    wait_until(lambda: draft_row(module_db, second).delivery == "delivered", what="the second delivery")
    time.sleep(0.5)  # a review message, if one were queued, would be posted by now
    assert _reviews(api, second) == [] and len(_reviews(api, first)) == 1
    assert [e.detail["sampled"] for e in _audit(module_db, "autonomy.used", f"draft:{second}")] == [False]
    # The trust ledger counts what people decided: the two policy approvals are counted apart.
    with module_db.session(readonly=True) as s:
        row = next(r for r in seat_ledger(s, "call-center").kinds if r.kind == kind)
    assert (row.submitted, row.decided, row.approved, row.unedited, row.by_policy) == (5, 3, 3, 3, 2)
    assert (
        len(
            [
                c
                for c in api.calls_to("chat.postMessage")
                if c.response.get("channel") == CALLERS and "clean" in c.args["text"]
            ]
        )
        == 1
    )

    # "Looks right" on the first: recorded, the message shows it, the grant stands.
    _click(server, module_db, BOGDAN, "otp_autonomy_right", first, review)
    update = _updated(api, review, "Looks right*, said Bogdan")
    assert _actions(update) == []
    assert _grant(module_db, kind) is not None

    # Use 3 is sampled; "Should not have gone" asks why, then revokes.
    third = _submit(module_db, kind, body="Sam, tell the client the price is final (third).")
    review3 = posted(api, third, channel=APPROVALS)
    _click(server, module_db, BOGDAN, "otp_autonomy_wrong", third, review3)
    modal = wait_until(lambda: api.calls_to("views.open"), what="the reason modal")[-1].args["view"]
    assert modal["callback_id"] == "otp_autonomy_wrong_view"
    empty = view_submission_body(BOGDAN, modal["callback_id"], {"reason": {"reason": "  "}}, modal["private_metadata"])
    status, _, body = server.send(empty)
    assert status == 200 and "errors" in body and _grant(module_db, kind) is not None  # no reason: nothing changed
    status, _, body = server.send(
        view_submission_body(
            BOGDAN,
            modal["callback_id"],
            {"reason": {"reason": "prices are not ours to promise"}},
            modal["private_metadata"],
        )
    )
    assert status == 200 and "errors" not in body
    wait_until(lambda: _grant(module_db, kind) is None, what="the revocation")
    revoked = [e for e in _audit(module_db, "autonomy.revoked") if e.detail["kind"] == kind]
    assert len(revoked) == 1 and "prices are not ours" in revoked[0].detail["reason"]
    update = _updated(api, review3, "Should not have gone*, said Bogdan")
    assert _actions(update) == [] and "prices are not ours" in json.dumps(update.args["blocks"])

    # The next draft goes to a person again, and the count starts from zero.
    fourth = _submit(module_db, kind, body="Sam, one more note (fourth).")
    message = posted(api, fourth, channel=APPROVALS)
    assert _actions(message)[:1] == ["otp_draft_approve"] and draft_row(module_db, fourth).status == "pending"
    _, seat = server.command("seat call-center")
    assert f"{kind} 0 of 3 unedited approvals" in seat["text"]
    _click(server, module_db, BOGDAN, "otp_draft_approve", fourth, message)
    wait_until(lambda: draft_row(module_db, fourth).status == "approved", what="the approval")
    assert _grant(module_db, kind) is None  # one approval since the revocation is not three


def test_a_review_by_someone_without_rights_changes_nothing(server, module_db, api):
    kind = KINDS[3]
    _approve_by_hand(server, module_db, api, kind)
    draft_id = _submit(module_db, kind, body="Sam, fine work (review rights).")
    review = posted(api, draft_id, channel=APPROVALS)
    _click(server, module_db, JANINE, "otp_autonomy_right", draft_id, review)
    assert "only the approvers" in _said(api, 1)
    _click(server, module_db, "U07ARN4CC9M", "otp_autonomy_right", draft_id, review)  # Arin, the drafter
    assert "you drafted" in _said(api, 2)
    opened = len(api.calls_to("views.open"))
    _click(server, module_db, JANINE, "otp_autonomy_wrong", draft_id, review)  # refused before the modal opens
    assert "only the approvers" in _said(api, 3) and len(api.calls_to("views.open")) == opened
    assert _audit(module_db, "autonomy.reviewed", f"draft:{draft_id}") == []
    assert all(_actions(u) for u in updates(api, review))  # updated for its delivery only: the buttons stay


def test_a_customer_facing_draft_is_never_approved_by_policy(server, module_db, api):
    kind = KINDS[1]
    _approve_by_hand(server, module_db, api, kind)
    assert wait_until(lambda: _grant(module_db, kind), what="the grant")
    draft_id = _submit(module_db, kind, customer_facing=True, body="Dear client, about Sam (customer-facing).")
    assert draft_row(module_db, draft_id).status == "pending"
    message = posted(api, draft_id, channel=APPROVALS)
    assert _actions(message)[:1] == ["otp_draft_approve"]
    assert _audit(module_db, "autonomy.used", f"draft:{draft_id}") == []
    # Its approval by a person does not count toward (or against) the internal kind's grant either.
    _click(server, module_db, BOGDAN, "otp_draft_approve", draft_id, message)
    wait_until(lambda: draft_row(module_db, draft_id).status == "approved", what="the approval")


def test_revoke_by_hand_and_who_may(server, module_db, api):
    kind = KINDS[2]
    _approve_by_hand(server, module_db, api, kind)
    assert wait_until(lambda: _grant(module_db, kind), what="the grant")

    _, listed = server.command("autonomy")
    assert f"`call-center` · {kind}: approved by policy" in listed["text"]
    _, seat = server.command("seat call-center")
    assert f"{kind} approved by policy since" in seat["text"]

    for who in (JANINE, STRANGER):
        _, refused = server.command(f"autonomy revoke call-center {kind} not mine to say", user=who)
        assert "only the human accountable for `call-center`" in refused["text"]
        assert _grant(module_db, kind) is not None
    _, unknown = server.command("autonomy revoke nowhere", user=BOGDAN)
    assert "nowhere" in unknown["text"] and _grant(module_db, kind) is not None

    _, done = server.command(f"autonomy revoke call-center {kind} too chatty lately", user=DAVID)
    assert "Autonomy revoked for `call-center`" in done["text"] and kind in done["text"]
    assert _grant(module_db, kind) is None
    entry = [e for e in _audit(module_db, "autonomy.revoked") if e.detail["kind"] == kind][-1]
    assert entry.actor == "holder:david" and entry.detail["reason"] == "too chatty lately"

    _, again = server.command(f"autonomy revoke call-center {kind}", user=BOGDAN)
    assert "has no autonomy" in again["text"]
    _, shown = server.command("autonomy call-center")
    assert f"{kind}: 0 of 3 unedited approvals" in shown["text"]

    draft_id = _submit(module_db, kind, body="Sam, after the revocation.")
    assert draft_row(module_db, draft_id).status == "pending"
    _click(server, module_db, BOGDAN, "otp_draft_approve", draft_id, posted(api, draft_id, channel=APPROVALS))
    wait_until(lambda: draft_row(module_db, draft_id).status == "approved", what="the approval")


def test_a_holding_policy_holds_first_and_a_released_draft_goes_to_a_person(server, module_db, api):
    kind = KINDS[4]
    _approve_by_hand(server, module_db, api, kind)
    assert wait_until(lambda: _grant(module_db, kind), what="the grant")
    with module_db.session() as s:
        flags.set_flag(s, actor_for_holder(s, "arin"), "caller:kim", "on-leave", seat_id="call-center")
    draft_id = submit(
        module_db,
        seat="call-center",
        holder="arin",
        kind=kind,
        subject="caller:kim",
        customer_facing=False,
        destination=CALLERS,
        body="Kim is away; Sam takes her calls (held).",
    )
    assert draft_row(module_db, draft_id).status == "held"
    assert _audit(module_db, "autonomy.used", f"draft:{draft_id}") == []
    _, unflagged = server.command("unflag caller:kim on-leave", user="U07ARN4CC9M")
    assert draft_row(module_db, draft_id).status == "pending", unflagged
    message = posted(api, draft_id, channel=APPROVALS)
    assert _actions(message)[:1] == ["otp_draft_approve"]
    _click(server, module_db, BOGDAN, "otp_draft_approve", draft_id, message)
    wait_until(lambda: draft_row(module_db, draft_id).status == "approved", what="the approval")
