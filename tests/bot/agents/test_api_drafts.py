"""Drafts and flags over the agent HTTP API (`otp serve` in a subprocess on the example org,
real tokens): submitting, waiting for a person's decision, withdrawing; setting and lifting
flags, decisions and flags changed from this process as people would change them."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from sqlalchemy import func, select

from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.gate import flags
from otp_bot.store.models import Draft
from tests.support.agents import FAST, decide, draft_payload, problem, unique, wait_until
from tests.support.serve import Server


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return FAST


# ------------------------------------------------------------------ drafts


def test_submit_posts_for_approval_at_once_and_is_idempotent(module_db, as_agent, api):
    key = unique()
    agent = as_agent("pulse")
    r = agent.post("/drafts", json=draft_payload(key=key))
    assert r.status_code == 201, r.text
    draft = r.json()
    assert r.headers["location"] == f"/api/v1/drafts/{draft['id']}"
    assert draft["status"] == "pending" and draft["outcome"] == "waiting for a decision by Bogdan"
    assert draft["drafted_by"] == "pulse" and draft["final_text"] is None and draft["delivery"]["state"] == "none"
    # The outbox worker was woken: the approval message goes out well before its next poll.
    wait_until(
        lambda: [
            c
            for c in api.calls_to("chat.postMessage")
            if c.args.get("channel") == "C0APPROVALS" and str(draft["id"]) in json.dumps(c.args.get("blocks"))
        ],
        timeout=5,
        what="the approval post",
    )

    again = agent.post("/drafts", json=draft_payload(key=key))
    assert again.status_code == 200 and again.json()["id"] == draft["id"]
    header = agent.post("/drafts", json=draft_payload(), headers={"Idempotency-Key": key})
    assert header.status_code == 200 and header.json()["id"] == draft["id"]
    body = problem(agent.post("/drafts", json=draft_payload(key=key, title="Something else")), 409)
    assert f"#{draft['id']}" in body["detail"]
    problem(agent.post("/drafts", json=draft_payload(key=key), headers={"Idempotency-Key": "other"}), 422)
    with module_db.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Draft).where(Draft.idem_key == key)) == 1


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"seat": "nowhere"}, 404, "no seat"),
        ({"kind": "Not A Kind!"}, 422, "not a draft kind"),
        ({"subject": "two words"}, 422, "one word"),
        ({"body": "   "}, 422, "needs a body"),
        ({"destination": "somewhere over the rainbow"}, 422, "destination"),
        ({"title": "t" * 201}, 422, "body.title"),
        ({"seat": "onboarding"}, 403, "held by nobody"),
    ],
)
def test_bad_drafts_are_refused_with_a_clear_problem(as_agent, fields, status, words):
    body = problem(as_agent("pulse").post("/drafts", json=draft_payload(**fields)), status)
    assert words in json.dumps(body)


def test_reading_drafts_is_limited_to_the_tokens_seats(module_db, as_agent):
    own = as_agent("pulse").post("/drafts", json=draft_payload()).json()["id"]
    assert as_agent("pulse").get(f"/drafts/{own}").json()["id"] == own
    assert as_agent("admin").get(f"/drafts/{own}").json()["id"] == own
    for who in ("dirk", "tally"):  # tally is granted retention for pushes, not for drafts
        body = problem(as_agent(who).get(f"/drafts/{own}"), 403)
        assert "retention" in body["detail"]
        problem(as_agent(who).get(f"/drafts/{own}/wait", params={"timeout": 0}), 403)
        problem(as_agent(who).post(f"/drafts/{own}/withdraw"), 403)
    problem(as_agent("pulse").get("/drafts/999999"), 404)
    problem(as_agent("pulse").get(f"/drafts/{2**40}"), 404)
    problem(as_agent("pulse").get("/drafts/abc"), 422)


def test_wait_returns_when_a_person_decides(module_db, as_agent):
    draft_id = as_agent("pulse").post("/drafts", json=draft_payload()).json()["id"]
    answer: dict = {}

    def waiting() -> None:
        t0 = time.monotonic()
        answer["body"] = as_agent("pulse").get(f"/drafts/{draft_id}/wait", params={"timeout": 30}).json()
        answer["took"] = time.monotonic() - t0

    waiter = threading.Thread(target=waiting)
    waiter.start()
    time.sleep(1.0)
    assert waiter.is_alive()  # still waiting: nothing happened yet
    decide(module_db, draft_id, "approve", edited_body="Hi Jo, shall we talk?")
    waiter.join(15)
    body = answer["body"]
    assert body["changed"] is True and body["timed_out"] is False and answer["took"] < 10
    draft = body["draft"]
    assert draft["status"] == "approved" and draft["final_text"] == "Hi Jo, shall we talk?" and draft["edited"]
    assert draft["outcome"].startswith("approved with edits by Bogdan")
    assert [d["verdict"] for d in draft["decisions"]] == ["approve"]
    # Already decided: answered at once.
    t0 = time.monotonic()
    again = as_agent("pulse").get(f"/drafts/{draft_id}/wait", params={"timeout": 30}).json()
    assert time.monotonic() - t0 < 5 and again["changed"] is False and again["timed_out"] is False


def test_wait_returns_a_rejection_with_its_reason(module_db, as_agent):
    draft_id = as_agent("pulse").post("/drafts", json=draft_payload()).json()["id"]
    threading.Timer(0.5, decide, args=(module_db, draft_id, "reject"), kwargs={"reason": "Too pushy"}).start()
    body = as_agent("pulse").get(f"/drafts/{draft_id}/wait", params={"timeout": 20}).json()
    assert body["changed"] and body["draft"]["status"] == "rejected"
    assert body["draft"]["rejection_reason"] == "Too pushy" and body["draft"]["final_text"] is None


def test_wait_times_out_with_the_draft_unchanged(as_agent):
    draft_id = as_agent("pulse").post("/drafts", json=draft_payload()).json()["id"]
    t0 = time.monotonic()
    body = as_agent("pulse").get(f"/drafts/{draft_id}/wait", params={"timeout": 1.2}).json()
    took = time.monotonic() - t0
    assert body["timed_out"] is True and body["changed"] is False and body["draft"]["status"] == "pending"
    assert 1.1 < took < 5
    for bad in (-1, 61, "soon"):
        problem(as_agent("pulse").get(f"/drafts/{draft_id}/wait", params={"timeout": bad}), 422)


def test_a_held_draft_is_released_when_the_flag_is_lifted_and_the_waiter_hears(module_db, as_agent):
    subject = f"client:{unique('held')}"
    as_agent("pulse").post("/flags", json={"subject": subject, "flag": "at-risk", "reason": "usage down 40%"})
    r = as_agent("dirk").post(
        "/drafts", json=draft_payload(seat="sales", kind="expansion", subject=subject, title="Upsell")
    )
    held = r.json()
    assert held["status"] == "held" and "flagged at-risk by Client Retention" in held["hold_reason"]
    assert held["outcome"].startswith("held: ")

    def lift() -> None:
        with module_db.session() as s:
            flags.lift_flag(s, actor_for_holder(s, "pulse"), subject, "at-risk")

    threading.Timer(0.5, lift).start()
    body = as_agent("dirk").get(f"/drafts/{held['id']}/wait", params={"timeout": 20}).json()
    assert body["changed"] and body["draft"]["status"] == "pending" and body["draft"]["hold_reason"] is None


def test_withdraw(as_agent):
    draft_id = as_agent("pulse").post("/drafts", json=draft_payload()).json()["id"]
    r = as_agent("pulse").post(f"/drafts/{draft_id}/withdraw")
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    body = problem(as_agent("pulse").post(f"/drafts/{draft_id}/withdraw"), 409)
    assert "withdrawn" in body["detail"]
    problem(as_agent("pulse").post("/drafts/999999/withdraw"), 404)


def test_a_stopping_server_answers_its_waiters_at_once(module_db, api, tokens):
    other = Server(module_db, api, env=FAST)
    try:
        agent = httpx.Client(
            base_url=f"{other.url}/api/v1", headers={"Authorization": f"Bearer {tokens.pulse}"}, timeout=90
        )
        draft_id = agent.post("/drafts", json=draft_payload()).json()["id"]
        answer: dict = {}
        waiter = threading.Thread(
            target=lambda: answer.update(r=agent.get(f"/drafts/{draft_id}/wait", params={"timeout": 60}))
        )
        waiter.start()
        time.sleep(1.0)
    finally:
        t0 = time.monotonic()
        output = other.stop()
    waiter.join(10)
    assert time.monotonic() - t0 < 5, "the stop waited for the long-poll"
    assert answer["r"].status_code == 200 and answer["r"].json()["timed_out"] is True
    assert "Traceback" not in output, output


# ------------------------------------------------------------------ flags


def test_set_list_and_lift_flags(module_db, as_agent):
    subject = f"client:{unique('flag')}"
    pulse = as_agent("pulse")
    r = pulse.post("/flags", json={"subject": subject, "flag": "at-risk", "reason": "usage down", "until": "3d"})
    assert r.status_code == 201, r.text
    change = r.json()
    assert change["created"] and change["flag"]["seat"] == "retention" and change["flag"]["by"] == "Pulse"
    assert change["flag"]["holds"] == ["retention-wins"] and change["flag"]["until"]
    again = pulse.post("/flags", json={"subject": subject, "flag": "at-risk", "reason": "still down"})
    assert (
        again.status_code == 200 and again.json()["created"] is False and again.json()["flag"]["reason"] == "still down"
    )

    held = (
        as_agent("dirk")
        .post("/drafts", json=draft_payload(seat="sales", kind="expansion", subject=subject, title="Upsell"))
        .json()
    )
    assert held["status"] == "held"
    listed = as_agent("dirk").get("/flags", params={"subject": subject.upper()}).json()["flags"]
    assert [(f["subject"], f["flag"]) for f in listed] == [(subject, "at-risk")]

    problem(as_agent("dirk").delete("/flags", params={"subject": subject, "flag": "at-risk"}), 403)
    lifted = pulse.delete("/flags", params={"subject": subject, "flag": "at-risk"})
    assert lifted.status_code == 200, lifted.text
    assert [d["id"] for d in lifted.json()["released"]] == [held["id"]]
    assert as_agent("dirk").get(f"/drafts/{held['id']}").json()["status"] == "pending"
    problem(pulse.delete("/flags", params={"subject": subject, "flag": "at-risk"}), 404)
    assert as_agent("dirk").get("/flags", params={"subject": subject}).json()["flags"] == []


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"subject": "two words", "flag": "at-risk"}, 422),
        ({"subject": "client:x", "flag": "Not A Flag"}, 422),
        ({"subject": "client:x", "flag": "at-risk", "until": "yesterday-ish"}, 422),
        ({"subject": "client:x", "flag": "at-risk", "until": "2001-01-01"}, 422),
        ({"subject": "client:x", "flag": "at-risk", "seat": "nowhere"}, 404),
        ({"subject": "client:x"}, 422),
    ],
)
def test_bad_flags_are_refused(as_agent, payload, status):
    problem(as_agent("pulse").post("/flags", json=payload), status)


def test_flags_page(module_db, as_agent):
    prefix = unique("page")
    with module_db.session() as s:
        for i in range(5):
            flags.set_flag(s, Actor.cli_operator(), f"client:{prefix}-{i}", "watch", seat_id="retention")
    seen, cursor = [], None
    while True:
        page = as_agent("dirk").get("/flags", params={"limit": 2, "cursor": cursor}).json()
        seen += [f["subject"] for f in page["flags"] if f["subject"].startswith(f"client:{prefix}")]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [f"client:{prefix}-{i}" for i in range(5)]
