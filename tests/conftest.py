"""Test fixtures: a fresh, migrated store per test, on SQLite or on a real PostgreSQL; the Slack
stand-in and `otp serve` shared by a module; the example org's agents over the HTTP API.

Set OTP_TEST_DATABASE_URL to a PostgreSQL server URL (`.ci/run` starts one) to run the
whole suite against it; each test then gets its own database cloned from a migrated
template, so tests never see each other's rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import make_url

from otp_bot.store.db import Database
from tests.support.agents import Agent, Tokens, make_tokens
from tests.support.receivers import Receiver
from tests.support.serve import TOKEN, Server
from tests.support.slack.api import SlackAPI
from tests.support.stores import BACKEND, PG_URL, Templates, cloned_store

# The stand-in enforces no rate limit unless a test asks for one (tests/end_to_end/faults/
# test_pacing_faults.py), so pacing at Slack's real rate (one post a second per channel) would
# only make the suite wait: 200 approvals to one channel take 200 s. The suite runs the pacer
# 50 times faster, still through every turn it takes; the pacer's own tests set their pace.
os.environ.setdefault("OTP_SLACK_PACE", "50")


def pytest_report_header() -> str:
    return f"store backend: {BACKEND}" + (
        f" ({make_url(PG_URL).render_as_string(hide_password=True)})" if PG_URL else ""
    )


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    t = Templates(tmp_path_factory.mktemp("stores"))
    yield t
    t.close()


@pytest.fixture
def db(templates: Templates) -> Iterator[Database]:
    """An empty, migrated store."""
    yield from cloned_store(templates, "empty")


@pytest.fixture
def example_db(templates: Templates) -> Iterator[Database]:
    """A store holding the example org (Acme Agency) with 13 weeks of values."""
    yield from cloned_store(templates, "example")


@pytest.fixture(scope="module")
def module_db(templates: Templates) -> Iterator[Database]:
    """The example org, shared by one module's tests (modules that start `otp serve` once)."""
    yield from cloned_store(templates, "example")


@pytest.fixture(scope="module")
def api() -> Iterator[SlackAPI]:
    """The local Slack Web API, shared by one module's tests; it accepts the tests' bot token."""
    with SlackAPI(tokens=[TOKEN]) as api:
        yield api


@pytest.fixture
def session(db: Database):
    with db.session() as s:
        yield s


# ---- `otp serve` in a subprocess, one per module that asks for it


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """Settings for the module's `otp serve`; a module or folder overrides this fixture to change them."""
    return {}


@pytest.fixture(scope="module")
def server_db(module_db: Database) -> Database:
    """The store the module's `otp serve` runs on; a module overrides this fixture to serve another."""
    return module_db


@pytest.fixture(scope="module")
def server(server_db: Database, api: SlackAPI, server_env: dict[str, str]) -> Iterator[Server]:
    """`otp serve` on `server_db` and the module's Slack stand-in; it must stop without a traceback."""
    srv = Server(server_db, api, env=server_env)
    yield srv
    output = srv.stop()
    assert "Traceback" not in output, output


# ---- agents of the example org over the HTTP API


@pytest.fixture(scope="module")
def tokens(module_db) -> Tokens:
    return make_tokens(module_db)


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


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A callback destination on loopback."""
    r = Receiver()
    yield r
    r.close()
