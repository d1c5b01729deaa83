"""What the agent API tests share: a running `otp serve` on the example org, and tokens.

The example org's agents: Pulse holds `retention`, Dirk holds `sales`, Tally holds `kpi`
and is granted `retention` for pushes (the KPI-tracking agent pushes for others);
Bogdan is the human who approves retention's and sales' drafts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from otp_bot.store.db import Database
from otp_bot.store.domain import outbox
from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.agents.tokens import create_token, revoke_token
from otp_bot.store.domain.gate import drafts

from .serve import Server

FAST = {"OTP_POLL_SECONDS": "0.2", "OTP_SWEEP_SECONDS": "3600"}


@dataclass
class Tokens:
    pulse: str
    dirk: str
    tally: str  # holds kpi; granted retention for pushes
    admin: str
    revoked: str

    def of(self, name: str) -> str:
        return getattr(self, name)


def make_tokens(db: Database) -> Tokens:
    op = Actor.cli_operator("tests")
    with db.session() as s:
        made = {
            "pulse": create_token(s, op, holder_id="pulse").secret,
            "dirk": create_token(s, op, holder_id="dirk").secret,
            "tally": create_token(s, op, holder_id="tally", push_seats=["retention"]).secret,
            "admin": create_token(s, op, holder_id=None, admin=True, name="ops").secret,
        }
        gone = create_token(s, op, holder_id="pulse", name="old-pulse")
        made["revoked"] = gone.secret
        s.flush()
        revoke_token(s, op, str(gone.token.id))
    return Tokens(**made)


@pytest.fixture(scope="module")
def server(module_db, api) -> Iterator[Server]:
    srv = Server(module_db, api, env=FAST)
    yield srv
    output = srv.stop()
    assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def tokens(module_db) -> Tokens:
    return make_tokens(module_db)


class Agent:
    """An HTTP client of /api/v1 holding one token (or none)."""

    def __init__(self, server: Server, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=f"{server.url}/api/v1", headers=headers, timeout=90)

    def __getattr__(self, name: str) -> Callable[..., httpx.Response]:
        return getattr(self.http, name)  # get, post, delete, request


@pytest.fixture(scope="module")
def as_agent(server, tokens) -> Iterator[Callable[[str | None], Agent]]:
    made: list[Agent] = []

    def make(who: str | None) -> Agent:
        agent = Agent(server, tokens.of(who) if who else None)
        made.append(agent)
        return agent

    yield make
    for agent in made:
        agent.http.close()


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem document of an error answer, checked to be one."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body = response.json()
    assert body["status"] == status and body["title"] and body["code"], body
    return body


def decide(db: Database, draft_id: int, verdict: str = "approve", who: str = "bogdan", **kw: Any) -> None:
    """A person decides a draft, from outside the server (as the Slack buttons would)."""
    with db.session() as s:
        drafts.decide(s, actor_for_holder(s, who), draft_id, verdict, **kw)


def wait_until(check: Callable[[], Any], timeout: float = 10.0, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def drained(db: Database) -> bool:
    with db.session(readonly=True) as s:
        return outbox.pending_count(s) == 0
