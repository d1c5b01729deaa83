"""The door: plain reads answered by a real `otp serve` without Bolt, everything else through Bolt.

A request that went Bolt's way leaves its signature claimed (a row in inbound_events); one
the door answered leaves none. That row is how these tests tell the two ways apart.
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from otp_bot.store.db import Database
from otp_bot.store.domain.inbound import SIGNATURE_PREFIX
from otp_bot.store.models import InboundEvent, MetricValue
from tests.support.serve import PULSE, SECRET, Server
from tests.support.slack.signing import post, signed_headers, slash_command_body


@pytest.fixture(autouse=True)
def clean_api(api):
    api.reset()


@pytest.fixture(scope="module", autouse=True)
def authorised(server):
    # Bolt asks auth.test once, at the first request; until then the door leaves requests to it.
    status, _ = server.command("help")
    assert status == 200


def claims(db: Database) -> int:
    with db.session() as s:
        return s.scalar(
            select(func.count()).select_from(InboundEvent).where(InboundEvent.event_id.startswith(SIGNATURE_PREFIX))
        )


def values(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(MetricValue))


def send(server: Server, body: str, headers: dict[str, str]) -> tuple[int, dict]:
    status, _, answer = post(f"{server.url}/slack/events", body, headers)
    return status, (json.loads(answer) if answer.startswith("{") else {"raw": answer})


def test_a_read_is_answered_with_no_replay_claim(server, module_db):
    before = claims(module_db)
    status, payload = server.command("who-owns retention")
    assert status == 200 and payload["response_type"] == "ephemeral"
    assert payload["text"].startswith("*Client Retention* owns _retention_")
    assert any(b.get("block_id") == "otp_share_block" for b in payload["blocks"])  # Share, as through Bolt
    assert claims(module_db) == before


def test_a_replayed_read_is_answered_again(server, module_db):
    body = slash_command_body("who-owns retention")
    headers = signed_headers(SECRET, body)
    first, second = send(server, body, headers), send(server, body, headers)
    assert first[0] == second[0] == 200
    assert first[1]["text"] == second[1]["text"] and "Client Retention" in second[1]["text"]


def test_a_replayed_write_is_refused(server, module_db):
    before = values(module_db)
    body = slash_command_body("kpi retention-saves 4 once", user_id=PULSE)
    headers = signed_headers(SECRET, body)
    _, first = send(server, body, headers)
    _, second = send(server, body, headers)
    assert "Recorded 4" in first["text"]
    assert "already handled" in second["text"]
    assert values(module_db) == before + 1


@pytest.mark.parametrize("case", ["forged", "old", "unsigned"])
def test_a_read_not_signed_now_by_slack_is_refused(server, case):
    body = slash_command_body("who-owns retention")
    if case == "forged":
        headers = signed_headers("not-the-secret", body)
    elif case == "old":
        headers = signed_headers(SECRET, body, timestamp=int(time.time()) - 6 * 60)
    else:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, payload = send(server, body, headers)
    assert status == 401 and "Client Retention" not in json.dumps(payload)


def test_a_stranger_reads_as_much_as_through_bolt_and_no_more(server, module_db, api):
    # Not on the chart by Slack id: the profile email is asked for, as the listener asks.
    _, read = server.command("who-owns retention", user="U0DOORSTRANGER")
    assert "Client Retention" in read["text"]
    assert [c.args.get("user") for c in api.calls_to("users.info")] == ["U0DOORSTRANGER"]
    # A write from them goes through Bolt and is refused there.
    _, write = server.command("kpi retention-saves 2", user="U0DOORSTRANGER")
    assert "can read but not record" in write["text"]


def test_a_slow_read_is_acked_then_answered_once_at_the_response_url(server, module_db, api):
    before = claims(module_db)
    api.fail_next("users.info", delay=3.0)  # an unknown person's profile look-up hangs
    status, payload = server.command("who-owns retention", user="U0DOORSLOW")
    assert status == 200 and "Working on it" in payload["text"]
    follow = api.wait_for("response_url", timeout=15)
    assert len(follow) == 1 and "Client Retention" in follow[0].args["text"]
    time.sleep(0.5)
    assert len(api.calls_to("response_url")) == 1  # once: not in the ack and again later
    assert claims(module_db) == before


@pytest.mark.parametrize(
    ("text", "through_bolt", "then"),
    [
        ("share who-owns retention", lambda p: p["response_type"] == "in_channel", None),
        ("chart --image", lambda p: "Drawing the chart" in p["text"], "files.completeUploadExternal"),
        ("scorecard --post", lambda p: "Posting the scorecard" in p["text"], "chat.postMessage"),
        ("retire kpi", lambda p: p == {}, "views.open"),  # the hearing form is the answer
        ("kpi retention-saves 3", lambda p: "record values only for seats you hold" in p["text"], None),
    ],
)
def test_what_acts_in_slack_or_writes_still_reaches_bolts_listeners(server, module_db, api, text, through_bolt, then):
    before = claims(module_db)
    seen = len(api.calls_to(then)) if then else 0  # the module's Slack has answered earlier tests too
    status, payload = server.command(text)
    assert status == 200 and through_bolt(payload), payload
    assert claims(module_db) == before + 1
    if then:  # the listener's work after its ack, let land within this test
        api.wait_for(then, count=seen + 1, timeout=60)
