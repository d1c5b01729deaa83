"""The trust ledger end to end: an agent submits drafts over the HTTP API, a person approves,
edits and rejects them with signed clicks and modals, and the ledger and learnings the
agent then reads over the API, `/otp seat` and App Home show exactly that. Who may not
read a seat's ledger is refused and sees nothing."""

from __future__ import annotations

import json

import pytest

from tests.support.agents import draft_payload, problem
from tests.support.approvals import click, draft_row, posted, wait_until
from tests.support.serve import BOGDAN
from tests.support.slack.signing import event_body, view_submission_body

BODY = "Hi Jo,\nwe noticed fewer logins this month. Can we help?"
EDITED = "Hi Jo,\nwe noticed fewer logins this month. Can we help? Call me."  # " Call me." added: 9 characters
REASON = "Too pushy <!here>"


@pytest.fixture(scope="module")
def decided(server, module_db, api, as_agent):
    """Three drafts by Pulse: one approved as it is, one edited and approved, one rejected."""
    pulse = as_agent("pulse")
    ids = []
    for n in range(3):
        r = pulse.post("/drafts", json=draft_payload(title=f"Check in {n}", body=BODY))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    plain, edited, rejected = ids

    message = posted(api, plain)
    click(server, BOGDAN, "otp_draft_approve", plain, message)

    message = posted(api, edited)
    click(server, BOGDAN, "otp_draft_edit", edited, message)
    modal = wait_until(lambda: api.calls_to("views.open"), what="the edit modal")[-1].args["view"]
    server.send(
        view_submission_body(BOGDAN, modal["callback_id"], {"text": {"text": EDITED}}, modal["private_metadata"])
    )

    message = posted(api, rejected)
    click(server, BOGDAN, "otp_draft_reject", rejected, message)
    modal = wait_until(
        lambda: [c for c in api.calls_to("views.open") if c.args["view"]["callback_id"] != "otp_draft_edit_view"],
        what="the reject modal",
    )[-1].args["view"]
    server.send(
        view_submission_body(BOGDAN, modal["callback_id"], {"reason": {"reason": REASON}}, modal["private_metadata"])
    )

    for draft_id, status in ((plain, "approved"), (edited, "approved"), (rejected, "rejected")):
        wait_until(lambda d=draft_id, st=status: draft_row(module_db, d).status == st, what=f"#{draft_id} {status}")
    return ids


def test_the_agent_reads_its_ledger_after_the_clicks(decided, as_agent):
    r = as_agent("pulse").get("/seats/retention/ledger")
    assert r.status_code == 200, r.text
    body = r.json()
    total = body["total"]
    waits = total.pop("median_decision_seconds"), total.pop("p90_decision_seconds")
    assert total == {
        "kind": None,
        "submitted": 3,
        "decided": 3,
        "approved": 2,
        "rejected": 1,
        "approved_unedited": 1,
        "approved_edited": 1,
        "approval_rate": 2 / 3,
        "unedited_share": 1 / 3,
        "median_edit_chars": 9.0,
        "rejection_reasons": [{"reason": REASON, "times": 1}],
        "rounds_of_changes": 0,
        "drafts_revised": 0,
        "approved_by_policy": 0,
    }
    assert 0 <= waits[0] <= waits[1] < 120  # clicked within the test's seconds
    assert [k["kind"] for k in body["kinds"]] == ["retention-outreach"] and body["seat"] == "retention"
    assert as_agent("pulse").get("/seats/retention/ledger", params={"days": 7}).json()["total"]["submitted"] == 3


def test_learnings_carry_the_reason_and_the_edit_as_a_diff(decided, as_agent):
    _, edited, rejected = decided
    r = as_agent("pulse").get("/seats/retention/learnings", params={"kind": "retention-outreach"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "retention-outreach"
    assert body["reasons"] == [{"reason": REASON, "times": 1}]
    assert [(x["draft_id"], x["reason"]) for x in body["rejections"]] == [(rejected, REASON)]
    (edit,) = body["edits"]
    assert edit["draft_id"] == edited and edit["changed_chars"] == 9 and not edit["cut"]
    assert edit["diff"].splitlines()[2:] == [
        "@@ -3 +3,2 @@",
        " Can we help?",
        "+Call me.",
    ]  # by sentence: what was added, not the whole line twice
    # The agent's briefing carries the same learnings for the seats it holds.
    briefing = as_agent("pulse").get("/briefing").json()
    assert [x["seat"] for x in briefing["learnings"]] == ["retention"]
    assert briefing["learnings"][0]["reasons"] == [{"reason": REASON, "times": 1}]
    assert as_agent("dirk").get("/briefing").json()["learnings"] == []


def test_who_may_not_read_a_seats_ledger_is_refused(decided, as_agent):
    dirk = as_agent("dirk")
    for path in ("/seats/retention/ledger", "/seats/retention/learnings"):
        refused = problem(dirk.get(path), 403)
        assert "trust ledger is for its holder" in refused["detail"] and REASON not in json.dumps(refused)
        problem(as_agent(None).get(path), 401)
    problem(dirk.get("/seats/no-such-seat/ledger"), 404)
    problem(as_agent("pulse").get("/seats/retention/ledger", params={"days": 0}), 422)
    problem(as_agent("pulse").get("/seats/retention/learnings", params={"kind": "not a kind"}), 422)
    assert as_agent("admin").get("/seats/retention/learnings").status_code == 200  # an operator's token


def test_otp_seat_and_app_home_show_the_ledger(decided, server, api):
    _, reply = server.command("seat retention")
    assert "*Trust ledger*, drafts of the last 30 days:" in reply["text"]
    assert "3 submitted · 2 of 3 decided approved (67%) · 33% approved unedited · median edit 9 chars" in reply["text"]
    assert "Rejected for: _Too pushy &lt;!here&gt;_ (1×)" in reply["text"] and "<!here>" not in reply["text"]
    status, _, _ = server.send(event_body({"type": "app_home_opened", "user": BOGDAN, "tab": "home"}))
    assert status == 200
    home = json.dumps(wait_until(lambda: api.home.get(BOGDAN), what="the Home tab"), ensure_ascii=False)
    assert "Trust ledger · Client Retention" in home and "3 submitted" in home
