"""/mcp in `otp serve` loads the MCP SDK only for a request with a valid token: a refusal,
and a server nobody asked over MCP, never import it. Checked in a fresh interpreter, since
this one has the SDK imported already."""

from __future__ import annotations

import subprocess
import sys

from tests.support.mcp import token_for

SCRIPT = """
import sys
from starlette.testclient import TestClient
from otp_bot.bot.runtime.web import create_web_app
from otp_bot.store.db import Database

headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
ping = '{"jsonrpc": "2.0", "id": 1, "method": "ping"}'
with TestClient(create_web_app(Database(sys.argv[1]), None)) as client:
    assert "mcp" not in sys.modules, "imported at start"
    refused = client.post("/mcp", content=ping, headers=headers | {"Authorization": "Bearer otp_nope"})
    assert refused.status_code == 401, refused.text
    assert "mcp" not in sys.modules, "imported for a refusal"
    answered = client.post("/mcp", content=ping, headers=headers | {"Authorization": "Bearer " + sys.argv[2]})
    assert answered.status_code == 200 and answered.json()["id"] == 1, answered.text
    assert "mcp" in sys.modules
print("ok")
"""


def test_the_sdk_is_loaded_by_the_first_request_with_a_valid_token(store):
    token = token_for(store, "dirk")
    done = subprocess.run([sys.executable, "-c", SCRIPT, store.url, token], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
