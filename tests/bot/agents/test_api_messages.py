"""The message bus over the agent API: `otp serve` in a subprocess on the example org, real
tokens, every route with good and bad input. Pulse holds retention (accountable: Bogdan),
Dirk holds sales (accountable: David); Tally holds kpi."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import httpx
import pytest

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents.tokens import create_token, revoke_token
from tests.support.agents import FAST, problem
from tests.support.serve import OTP


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return FAST


def unique(prefix: str = "k") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def send(agent, **fields) -> httpx.Response:
    return agent.post(
        "/messages", json={"performative": "INFORM", "subject": "Acme", "body": "Usage is down.", **fields}
    )


def test_send_read_answer_and_thread(as_agent):
    pulse, dirk = as_agent("pulse"), as_agent("dirk")
    r = send(
        pulse,
        performative="REQUEST",
        to_seat="sales",
        subject="Is acme safe?",
        body="Hold the pitch?",
        deadline="1d",
        key=unique(),
    )
    assert r.status_code == 201 and r.headers["location"].endswith(f"/messages/{r.json()['message']['id']}")
    asked = r.json()["message"]
    assert asked["from"] == {"id": "retention", "title": "Client Retention", "holder": "Pulse"}
    assert (asked["to"]["id"], asked["status"], asked["overdue"], asked["thread_id"]) == (
        "sales",
        "unread",
        False,
        asked["id"],
    )
    inbox = dirk.get("/inbox").json()  # Dirk holds one seat: his inbox by default
    assert inbox["seat"]["id"] == "sales" and asked["id"] in [m["id"] for m in inbox["messages"]]
    assert inbox["unread"] >= 1
    read = dirk.post(f"/messages/{asked['id']}/read").json()
    assert read["status"] == "read" and read["read_at"]
    answer = send(dirk, performative="RESPONSE", in_reply_to=asked["id"], body="Held.", subject=None).json()
    assert answer["answered"] == asked["id"] and answer["message"]["to"]["id"] == "retention"
    assert answer["message"]["subject"] == "Re: Is acme safe?"
    thread = pulse.get(f"/messages/{answer['message']['id']}/thread").json()["messages"]
    assert [m["performative"] for m in thread] == ["REQUEST", "RESPONSE"] and thread[0]["status"] == "answered"
    assert pulse.get(f"/messages/{asked['id']}").json()["answered_at"]


def test_a_retried_send_with_a_key_answers_the_same_message(as_agent):
    pulse, key = as_agent("pulse"), unique()
    first = send(pulse, to_seat="sales", key=key)
    again = pulse.post(
        "/messages",
        json={"performative": "INFORM", "subject": "Acme", "body": "Usage is down.", "to_seat": "sales"},
        headers={"Idempotency-Key": key},
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["message"]["id"] == first.json()["message"]["id"] and not again.json()["created"]
    assert problem(send(pulse, to_seat="sales", key=key, body="Other"), 409)["code"] == "conflict"
    assert (
        "differ"
        in problem(
            pulse.post(
                "/messages",
                json={"performative": "INFORM", "subject": "s", "body": "b", "to_seat": "sales", "key": "a"},
                headers={"Idempotency-Key": "b"},
            ),
            422,
        )["detail"]
    )


@pytest.mark.parametrize(
    ("fields", "status", "says"),
    [
        ({"to_seat": "salez"}, 404, "no seat `salez`"),
        ({"to_seat": "sales", "from_seat": "kpi"}, 403, "you do not hold seat `kpi`"),
        ({"to_seat": "sales", "deadline": "2h"}, 422, "only a REQUEST has a deadline"),
        ({"to_seat": "sales", "performative": "REQUEST", "deadline": "yesterday"}, 422, "not a deadline"),
        ({"to_seat": "sales", "performative": "RESPONSE"}, 422, "give in_reply_to"),
        ({"to_seat": "sales", "performative": "SHOUT"}, 422, "body.performative"),
        ({"to_seat": "sales", "body": "x" * 10_001}, 422, "body.body"),
        ({"to_seat": "sales", "subject": " "}, 422, "needs a subject"),
        ({"to_seat": "sales", "in_reply_to": 999_999}, 404, "no message #999999"),
        ({"to_seat": "retention"}, 422, "to itself"),
        ({"to_seat": "sales", "colour": "red"}, 422, "body.colour"),
    ],
)
def test_bad_messages_are_refused_with_a_problem(as_agent, fields, status, says):
    body = problem(send(as_agent("pulse"), **fields), status)
    assert says in body["detail"], body


def test_malformed_and_oversized_bodies(as_agent, server):
    pulse = as_agent("pulse")
    r = pulse.post("/messages", content=b'{"performative": "INFORM", ', headers={"Content-Type": "application/json"})
    assert problem(r, 400)["code"] == "malformed_json"
    r = pulse.post("/messages", content=b"x" * 2_500_000, headers={"Content-Type": "application/json"})
    assert problem(r, 413)["code"] == "too_large"


def test_no_or_revoked_token_is_401(server):
    for token in (None, "otp_nope"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for method, path in (
            ("POST", "/messages"),
            ("GET", "/inbox"),
            ("POST", "/messages/1/read"),
            ("GET", "/messages/1/thread"),
        ):
            r = httpx.request(method, f"{server.url}/api/v1{path}", headers=headers, json={})
            assert problem(r, 401)["code"] == "unauthenticated"
    assert (
        "revoked"
        in problem(
            httpx.get(f"{server.url}/api/v1/inbox", headers={"Authorization": f"Bearer {tokens_revoked(server)}"}), 401
        )["detail"]
    )


def tokens_revoked(server) -> str:
    with server.db.session() as s:
        made = create_token(s, Actor.cli_operator(), holder_id="crystal", name="gone")
        s.flush()
        revoke_token(s, Actor.cli_operator(), str(made.token.id))
    return made.secret


def test_who_may_read_and_mark(as_agent, module_db):
    pulse, dirk, tally = as_agent("pulse"), as_agent("dirk"), as_agent("tally")
    message = send(pulse, to_seat="sales", key=unique()).json()["message"]
    # Another agent may not read Dirk's inbox, a message between others, nor mark it read.
    assert "you cannot read it" in problem(tally.get("/inbox", params={"seat": "sales"}), 403)["detail"]
    assert problem(tally.get(f"/messages/{message['id']}/thread"), 403)["code"] == "forbidden"
    assert problem(tally.get(f"/messages/{message['id']}"), 403)["code"] == "forbidden"
    assert "only its holder" in problem(pulse.post(f"/messages/{message['id']}/read"), 403)["detail"]
    # David is accountable for sales: his token reads the inbox, and reading marks nothing.
    with module_db.session() as s:
        david = create_token(s, Actor.cli_operator(), holder_id="david").secret
    with httpx.Client(base_url=pulse.http.base_url, headers={"Authorization": f"Bearer {david}"}) as as_david:
        seen = as_david.get("/inbox", params={"seat": "sales", "status": "all"}).json()
    assert message["id"] in [m["id"] for m in seen["messages"]]
    assert dirk.get(f"/messages/{message['id']}").json()["status"] == "unread"
    # An admin token reads and marks anything.
    assert as_agent("admin").post(f"/messages/{message['id']}/read").json()["status"] == "read"
    assert problem(dirk.post("/messages/999999/read"), 404)["code"] == "not_found"
    assert problem(dirk.get("/messages/abc/thread"), 422)["code"] == "invalid_request"


def test_the_inbox_pages_and_filters(as_agent):
    pulse, tally = as_agent("pulse"), as_agent("tally")
    sent = [send(pulse, to_seat="kpi", subject=f"n{i}", key=unique()).json()["message"]["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        page = tally.get("/inbox", params={"seat": "kpi", "status": "unread", "limit": 2, "cursor": cursor}).json()
        assert len(page["messages"]) <= 2
        seen += [m["id"] for m in page["messages"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen[:5] == sent[::-1]
    first = tally.get("/inbox", params={"seat": "kpi", "limit": 2}).json()
    # A cursor belongs to its list: another filter, or a made-up one, is refused.
    assert (
        "another inbox"
        in problem(tally.get("/inbox", params={"seat": "kpi", "status": "all", "cursor": first["next_cursor"]}), 422)[
            "detail"
        ]
    )
    assert problem(tally.get("/inbox", params={"cursor": "abc"}), 422)["code"] == "invalid"
    assert problem(tally.get("/inbox", params={"status": "new"}), 422)["code"] == "invalid_request"
    assert problem(tally.get("/inbox", params={"limit": 201}), 422)["code"] == "invalid_request"
    assert "name the seat" in problem(as_agent("admin").get("/inbox"), 422)["detail"]


def test_the_routes_are_in_the_openapi_schema(server):
    spec = httpx.get(f"{server.url}/api/v1/openapi.json").json()
    for path in (
        "/messages",
        "/inbox",
        "/messages/{message_id}",
        "/messages/{message_id}/read",
        "/messages/{message_id}/thread",
    ):
        assert path in spec["paths"], path
    assert "from" in spec["components"]["schemas"]["Message"]["properties"]


# ------------------------------------------------------------------ `otp agent send` and `otp agent inbox`


def agent_cli(server, token: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTP_")}
    return subprocess.run(
        [OTP, "agent", *args],
        env={**env, "OTP_URL": server.url, "OTP_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_agents_talk_from_the_shell(server, tokens):
    asked = agent_cli(
        server,
        tokens.dirk,
        "send",
        "retention",
        "-p",
        "request",
        "--subject",
        "Umbrella?",
        "--body",
        "Safe to pitch Umbrella?\nThey asked twice.",
        "--deadline",
        "1d",
        "--key",
        unique(),
    )
    assert asked.returncode == 0, asked.stderr
    number = asked.stdout.strip().splitlines()[-1]
    assert number.isdigit() and f"message #{number} sent to retention (REQUEST)" in asked.stderr

    shown = agent_cli(server, tokens.pulse, "inbox", "--mark-read")
    assert shown.returncode == 0, shown.stderr
    assert f"#{number} REQUEST from sales (Dirk)" in shown.stdout and "    They asked twice." in shown.stdout
    assert "[unread]" in shown.stdout and "inbox of retention" in shown.stderr
    again = agent_cli(server, tokens.pulse, "inbox", "--status", "unread", "--json")
    assert number not in [str(m["id"]) for m in json.loads(again.stdout)["messages"]]

    answered = agent_cli(server, tokens.pulse, "send", "-p", "RESPONSE", "--reply-to", number, "--body", "Yes.")
    assert answered.returncode == 0 and f"#{number} is answered" in answered.stderr

    refused = agent_cli(server, tokens.pulse, "inbox", "sales")
    assert refused.returncode == 2 and "you cannot read it" in refused.stderr
    missing = agent_cli(server, tokens.pulse, "send", "sales")
    assert missing.returncode == 2 and "--body or --body-file" in missing.stderr
    bad = agent_cli(server, tokens.pulse, "send", "sales", "--body", "x", "-p", "SHOUT")
    assert bad.returncode == 2 and "performative" in bad.stderr
