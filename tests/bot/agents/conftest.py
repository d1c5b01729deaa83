"""The MCP tests' store and agents' tokens, one set per module."""

from __future__ import annotations

import pytest

from otp_bot.store.db import Database
from tests.support.mcp import token_for


@pytest.fixture(scope="module")
def store(module_db) -> Database:
    """One example store for the module: every test uses its own subjects, so none sees another's."""
    return module_db


@pytest.fixture(scope="module")
def agents(store) -> dict[str, str]:
    every_seat = ["retention", "sales", "analytics", "call-center", "projects", "prospecting", "inbox"]
    return {
        "pulse": token_for(store, "pulse"),
        "dirk": token_for(store, "dirk"),
        "tally": token_for(store, "tally", push_seats=every_seat),
        "bogdan": token_for(store, "bogdan"),
        "admin": token_for(store, None, admin=True),
    }
