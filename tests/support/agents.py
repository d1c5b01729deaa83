"""What the agent API tests share: tokens for the example org's agents, an HTTP client per token,
and reading what comes back. The fixtures (`server`, `tokens`, `as_agent`) are in tests/conftest.py.

The example org's agents: Pulse holds `retention`, Dirk holds `sales`, Tally holds `kpi`
and is granted `retention` for pushes (the KPI-tracking agent pushes for others);
Bogdan is the human who approves retention's and sales' drafts.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from otp_bot.store.db import Database
from otp_bot.store.domain import outbox
from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.agents.tokens import create_token, revoke_token
from otp_bot.store.domain.gate import decisions
from otp_bot.store.models import MetricValue
from tests.support.serve import Server

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


class Agent:
    """An HTTP client of /api/v1 holding one token (or none)."""

    def __init__(self, server: Server, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=f"{server.url}/api/v1", headers=headers, timeout=90)

    def __getattr__(self, name: str) -> Callable[..., httpx.Response]:
        return getattr(self.http, name)  # get, post, delete, request


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
        decisions.decide(s, actor_for_holder(s, who), draft_id, verdict, **kw)


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
