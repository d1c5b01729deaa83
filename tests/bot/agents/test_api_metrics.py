"""Metric values over the agent HTTP API (`otp serve` in a subprocess on the example org, real
tokens): listing, pushing, idempotency, who may push for which seat, and bad input."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from otp_bot.store.domain.actors import Actor
from tests.support.agents import FAST, draft_payload, problem, unique, value_rows


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return FAST


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
    from otp_bot.store.domain.lifecycle import holders

    pulse = as_agent("pulse")
    assert (
        pulse.post("/metrics/values", json={"values": [{"metric": "early-flags", "value": 1}]}).json()["recorded"] == 1
    )
    with module_db.session() as s:
        holders.assign(s, Actor.cli_operator(), "retention", "dirk")
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
            holders.assign(s, Actor.cli_operator(), "retention", "pulse")
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
