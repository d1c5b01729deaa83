"""The agent HTTP API end to end: `otp serve` in a subprocess on the example org, driven over
HTTP with real tokens. Here: who is calling, reading the chart, no token writing for a seat it
may not, and the briefing; metrics, drafts and flags have their own modules."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.gate import flags
from otp_bot.store.models import ApiToken, Draft, Flag
from tests.support.agents import FAST, draft_payload, drained, problem, unique, value_rows, wait_until


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return FAST


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
