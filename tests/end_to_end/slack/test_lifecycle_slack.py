"""The seat lifecycle in Slack, end to end: `otp serve` in a subprocess, requests signed as
Slack signs them, the bot's Web API calls answered by the local Slack stand-in."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from otp_bot.bot.slack.views.hearing_form import hearing_modal
from otp_bot.store.db import Database
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.lifecycle import hearings
from otp_bot.store.models import Hearing, Seat
from tests.support.blockkit import assert_valid
from tests.support.charts import chart, seat
from tests.support.serve import BOGDAN, PULSE, STRANGER, Server
from tests.support.slack.signing import block_actions_body, new_trigger_id, view_submission_body


@pytest.fixture(autouse=True)
def clean_api(api):
    api.reset()
    yield
    api.assert_no_rejections()


def seat_row(db: Database, seat_id: str) -> Seat:
    with db.session(readonly=True) as s:
        return s.get(Seat, seat_id)


def opened(api) -> dict[str, Any]:
    return api.wait_for("views.open")[-1].args["view"]


def chosen(option: str) -> dict[str, Any]:
    return {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": option}, "value": option},
    }


def submit(server: Server, modal: dict[str, Any], values: dict[str, Any], user: str = BOGDAN) -> dict[str, Any]:
    """Submit the form with `values` ({block id: text, or a select's choice as chosen(...)})."""
    state = {block: {block: value} for block, value in values.items()}
    status, _, body = server.send(
        view_submission_body(user, modal["callback_id"], state, modal["private_metadata"], blocks=modal["blocks"])
    )
    assert status == 200
    return json.loads(body) if body else {}


def capability_blocks(modal: dict[str, Any]) -> dict[str, str]:
    """Block id -> label of each capability field."""
    return {
        b["block_id"]: b["label"]["text"]
        for b in modal["blocks"]
        if b["type"] == "input" and b["block_id"].startswith(("own-", "acc-"))
    }


HEARING = {
    "reason": "The data source changed",
    "findings": "Three of five pushes late",
    "recommendation": "Retire; Dash collects the numbers",
    "decision": chosen("retire"),
}


# ------------------------------------------------------------------ /otp retire and the form


def test_retire_opens_the_hearing_form_from_the_command(server, api):
    trigger = new_trigger_id()
    status, payload = server.command("retire kpi", trigger_id=trigger)
    assert status == 200 and payload == {}  # the form is the answer
    call = api.wait_for("views.open")[-1]
    assert call.args["trigger_id"] == trigger
    modal = call.args["view"]
    assert_valid(modal, view=True)
    assert modal["callback_id"] == "otp_hearing_view" and len(modal["title"]["text"]) <= 24
    inputs = {b["block_id"]: b for b in modal["blocks"] if b["type"] == "input"}
    assert [k for k in inputs if not k.startswith(("own-", "acc-"))] == [
        "reason",
        "findings",
        "recommendation",
        "decision",
    ]
    assert sorted(capability_blocks(modal).values()) == [
        "Accountability: Push scorecard values to the chart four times a day",
        "Accountability: Report metrics that have gone without a fresh value",
        "Owns: kpi collection",
    ]
    choices = next(iter(b for k, b in inputs.items() if k.startswith("own-")))["element"]
    values = [o["value"] for o in choices["options"]]
    assert choices["type"] == "static_select" and len(values) <= 100
    assert "analytics" in values and "-" in values and "kpi" not in values


def test_a_submission_with_a_missing_field_gets_errors_under_it_and_changes_nothing(server, module_db, api):
    server.command("retire kpi")
    modal = opened(api)
    caps = list(capability_blocks(modal))
    answer = submit(server, modal, {**HEARING, "findings": "  ", caps[0]: chosen("analytics"), caps[1]: chosen("-")})
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"findings", caps[2]}
    assert all(len(m) <= 150 for m in answer["errors"].values())
    assert seat_row(module_db, "kpi").status == "active"
    with module_db.session(readonly=True) as s:
        assert s.scalar(select(Hearing).where(Hearing.seat_id == "kpi")) is None


def test_a_good_submission_retires_the_seat_and_who_owns_follows(server, module_db, api):
    server.command("retire kpi")
    modal = opened(api)
    labels = capability_blocks(modal)
    where = {"Owns: kpi collection": "analytics"}
    values = {block: chosen(where.get(label, "coo")) for block, label in labels.items()}
    answer = submit(server, modal, {**HEARING, **values})
    assert answer["response_action"] == "update", answer
    assert_valid(answer["view"], view=True)
    assert "is retired" in json.dumps(answer["view"]) and "Analytics / Ad Performance (analytics)" in json.dumps(
        answer["view"]
    )
    kpi = seat_row(module_db, "kpi")
    assert kpi.status == "retired" and kpi.holder_id is None
    _, payload = server.command("who-owns kpi collection")
    assert "Analytics / Ad Performance" in payload["text"]
    # The same form again: the seat is retired now, and the error shows on the form.
    again = submit(server, modal, {**HEARING, **values})
    assert again["response_action"] == "errors" and "retired" in json.dumps(again["errors"])


# ------------------------------------------------------------------ refusals and the fallback


def test_assign_by_someone_not_allowed_gets_an_ephemeral_refusal(server, module_db):
    _, payload = server.command("assign retention dirk", user=PULSE)
    assert payload["response_type"] == "ephemeral" and "only people" in payload["text"]
    assert "otp_share" not in json.dumps(payload)
    _, payload = server.command("assign retention dirk", user=STRANGER)
    assert payload["response_type"] == "ephemeral" and "not on the chart" in payload["text"]
    assert seat_row(module_db, "retention").holder_id == "pulse"
    _, payload = server.command("assign retention dirk")  # Bogdan, above it
    assert "now held by Dirk (agent)" in payload["text"]
    _, payload = server.command("assign retention pulse")
    assert seat_row(module_db, "retention").holder_id == "pulse"


def test_retire_by_someone_not_allowed_is_refused_without_a_form(server, api):
    _, payload = server.command("retire projects", user=PULSE)
    assert payload["response_type"] == "ephemeral" and "only people" in payload["text"]
    assert api.calls_to("views.open") == []


def test_when_the_form_cannot_open_the_answer_carries_a_button_that_opens_it(server, module_db, api):
    api.fail_next("views.open", error="expired_trigger_id")
    _, payload = server.command("retire projects")
    assert payload == {}
    reply = api.wait_for("response_url")[-1].args
    assert_valid(reply)
    button = reply["blocks"][-1]["elements"][0]
    assert (button["action_id"], button["value"]) == ("otp_hearing_open", "projects")
    server.send(
        block_actions_body(
            BOGDAN,
            button["action_id"],
            button["value"],
            block_id=reply["blocks"][-1]["block_id"],
            response_url=api.response_url(),
            is_ephemeral=True,
        )
    )
    modal = api.wait_for("views.open", count=2)[-1].args["view"]
    assert_valid(modal, view=True)
    assert json.loads(modal["private_metadata"]) == {"seat": "projects"}
    assert seat_row(module_db, "projects").status == "active"


# ------------------------------------------------------------------ the form's limits


def big_chart(seats: int, accountabilities: int = 2) -> dict[str, Any]:
    data = chart()
    seat(data, "retention")["accountabilities"] = [
        f"Accountability number {i} of the retention seat" for i in range(accountabilities)
    ]
    data["seats"] += [{"id": f"s{i:03d}", "title": f"Seat {i}", "reports_to": "coo"} for i in range(seats)]
    return data


def form_for(db: Database, data: dict[str, Any]) -> dict[str, Any]:
    with db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
        return hearing_modal(hearings.hearing_form(s, Actor.cli_operator(), "retention"))


def elements(modal: dict[str, Any]) -> list[str]:
    return [
        b["element"]["type"]
        for b in modal["blocks"]
        if b["type"] == "input" and b["block_id"].startswith(("own-", "acc-"))
    ]


def test_a_small_chart_offers_a_choice_of_seats(db):
    modal = form_for(db, big_chart(20))
    assert_valid(modal, view=True)
    assert set(elements(modal)) == {"static_select"}


def test_a_middling_chart_offers_choices_while_the_form_stays_within_budget(db):
    modal = form_for(db, big_chart(40, accountabilities=8))
    assert_valid(modal, view=True)
    kinds = elements(modal)
    assert kinds[0] == "static_select" and kinds[-1] == "plain_text_input"  # first fields first


def test_a_big_chart_asks_for_a_seat_id_within_slacks_limits(db):
    modal = form_for(db, big_chart(150))
    assert_valid(modal, view=True)
    assert set(elements(modal)) == {"plain_text_input"} and len(modal["blocks"]) <= 100


def test_a_seat_with_more_work_than_a_form_holds_is_sent_to_the_cli(db):
    with pytest.raises(Invalid) as info:
        form_for(db, big_chart(5, accountabilities=120))
    assert "otp seat retire retention --hearing" in info.value.hint
