"""GET /metrics of a real `otp serve`, behind its token: the families it lists, and counters and
gauges that move when signed Slack requests, agent API calls, the outbox and the Slack stand-in do."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from otp_bot.commands.dispatch import COMMANDS, command_name
from tests.support.agents import decide, draft_payload
from tests.support.approvals import FAST, settled, submit, wait_until
from tests.support.metrics import Scrape, get, scrape, scrape_until
from tests.support.receivers import Callbacks
from tests.support.serve import BOGDAN, PULSE, SECRET
from tests.support.slack.signing import signed_headers, slash_command_body

METRICS_TOKEN = "metrics-token-for-tests-6d1f0c"

FAMILIES = {
    # counted by the process
    "otp_requests",
    "otp_request_duration_seconds",
    "otp_commands",
    "otp_command_duration_seconds",
    "otp_slack_api_calls",
    "otp_schedule_runs",
    "otp_outbox_attempt_failures",
    "otp_deliveries_failed",
    # read from the store at scrape time
    "otp_store_read_ok",
    "otp_store_read_seconds",
    "otp_drafts",
    "otp_draft_deliveries",
    "otp_outbox_items",
    "otp_outbox_oldest_pending_age_seconds",
    "otp_schedule_run_records",
    # what is kept per chart version
    "otp_chart_cache_versions",
    "otp_chart_cache_builds",
    "otp_chart_cache_last_build_seconds",
    "otp_chart_cache_last_build_timestamp_seconds",
    # the process itself
    "process_resident_memory_bytes",
    "process_cpu_seconds",
}


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    # Every scrape reads the store (OTP_METRICS_STORE_SECONDS=0): the gauges' cache is tested on its own.
    return {
        **FAST,
        "OTP_METRICS_TOKEN": METRICS_TOKEN,
        "OTP_METRICS_STORE_SECONDS": "0",
        "OTP_SCHEDULER_ENABLED": "false",
    }


@pytest.fixture(autouse=True)
def clean_api(api, module_db):
    api.reset(keep_messages=True)
    yield
    api.end_outage()
    wait_until(lambda: settled(module_db), timeout=60, what="the outbox to drain")
    api.assert_no_rejections()


def metrics(server) -> Scrape:
    return scrape(server, METRICS_TOKEN)


def until(server, check) -> Scrape:
    return scrape_until(server, check, METRICS_TOKEN)


def test_metrics_asks_for_its_token(server):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {METRICS_TOKEN}"}):
        status, answered, body = get(server, headers=headers)
        assert status == 401, headers
        assert answered["www-authenticate"].startswith("Bearer")
        assert "otp_requests" not in body and METRICS_TOKEN not in body
    status, answered, body = get(server, METRICS_TOKEN)
    assert status == 200
    assert answered["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE otp_requests_total counter" in body or "# TYPE otp_requests counter" in body


def test_metrics_lists_every_family_and_the_stores_gauges(server):
    found = metrics(server)
    assert set(found.families) >= FAMILIES, FAMILIES - set(found.families)
    assert found.value("otp_store_read_ok") == 1
    # Every draft status and outbox kind is listed even at 0: a series does not vanish.
    assert {"held", "pending", "approved", "rejected", "expired", "withdrawn"} <= found.label_values("status")
    assert {"approval_post", "deliver"} <= found.label_values("kind")
    # `otp serve` built the who-owns index and the directory before it took requests.
    for cache in ("search index", "directory"):
        assert found.value("otp_chart_cache_versions", cache=cache) == 1
        assert found.value("otp_chart_cache_builds_total", cache=cache) >= 1
        assert 0 < found.value("otp_chart_cache_last_build_seconds", cache=cache) < 60
        assert time.time() - 3600 < found.value("otp_chart_cache_last_build_timestamp_seconds", cache=cache)
        assert found.value("otp_chart_cache_last_build_timestamp_seconds", cache=cache) <= time.time()


def test_a_slash_command_moves_the_request_and_command_counters(server):
    before = metrics(server)
    status, payload = server.command("who-owns retention")
    assert status == 200 and "Client Retention" in payload["text"]
    after = metrics(server)
    ok = {"surface": "slack_command", "outcome": "ok"}
    assert after.value("otp_requests_total", **ok) == before.value("otp_requests_total", **ok) + 1
    assert after.value("otp_request_duration_seconds_count", surface="slack_command") == (
        before.value("otp_request_duration_seconds_count", surface="slack_command") + 1
    )
    answered = {"command": "who-owns", "outcome": "ok"}
    assert after.value("otp_commands_total", **answered) == before.value("otp_commands_total", **answered) + 1
    assert after.value("otp_command_duration_seconds_count", command="who-owns") == (
        before.value("otp_command_duration_seconds_count", command="who-owns") + 1
    )
    assert after.value("otp_command_duration_seconds_sum", command="who-owns") > before.value(
        "otp_command_duration_seconds_sum", command="who-owns"
    )


def test_bad_input_and_forged_requests_are_counted_without_what_was_sent(server):
    before = metrics(server)
    server.command("fly-me-to-the-moon please")
    forged = slash_command_body("who-owns forged-marker-93a1")
    assert server.send(forged, signed_headers("another-apps-secret-0000", forged))[0] == 401
    after = metrics(server)
    unknown = {"command": "unknown", "outcome": "refused"}
    assert after.value("otp_commands_total", **unknown) == before.value("otp_commands_total", **unknown) + 1
    door = {"surface": "slack", "outcome": "refused"}
    assert after.value("otp_requests_total", **door) == before.value("otp_requests_total", **door) + 1
    # Labels come from fixed sets: nothing typed, no id.
    assert "fly-me" not in after.text and "forged-marker" not in after.text
    command_name("help")  # loads every command, to list their names
    assert after.label_values("command") <= set(COMMANDS) | {"unknown"}
    assert after.label_values("surface") <= {
        "slack_command",
        "slack_action",
        "slack_view",
        "slack_event",
        "slack_other",
        "slack",
        "api",
        "mcp",
    }


def test_agent_api_calls_are_counted_by_outcome(server, as_agent):
    before = metrics(server)
    assert as_agent("pulse").get("/me").status_code == 200
    assert as_agent(None).get("/me").status_code == 401
    after = metrics(server)
    for outcome in ("ok", "refused"):
        labels = {"surface": "api", "outcome": outcome}
        assert after.value("otp_requests_total", **labels) == before.value("otp_requests_total", **labels) + 1


def test_mcp_requests_are_counted(server):
    before = metrics(server)
    answer = httpx.post(f"{server.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert answer.status_code == 401  # no token
    after = metrics(server)
    labels = {"surface": "mcp", "outcome": "refused"}
    assert after.value("otp_requests_total", **labels) == before.value("otp_requests_total", **labels) + 1


def test_slack_calls_are_counted_by_method_and_status_429_included(server, api):
    stranger = f"U0{uuid.uuid4().hex[:9].upper()}"  # never looked up before: Slack is asked who they are
    api.fail_next("users.info", status=429)  # slack-sdk waits Retry-After (1 s) and asks again
    before = metrics(server)
    server.command("who-owns retention", user=stranger)
    limited = {"method": "users.info", "status": "429", "error": "ratelimited"}
    answered = {"method": "users.info", "status": "200"}
    after = until(
        server,
        lambda s: (
            s.value("otp_slack_api_calls_total", **answered) > before.value("otp_slack_api_calls_total", **answered)
        ),
    )
    assert (
        after.value("otp_slack_api_calls_total", **limited) == before.value("otp_slack_api_calls_total", **limited) + 1
    )
    assert (
        after.value("otp_slack_api_calls_total", **answered)
        == before.value("otp_slack_api_calls_total", **answered) + 1
    )
    assert len(api.calls_to("users.info")) == 2


def test_a_slack_call_without_an_answer_is_counted_as_status_none(server, api):
    stranger = f"U0{uuid.uuid4().hex[:9].upper()}"
    api.outage("users.info", calls=1, kind="drop")  # the connection closes unanswered; slack-sdk tries again
    before = metrics(server)
    server.command("who-owns retention", user=stranger)
    dropped = {"method": "users.info", "status": "none", "error": ""}
    answered = {"method": "users.info", "status": "200"}
    after = until(
        server,
        lambda s: (
            s.value("otp_slack_api_calls_total", **answered) > before.value("otp_slack_api_calls_total", **answered)
        ),
    )
    assert (
        after.value("otp_slack_api_calls_total", **dropped) == before.value("otp_slack_api_calls_total", **dropped) + 1
    )


def test_a_rate_limited_approval_post_counts_a_failed_attempt(server, api, as_agent):
    api.outage("chat.postMessage", calls=1, kind=429)  # the worker's first post is refused; its retry lands
    before = metrics(server)
    created = as_agent("pulse").post("/drafts", json=draft_payload(title="Metrics: rate limited"))
    assert created.status_code == 201, created.text
    posted = {"method": "chat.postMessage", "status": "200", "error": ""}
    after = until(
        server,
        lambda s: s.value("otp_slack_api_calls_total", **posted) > before.value("otp_slack_api_calls_total", **posted),
    )
    limited = {"method": "chat.postMessage", "status": "429"}
    assert (
        after.value("otp_slack_api_calls_total", **limited) == before.value("otp_slack_api_calls_total", **limited) + 1
    )
    assert after.value("otp_outbox_attempt_failures_total", kind="approval_post") == (
        before.value("otp_outbox_attempt_failures_total", kind="approval_post") + 1
    )
    assert after.value("otp_drafts", status="pending") == before.value("otp_drafts", status="pending") + 1


def test_outbox_depth_and_age_while_slack_is_slow(server, api, module_db):
    api.delay("chat.postMessage", 2.5)  # the approval post is in flight, its item pending, for 2.5 s
    draft_id = submit(module_db, title="Metrics: slow Slack")
    during = until(
        server,
        lambda s: (
            s.value("otp_outbox_items", status="pending", kind="approval_post") >= 1
            and s.value("otp_outbox_oldest_pending_age_seconds") >= 0.5
        ),
    )
    assert during.value("otp_outbox_oldest_pending_age_seconds") < 60
    api.delay("chat.postMessage", 0)
    wait_until(lambda: settled(module_db), timeout=30, what="the post to land")
    after = metrics(server)
    assert after.value("otp_outbox_items", status="pending") == 0
    assert after.value("otp_outbox_oldest_pending_age_seconds") == 0
    assert draft_id


def test_a_delivery_that_fails_for_good_is_counted(server, module_db):
    callbacks = Callbacks()
    callbacks.answers.append(404)  # the destination refuses it: no retry can help
    try:
        before = metrics(server)
        draft_id = submit(module_db, title="Metrics: refused delivery", destination=callbacks.url)
        wait_until(lambda: settled(module_db), timeout=30, what="the approval post")
        decide(module_db, draft_id)
        after = until(
            server, lambda s: s.value("otp_deliveries_failed_total") > before.value("otp_deliveries_failed_total")
        )
    finally:
        callbacks.close()
    assert after.value("otp_deliveries_failed_total") == before.value("otp_deliveries_failed_total") + 1
    assert (
        after.value("otp_draft_deliveries", state="failed") == before.value("otp_draft_deliveries", state="failed") + 1
    )
    assert after.value("otp_outbox_attempt_failures_total", kind="deliver") == (
        before.value("otp_outbox_attempt_failures_total", kind="deliver") + 1
    )
    assert after.value("otp_drafts", status="approved") == before.value("otp_drafts", status="approved") + 1
    assert len(callbacks.requests) == 1


def test_a_scorecard_post_counts_a_schedule_run(server, api):
    before = metrics(server)
    status, _ = server.command("scorecard --post", user=BOGDAN, channel_id="C0L10")
    assert status == 200
    posted = {"post": "scorecard", "outcome": "posted"}
    after = until(
        server,
        lambda s: s.value("otp_schedule_runs_total", **posted) > before.value("otp_schedule_runs_total", **posted),
    )
    assert after.value("otp_schedule_runs_total", **posted) == before.value("otp_schedule_runs_total", **posted) + 1
    stored = {"post": "scorecard", "status": "posted"}
    assert after.value("otp_schedule_run_records", **stored) == before.value("otp_schedule_run_records", **stored) + 1
    assert SECRET not in after.text and PULSE not in after.text
