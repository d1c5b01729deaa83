"""Request changes, end to end: an approver asks in Slack (signed clicks and a modal against
`otp serve`), the agent waiting on the HTTP API learns what to change, submits a revision,
and the revision takes the original's place in the same approval message, with the earlier
version kept in its thread and a diff one click away. Then every refusal."""

from __future__ import annotations

import json
import threading
from typing import Any

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents.tokens import create_token
from otp_bot.store.models import AuditEntry, Draft
from tests.support.agents import Agent, problem, unique
from tests.support.approvals import (
    DAVID,
    REQUEST,
    all_actions,
    ask_changes,
    click,
    draft_row,
    ephemeral,
    posted,
    updates,
    wait_until,
)
from tests.support.cli import otp_process
from tests.support.serve import BOGDAN
from tests.support.slack.signing import view_submission_body

SHOW = "otp_draft_show_changes"


def payload(**fields: Any) -> dict[str, Any]:
    return {
        "seat": "retention",
        "kind": "retention-outreach",
        "subject": "client:acme",
        "title": "Check in with Acme",
        "body": "Hi Jo,\nwe noticed fewer logins this month. Can we help?",
        "key": unique(),
        **fields,
    }


def submitted(agent, **fields: Any) -> dict[str, Any]:
    answer = agent.post("/drafts", json=payload(**fields))
    assert answer.status_code == 201, answer.text
    return answer.json()


def thread_posts(api, message) -> list:
    ts = message.response["ts"]
    return [c for c in api.calls_to("chat.postMessage") if c.ok and c.args.get("thread_ts") == ts]


def audit_actions(db, draft_id: int) -> list[str]:
    with db.session(readonly=True) as s:
        return [e.action for e in s.query(AuditEntry).filter(AuditEntry.subject == f"draft:{draft_id}")]


# ------------------------------------------------------------------ the whole loop


def test_changes_requested_the_agent_revises_and_the_revision_is_approved_in_the_same_message(
    server, module_db, api, as_agent
):
    pulse = as_agent("pulse")
    first = submitted(pulse, destination="C0CLIENTACME")
    message = posted(api, first["id"], channel="C0APPROVALS")
    assert all_actions(message.args["blocks"]) == [
        "otp_draft_approve",
        "otp_draft_edit",
        REQUEST,
        "otp_draft_reject",
    ]

    waited: dict[str, Any] = {}
    waiter = threading.Thread(
        target=lambda: waited.update(pulse.get(f"/drafts/{first['id']}/wait", params={"timeout": 30}).json())
    )
    waiter.start()
    body = ask_changes(server, api, BOGDAN, first["id"], message, "Name the renewal date <!here>")
    assert "errors" not in body
    waiter.join(40)

    # The waiting agent learns it at once: who asked, when, and what.
    assert waited["changed"] is True and waited["timed_out"] is False
    d = waited["draft"]
    assert d["status"] == "changes-requested" and d["round"] == 1 and d["revised_by"] is None
    assert [(c["draft"], c["name"], c["text"]) for c in d["change_requests"]] == [
        (first["id"], "Bogdan", "Name the renewal date <!here>")
    ]
    assert "changes requested by Bogdan" in d["outcome"] and f"revises: {first['id']}" in d["outcome"]
    assert "draft.changes_requested" in audit_actions(module_db, first["id"])
    briefing = pulse.get("/briefing").json()
    listed = {d["id"]: d for d in briefing["drafts_changes_requested"]}
    assert "Name the renewal date" in listed[first["id"]]["outcome"]

    # The message says so, escaped, with no decision buttons left.
    asked = wait_until(
        lambda: [u for u in updates(api, message) if "Changes requested" in json.dumps(u.args["blocks"])],
        what="the message showing the request",
    )[-1]
    shown = json.dumps(asked.args["blocks"])
    assert "Bogdan" in shown and "&lt;!here&gt;" in shown and "<!here>" not in shown
    assert all_actions(asked.args["blocks"]) == []

    # The revision takes the original's place in the same message.
    revision = submitted(
        pulse, destination="C0CLIENTACME", revises=first["id"], body="Hi Jo,\nyour renewal is on 1 March."
    )
    assert revision["revises"] == first["id"] and revision["round"] == 2 and revision["status"] == "pending"
    assert revision["change_requests"][0]["text"] == "Name the renewal date <!here>"
    original = pulse.get(f"/drafts/{first['id']}").json()
    assert original["status"] == "revised" and original["revised_by"] == revision["id"]
    assert f"revised by draft #{revision['id']}" in original["outcome"]
    assert first["id"] not in [d["id"] for d in pulse.get("/briefing").json()["drafts_changes_requested"]]

    replaced = wait_until(
        lambda: [u for u in updates(api, message) if str(revision["id"]) in json.dumps(all_values(u.args["blocks"]))],
        what="the same message showing the revision",
    )[-1]
    assert all_actions(replaced.args["blocks"]) == [
        "otp_draft_approve",
        "otp_draft_edit",
        REQUEST,
        "otp_draft_reject",
        SHOW,
    ]
    assert "renewal is on 1 March" in json.dumps(replaced.args["blocks"])
    history = wait_until(lambda: thread_posts(api, message), what="the previous version in the thread")
    assert "we noticed fewer logins" in history[0].args["text"] and "Name the renewal date" in history[0].args["text"]
    # No second approval message: the revision lives in the original's.
    assert not [
        c
        for c in api.calls_to("chat.postMessage")
        if not c.args.get("thread_ts") and str(revision["id"]) in all_values(c.args.get("blocks") or [])
    ]

    # Show changes: a diff against the previous version.
    opened = len(api.calls_to("views.open"))
    click(server, DAVID, SHOW, revision["id"], message)
    diff = json.dumps(wait_until(lambda: api.calls_to("views.open")[opened:], what="the diff")[-1].args["view"])
    assert "-we noticed fewer logins" in diff and "+your renewal is on 1 March." in diff and "Name the renewal" in diff

    # A click still carrying the original's id decides nothing.
    click(server, BOGDAN, "otp_draft_approve", first["id"], message)
    assert f"draft #{first['id']} was revised" in ephemeral(api)
    assert draft_row(module_db, first["id"]).status == "revised"

    click(server, BOGDAN, "otp_draft_approve", revision["id"], message)
    wait_until(lambda: draft_row(module_db, revision["id"]).delivery == "delivered", what="the delivery")
    delivered = [c for c in api.calls_to("chat.postMessage") if c.response.get("channel") == "C0CLIENTACME"]
    assert [c.args["text"] for c in delivered] == ["Hi Jo,\nyour renewal is on 1 March."]
    with module_db.session(readonly=True) as s:
        assert audit.verify(s) is None


def all_values(blocks: list[dict]) -> list[str]:
    return [e.get("value") for b in blocks if b.get("type") == "actions" for e in b["elements"]]


def test_the_drafters_human_is_told_and_otp_agent_wait_prints_the_request(server, module_db, api, as_agent):
    # Pepper's inbox drafts need David and Bogdan; Pepper answers to David, who is told.
    with module_db.session() as s:
        token = create_token(s, Actor.cli_operator("tests"), holder_id="pepper", name=unique("pepper")).secret
    pepper = Agent(server, token)
    draft = submitted(pepper, seat="inbox", kind="lead-reply", subject="lead:zed")
    message = posted(api, draft["id"], channel="C0APPROVALS")
    ask_changes(server, api, BOGDAN, draft["id"], message, "Thank them for writing first")
    told = wait_until(
        lambda: [
            c
            for c in api.calls_to("chat.postMessage")
            if c.ok
            and c.args.get("channel") == "D" + DAVID[1:]
            and "Thank them for writing first" in c.args.get("text", "")
        ],
        what="David told",
    )
    assert "changes requested by Bogdan" in told[0].args["text"]

    out = otp_process(
        "agent", "wait", str(draft["id"]), "--timeout", "5", env={"OTP_URL": server.url, "OTP_TOKEN": token}
    )
    assert out.returncode == 0, out.stderr
    assert "Thank them for writing first" in out.stdout and f"--revises {draft['id']}" in out.stderr

    # The revision from the shell, as an agent that runs commands submits it.
    env = {"OTP_URL": server.url, "OTP_TOKEN": token}
    fields = ["--seat", "inbox", "--kind", "lead-reply", "--subject", "lead:zed", "--title", "Thanks"]
    out = otp_process(
        "agent",
        "draft",
        *fields,
        "--body-file",
        "-",
        "--revises",
        str(draft["id"]),
        env=env,
        stdin="Thanks for writing!",
    )
    assert out.returncode == 0, out.stderr
    revision = int(out.stdout.strip().splitlines()[-1])
    assert (
        draft_row(module_db, revision).revises == draft["id"] and draft_row(module_db, draft["id"]).status == "revised"
    )
    again = otp_process(
        "agent", "draft", *fields, "--body-file", "-", "--revises", str(draft["id"]), env=env, stdin="Once more"
    )
    assert again.returncode == 2 and "already revised" in again.stderr


# ------------------------------------------------------------------ refusals


def test_a_revision_of_a_draft_not_waiting_for_one_is_refused_and_nothing_changes(server, module_db, api, as_agent):
    pulse = as_agent("pulse")
    pending = submitted(pulse)
    posted(api, pending["id"])
    with module_db.session(readonly=True) as s:
        before = s.query(Draft).count()
    body = problem(pulse.post("/drafts", json=payload(revises=pending["id"], body="Another try")), 409)
    assert "only a draft whose changes were requested can be revised" in body["detail"]
    with module_db.session(readonly=True) as s:
        assert s.query(Draft).count() == before
    assert draft_row(module_db, pending["id"]).status == "pending"
    problem(pulse.post("/drafts", json=payload(revises=999_999)), 404)


def test_a_revision_by_another_seat_or_of_another_kind_is_refused(server, module_db, api, as_agent):
    pulse, dirk = as_agent("pulse"), as_agent("dirk")
    draft = submitted(pulse)
    message = posted(api, draft["id"])
    ask_changes(server, api, BOGDAN, draft["id"], message, "Shorter")
    wait_until(lambda: draft_row(module_db, draft["id"]).status == "changes-requested", what="the request")
    body = problem(dirk.post("/drafts", json=payload(seat="sales", kind="proposal", revises=draft["id"])), 403)
    assert "a revision comes from the seat that drafted it" in body["detail"]
    body = problem(pulse.post("/drafts", json=payload(kind="renewal-note", revises=draft["id"])), 422)
    assert "keeps its draft's kind and subject" in body["detail"]
    assert draft_row(module_db, draft["id"]).status == "changes-requested"
    # The right revision still goes through, once; a second one of the same draft is refused.
    first = submitted(pulse, revises=draft["id"], body="Shorter: can we help?")
    body = problem(pulse.post("/drafts", json=payload(revises=draft["id"], body="Again")), 409)
    assert f"already revised by draft #{first['id']}" in body["detail"]


def test_request_changes_by_a_non_approver_or_without_text_changes_nothing(server, module_db, api, as_agent):
    draft = submitted(as_agent("pulse"))
    message = posted(api, draft["id"])
    opened = len(api.calls_to("views.open"))
    click(server, DAVID, REQUEST, draft["id"], message)
    assert "not an approver for draft" in ephemeral(api)
    assert api.calls_to("views.open")[opened:] == []
    # A forged submission by the same person is refused too, under the field.
    meta = json.dumps({"draft": draft["id"], "channel": message.response["channel"], "ts": message.response["ts"]})
    _, _, body = server.send(view_submission_body(DAVID, "otp_draft_changes_view", {"changes": {"changes": "x"}}, meta))
    assert "not an approver" in json.loads(body)["errors"]["changes"]

    body = ask_changes(server, api, BOGDAN, draft["id"], message, "   ")
    assert json.loads(body)["response_action"] == "errors" and "say what to change" in body
    row = draft_row(module_db, draft["id"])
    assert row.status == "pending" and row.change_request is None
    assert "draft.changes_requested" not in audit_actions(module_db, draft["id"])


def test_the_round_cap_rejects_with_every_request_as_the_reason(server, module_db, api, as_agent):
    pulse = as_agent("pulse")
    draft = submitted(pulse)
    message = posted(api, draft["id"])
    current = draft["id"]
    for n, text in enumerate(["Warmer", "Shorter"], 1):
        ask_changes(server, api, BOGDAN, current, message, text)
        wait_until(lambda c=current: draft_row(module_db, c).status == "changes-requested", what=f"request {n}")
        current = submitted(pulse, revises=current, body=f"Version {n + 1}")["id"]
        wait_until(
            lambda c=current: any(str(c) in all_values(u.args["blocks"]) for u in updates(api, message)),
            what=f"round {n + 1} on the message",
        )
    # Round 3 of 3: the modal says asking now rejects, and it does.
    opened = len(api.calls_to("views.open"))
    click(server, BOGDAN, REQUEST, current, message)
    modal = wait_until(lambda: api.calls_to("views.open")[opened:], what="the modal")[-1].args["view"]
    assert "the last its route allows" in json.dumps(modal)
    server.send(
        view_submission_body(
            BOGDAN, modal["callback_id"], {"changes": {"changes": "Friendlier"}}, modal["private_metadata"]
        )
    )
    wait_until(lambda: draft_row(module_db, current).status == "rejected", what="the rejection at the cap")
    reason = draft_row(module_db, current).reason
    assert "route allows 3 round(s)" in reason and "(1) Warmer; (2) Shorter; (3) Friendlier" in reason
    final = wait_until(
        lambda: [u for u in updates(api, message) if "Rejected" in json.dumps(u.args["blocks"])], what="the message"
    )[-1]
    # No decision left to make; the changes of the last round stay one click away.
    assert "Friendlier" in json.dumps(final.args["blocks"]) and all_actions(final.args["blocks"]) == [SHOW]
    assert pulse.get(f"/drafts/{current}").json()["status"] == "rejected"
    problem(pulse.post("/drafts", json=payload(revises=current)), 409)  # rejected: nothing to revise
