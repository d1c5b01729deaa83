"""The agent HTTP API end to end: `otp serve` in a subprocess on the example org, driven over
HTTP with real tokens; decisions and flags changed from this process, as people and other
processes would change them."""

from __future__ import annotations

import json
import threading
import time
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.gate import flags
from otp_bot.store.models import ApiToken, Draft, Flag, MetricValue

from .agent_support import (  # noqa: F401 - fixtures
    FAST,
    as_agent,
    decide,
    drained,
    problem,
    server,
    tokens,
    wait_until,
)
from .serve import Server


def unique(prefix: str = "k") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def value_rows(db, metric: str, key: str | None = None) -> int:
    with db.session(readonly=True) as s:
        query = select(func.count()).select_from(MetricValue).where(MetricValue.metric_id == metric)
        if key is not None:
            query = query.where(MetricValue.idem_key == key)
        return s.scalar(query)


def draft_payload(seat: str = "retention", **fields) -> dict:
    return {
        "seat": seat,
        "kind": "retention-outreach",
        "subject": "client:acme",
        "title": "Check in with Acme",
        "body": "Hi Jo,\nwe noticed fewer logins this month. Can we help?",
        **fields,
    }


# ------------------------------------------------------------------ who is calling


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer otp_not-a-real-token"},
        {"Authorization": "Bearer " + "x" * 300},
    ],
)
def test_no_or_bad_token_is_401_with_a_challenge(server, headers):
    for method, path in [
        ("GET", "/chart"),
        ("GET", "/metrics/mine"),
        ("POST", "/metrics/values"),
        ("GET", "/drafts/1"),
    ]:
        r = httpx.request(method, f"{server.url}/api/v1{path}", headers=headers, json={"values": []})
        body = problem(r, 401)
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert body["code"] == "unauthenticated"


def test_a_revoked_token_is_401(as_agent):
    body = problem(as_agent("revoked").get("/me"), 401)
    assert "revoked" in body["detail"]


def test_revoking_takes_effect_on_the_next_request(module_db, as_agent, server):
    from otp_bot.store.domain.agents.tokens import create_token, revoke_token

    with module_db.session() as s:
        made = create_token(s, Actor.cli_operator(), holder_id="dirk", name="short-lived")
    agent = httpx.Client(base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {made.secret}"})
    assert agent.get("/me").json()["holder"]["id"] == "dirk"
    with module_db.session() as s:
        revoke_token(s, Actor.cli_operator(), made.token.prefix)
    problem(agent.get("/me"), 401)
    with module_db.session(readonly=True) as s:  # it was used once, and that is recorded
        assert s.get(ApiToken, made.token.id).last_used_at is not None


def test_me_says_who_the_token_acts_as(as_agent):
    assert as_agent("tally").get("/me").json() == {
        "holder": {"id": "tally", "name": "Tally", "kind": "agent"},
        "admin": False,
        "seats": ["kpi"],
        "push_seats": ["retention"],
    }
    admin = as_agent("admin").get("/me").json()
    assert admin["admin"] is True and admin["holder"] is None


# ------------------------------------------------------------------ the chart


def test_chart_pages_cover_every_seat_once(as_agent):
    agent = as_agent("pulse")
    first = agent.get("/chart", params={"limit": 500}).json()
    assert first["org"] == {"name": "Acme Agency", "timezone": "America/New_York", "revision": first["org"]["revision"]}
    every = [s["id"] for s in first["seats"]]
    assert every[0] == "ceo" and len(every) == len(set(every)) == 15 and first["next_cursor"] is None
    seen, cursor = [], None
    while True:
        page = agent.get("/chart", params={"limit": 4, "cursor": cursor}).json()
        assert len(page["seats"]) <= 4
        seen += [s["id"] for s in page["seats"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == every
    retention = next(s for s in first["seats"] if s["id"] == "retention")
    assert retention["holder"] == {"id": "pulse", "name": "Pulse", "kind": "agent"}
    assert retention["accountable"]["id"] == "bogdan" and retention["reports_to"] == "coo"
    onboarding = next(s for s in first["seats"] if s["id"] == "onboarding")
    assert onboarding["status"] == "vacant" and onboarding["holder"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 501},
        {"limit": "ten"},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJsaXN0IjoiaG9sZGVycyIsImFmdGVyIjoiYm9nZGFuIn0"},
    ],
)  # a holders cursor
def test_bad_paging_is_422(as_agent, params):
    body = problem(as_agent("pulse").get("/chart", params=params), 422)
    assert body["detail"]


def test_seat_holders_and_who_owns(as_agent):
    agent = as_agent("dirk")
    seat = agent.get("/seats/retention").json()
    assert seat["owns"] == ["client health monitoring", "retention outreach"]
    assert [s["id"] for s in seat["reporting_line"]] == ["coo", "ceo"]
    assert {m["id"] for m in seat["metrics"]} == {"early-flags", "retention-saves", "clients-lost"}
    assert all(m["status"] in ("green", "yellow", "red", "none") for m in seat["metrics"])
    body = problem(agent.get("/seats/retenton"), 404)
    assert "retention" in body["hint"]  # the closest seat is suggested

    holders, cursor = [], None
    while True:
        page = agent.get("/holders", params={"limit": 5, "cursor": cursor}).json()
        holders += page["holders"]
        if not (cursor := page["next_cursor"]):
            break
    assert len(holders) == 13 and [h["id"] for h in holders] == sorted(h["id"] for h in holders)
    assert next(h for h in holders if h["id"] == "pulse") == {
        "id": "pulse",
        "name": "Pulse",
        "kind": "agent",
        "supervisor": "bogdan",
        "seats": ["retention"],
    }

    owner = agent.get("/who-owns", params={"q": "churn"}).json()
    assert owner["seat"]["id"] == "retention" and owner["seat"]["holder"]["id"] == "pulse"
    typo = agent.get("/who-owns", params={"q": "invoces"}).json()
    assert typo["seat"]["id"] == "accounting"
    nothing = agent.get("/who-owns", params={"q": "zeppelin paprika"}).json()
    assert nothing["seat"] is None and nothing["candidates"] == []
    problem(agent.get("/who-owns"), 422)
    problem(agent.get("/who-owns", params={"q": "x" * 201}), 422)


def test_openapi_and_docs_are_served(server):
    spec = httpx.get(f"{server.url}/api/v1/openapi.json").json()
    assert {"/chart", "/metrics/values", "/drafts/{draft_id}/wait", "/flags"} <= set(spec["paths"])
    assert spec["servers"] == [{"url": "/api/v1"}]
    assert "token" in spec["components"]["securitySchemes"]
    docs = httpx.get(f"{server.url}/api/v1/docs")
    assert docs.status_code == 200 and "/api/v1/openapi.json" in docs.text
    assert httpx.get(f"{server.url}/healthz").json()["status"] == "ok"  # the rest of `otp serve` is still there
    assert httpx.post(f"{server.url}/slack/events", content=b"{}").status_code == 401  # unsigned: refused by Bolt


def test_unknown_endpoint_and_method_are_problems(as_agent):
    assert problem(as_agent("pulse").get("/nothing-here"), 404)["code"] == "not_found"
    assert problem(as_agent("pulse").put("/chart"), 405)["code"] == "method_not_allowed"


# ------------------------------------------------------------------ metrics


def test_mine_lists_held_and_granted_metrics(as_agent):
    pulse = {m["id"]: m for m in as_agent("pulse").get("/metrics/mine").json()["metrics"]}
    assert set(pulse) == {"early-flags", "retention-saves", "clients-lost"}
    flags_metric = pulse["early-flags"]
    assert (
        flags_metric["goal"] == ">= 3" and flags_metric["cadence"] == "weekly" and flags_metric["seat"] == "retention"
    )
    assert flags_metric["latest"] is None or set(flags_metric["latest"]) == {
        "period",
        "label",
        "value",
        "shown",
        "on_track",
    }
    tally = {m["seat"] for m in as_agent("tally").get("/metrics/mine").json()["metrics"]}
    assert tally == {"kpi", "retention"}
    admin, cursor = [], None
    while True:
        page = as_agent("admin").get("/metrics/mine", params={"limit": 7, "cursor": cursor}).json()
        admin += [m["id"] for m in page["metrics"]]
        if not (cursor := page["next_cursor"]):
            break
    assert len(admin) == len(set(admin)) > 40


def test_push_a_batch_each_value_answered(module_db, as_agent):
    key = unique()
    values = [
        {"metric": "early-flags", "value": 4, "key": key},
        {"metric": "retention-saves", "value": "1", "period": "last", "note": "saved Globex"},
        {"metric": "clients-lost", "value": 2},
        {"metric": "EARLY-FLAGS", "value": "five"},
        {"metric": "no-such-metric", "value": 1},
        {"metric": "early-flags", "value": 1, "period": "2999-W01"},
        {"metric": "early-flags", "value": 1, "period": "someday"},
        {"metric": "early-flags", "value": 1, "note": "x" * 2001},
        {"metric": "early-flags", "value": 1, "key": "k" * 201},
        {"metric": "early-flags", "value": 9, "key": key},  # the same key again, in the same batch
    ]
    before = value_rows(module_db, "early-flags")
    r = as_agent("pulse").post("/metrics/values", json={"values": values})
    assert r.status_code == 200, r.text
    body = r.json()
    outcomes = [x["outcome"] for x in body["results"]]
    assert outcomes == [
        "recorded",
        "recorded",
        "recorded",
        "error",
        "error",
        "error",
        "error",
        "error",
        "error",
        "duplicate",
    ]
    assert (body["recorded"], body["duplicates"], body["errors"]) == (3, 1, 6)
    first, saves, lost = body["results"][:3]
    assert first["on_track"] is True and first["value"] == 4 and first["period_label"].startswith("20")
    assert saves["on_track"] is False and saves["period"] < first["period"]  # last week; goal >= 2
    assert lost["on_track"] is False  # goal == 0
    errors = {x["index"]: x["error"] for x in body["results"] if x["error"]}
    assert errors[3]["status"] == 422 and "five" in errors[3]["detail"]
    assert errors[4]["status"] == 404 and "no-such-metric" in errors[4]["detail"]
    assert "has not started yet" in errors[5]["detail"] and "not a period" in errors[6]["detail"]
    assert "2,000" in errors[7]["detail"] and "1 to 200" in errors[8]["detail"]
    assert body["results"][9]["value"] == 4  # a duplicate answers the value recorded the first time
    assert value_rows(module_db, "early-flags") == before + 1


def test_duplicate_pushes_are_idempotent(module_db, as_agent):
    key = unique()
    batch = {
        "values": [
            {"metric": "early-flags", "value": 5, "key": key},
            {"metric": "clients-lost", "value": 0, "key": key},
        ]
    }
    first = as_agent("pulse").post("/metrics/values", json=batch).json()
    again = as_agent("pulse").post("/metrics/values", json=batch).json()
    assert [x["outcome"] for x in first["results"]] == ["recorded", "recorded"]
    assert [x["outcome"] for x in again["results"]] == ["duplicate", "duplicate"]
    assert [x["on_track"] for x in again["results"]] == [True, True]
    changed = {"values": [{"metric": "early-flags", "value": 1, "key": key}]}  # same key, other value: still the first
    assert as_agent("pulse").post("/metrics/values", json=changed).json()["results"][0]["value"] == 5
    assert value_rows(module_db, "early-flags", key) == 1 and value_rows(module_db, "clients-lost", key) == 1


def test_pushes_from_two_clients_at_once_record_each_key_once(module_db, server, tokens):
    keys = [unique() for _ in range(50)]
    batch = {"values": [{"metric": "retention-saves", "value": 1, "key": k} for k in keys]}
    answers = []

    def push() -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {tokens.pulse}"}) as c:
            answers.append(c.post(f"{server.url}/api/v1/metrics/values", json=batch).json())

    threads = [threading.Thread(target=push) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(a["recorded"] for a in answers) == 50 and sum(a["duplicates"] for a in answers) == 100
    assert all(value_rows(module_db, "retention-saves", k) == 1 for k in keys)


def test_a_value_for_another_seat_is_403_and_nothing_is_recorded(module_db, as_agent):
    key = unique()
    before = value_rows(module_db, "early-flags")
    body = problem(
        as_agent("dirk").post(
            "/metrics/values",
            json={
                "values": [
                    {"metric": "proposals-sent", "value": 3, "key": key},  # Dirk's own
                    {"metric": "early-flags", "value": 9, "key": key},
                ]
            },
        ),
        403,
    )  # Pulse's
    assert "retention" in body["detail"] and "Pulse" in body["detail"]
    assert value_rows(module_db, "proposals-sent", key) == 0 and value_rows(module_db, "early-flags") == before


def test_a_seat_handed_over_takes_effect_on_the_next_push(module_db, as_agent):
    """The server keeps metrics' facts per chart version; a change made by another process
    (here, this one) is seen by the very next batch."""
    from otp_bot.store.domain.lifecycle import seats as lifecycle

    pulse = as_agent("pulse")
    assert (
        pulse.post("/metrics/values", json={"values": [{"metric": "early-flags", "value": 1}]}).json()["recorded"] == 1
    )
    with module_db.session() as s:
        lifecycle.assign(s, Actor.cli_operator(), "retention", "dirk")
    try:
        before = value_rows(module_db, "early-flags")
        body = problem(pulse.post("/metrics/values", json={"values": [{"metric": "early-flags", "value": 2}]}), 403)
        assert "Dirk" in body["detail"] and value_rows(module_db, "early-flags") == before
        assert (
            as_agent("dirk")
            .post("/metrics/values", json={"values": [{"metric": "early-flags", "value": 2}]})
            .json()["recorded"]
            == 1
        )
    finally:
        with module_db.session() as s:
            lifecycle.assign(s, Actor.cli_operator(), "retention", "pulse")
    assert (
        pulse.post("/metrics/values", json={"values": [{"metric": "early-flags", "value": 3}]}).json()["recorded"] == 1
    )


def test_yes_no_formula_and_retired_rules_hold(as_agent):
    r = (
        as_agent("admin")
        .post(
            "/metrics/values",
            json={
                "values": [
                    {"metric": "l10-held", "value": "yes"},
                    {"metric": "l10-held", "value": True},
                    {"metric": "l10-held", "value": 2},
                    {"metric": "close-rate", "value": 30},
                    {"metric": "deals-won", "value": "1e999"},
                ]
            },
        )
        .json()
    )
    assert [x["outcome"] for x in r["results"]] == ["recorded", "recorded", "error", "error", "error"]
    assert "yes/no" in r["results"][2]["error"]["detail"]
    assert "computed" in r["results"][3]["error"]["detail"]
    assert "too large" in r["results"][4]["error"]["detail"]


def test_a_batch_that_does_not_fit_the_schema_is_422_with_paths(module_db, as_agent):
    agent = as_agent("pulse")
    body = problem(
        agent.post(
            "/metrics/values",
            json={
                "values": [
                    {"metric": "early-flags", "value": 1},
                    {"metric": "early-flags"},
                    {"metric": "early-flags", "value": 1, "perod": "last"},
                ]
            },
        ),
        422,
    )
    paths = {e["path"] for e in body["errors"]}
    assert {"body.values.1.value", "body.values.2.perod"} <= paths
    problem(agent.post("/metrics/values", json={"values": []}), 422)
    problem(agent.post("/metrics/values", json=[{"metric": "early-flags", "value": 1}]), 422)
    too_many = {"values": [{"metric": "early-flags", "value": 1}] * 5001}
    assert "5000" in json.dumps(problem(agent.post("/metrics/values", json=too_many), 422))


def test_malformed_json_is_400_and_records_nothing(module_db, as_agent):
    before = value_rows(module_db, "early-flags")
    body = problem(
        as_agent("pulse").post(
            "/metrics/values",
            content=b'{"values": [{"metric": "early-flags", "value": 1}',
            headers={"Content-Type": "application/json"},
        ),
        400,
    )
    assert body["code"] == "malformed_json"
    problem(as_agent("pulse").post("/drafts", content=b"not json", headers={"Content-Type": "application/json"}), 400)
    assert value_rows(module_db, "early-flags") == before


def test_oversized_bodies_are_413(as_agent):
    agent = as_agent("pulse")
    big = {"values": [{"metric": "early-flags", "value": 1, "note": "n" * 1000}] * 2100}  # about 2.2 MB
    assert problem(agent.post("/metrics/values", json=big), 413)["code"] == "too_large"

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"values": ['
        for _ in range(3000):
            yield b'{"metric": "early-flags", "value": 1, "note": "' + b"n" * 1000 + b'"},'
        yield b"]}"

    problem(agent.post("/metrics/values", content=chunks(), headers={"Content-Type": "application/json"}), 413)
    problem(agent.post("/drafts", json=draft_payload(body="x" * 2_100_000)), 413)


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


# ------------------------------------------------------------------ no cross-seat write

TOKENS = ("pulse", "dirk", "tally", "admin")
SEATS = {"retention": ("pulse", "early-flags"), "sales": ("dirk", "proposals-sent"), "kpi": ("tally", "kpi-pushes")}


def allowed(token: str, seat: str, operation: str) -> bool:
    holder = SEATS[seat][0]
    if token == "admin" or token == holder:
        return True
    return operation == "push" and token == "tally" and seat == "retention"  # a grant is for pushes only


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("seat", sorted(SEATS))
def test_no_token_writes_for_a_seat_it_may_not(module_db, as_agent, token, seat):
    agent, (_holder, metric) = as_agent(token), SEATS[seat]
    tag = unique(f"m-{token}-{seat}")

    # push
    r = agent.post("/metrics/values", json={"values": [{"metric": metric, "value": 1, "key": tag}]})
    assert (r.status_code == 200) == allowed(token, seat, "push"), r.text
    assert value_rows(module_db, metric, tag) == (1 if allowed(token, seat, "push") else 0)
    if r.status_code != 200:
        problem(r, 403)

    # submit a draft
    r = agent.post("/drafts", json=draft_payload(seat=seat, kind="note", subject=f"client:{tag}", key=tag))
    assert (r.status_code == 201) == allowed(token, seat, "draft"), r.text
    with module_db.session(readonly=True) as s:
        made = s.scalar(select(func.count()).select_from(Draft).where(Draft.idem_key == tag))
    assert made == (1 if allowed(token, seat, "draft") else 0)
    if r.status_code != 201:
        problem(r, 403)

    # set a flag for the seat
    r = agent.post("/flags", json={"subject": f"client:{tag}", "flag": "watch", "seat": seat})
    assert (r.status_code == 201) == allowed(token, seat, "flag"), r.text
    if r.status_code != 201:
        problem(r, 403)

    # lift a flag the seat set
    subject = f"client:{tag}-lift"
    with module_db.session() as s:
        flags.set_flag(s, Actor.cli_operator(), subject, "watch", seat_id=seat)
    r = agent.delete("/flags", params={"subject": subject, "flag": "watch"})
    assert (r.status_code == 200) == allowed(token, seat, "lift"), r.text
    with module_db.session(readonly=True) as s:
        standing = s.scalar(
            select(func.count()).select_from(Flag).where(Flag.subject == subject, Flag.lifted_at.is_(None))
        )
    assert standing == (0 if allowed(token, seat, "lift") else 1)
    if r.status_code != 200:
        problem(r, 403)


def test_the_audit_chain_holds_after_all_this(module_db, server):
    wait_until(lambda: drained(module_db), timeout=20, what="the outbox to drain")
    with module_db.session(readonly=True) as s:
        assert audit.verify(s) is None


def test_the_briefing_says_what_needs_the_agent_now(as_agent, module_db):
    from otp_bot.store.domain.actors import actor_for_holder
    from otp_bot.store.domain.gate import flags

    with module_db.session() as s:
        flags.set_flag(s, actor_for_holder(s, "pulse"), "client:briefed", "at-risk", reason="usage down")
    body = as_agent("pulse").get("/briefing").json()
    assert [s["id"] for s in body["seats"]] == ["retention"]
    assert any(f["subject"] == "client:briefed" for f in body["flags"])
    assert set(body) >= {"drafts_pending", "drafts_held", "overdue_requests", "metrics_off_track", "unread_messages"}
    assert as_agent(None).get("/briefing").status_code == 401
    daily = as_agent("pulse").get("/briefing/daily")
    assert daily.status_code == 200 and isinstance(daily.json(), dict)
