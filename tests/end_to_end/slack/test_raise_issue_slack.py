"""Raising issues from Slack, end to end against `otp serve` and the Slack stand-in: the Raise
issue buttons under `/otp scorecard` (answered to the asker alone), and the Raise as issue
message shortcut with its form. (The weekly post's button: tests/commands/test_scorecard_post.py.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from otp_bot.bot.slack.views.raise_issue_form import RAISE_VIEW, SHORTCUT
from otp_bot.commands.scorecard import RAISE_FROM_REPLY
from otp_bot.store.models import AuditEntry, Issue
from tests.support.blockkit import assert_valid
from tests.support.serve import BOGDAN, STRANGER, Server
from tests.support.slack.signing import block_actions_body, message_action_body, view_submission_body

DAVID = "U02DSTL7K1Q"


@pytest.fixture(autouse=True)
def clean_api(api):
    api.reset()
    yield
    api.assert_no_rejections()


def issues_of(db, **where: Any) -> list[Issue]:
    with db.session(readonly=True) as s:
        query = select(Issue).order_by(Issue.id)
        for column, value in where.items():
            query = query.where(getattr(Issue, column) == value)
        return list(s.scalars(query))


# ------------------------------------------------------------------ /otp scorecard's buttons


def reply_buttons(server: Server) -> dict[str, dict[str, Any]]:
    status, payload = server.command("scorecard")
    assert status == 200
    assert_valid(payload)
    return {
        e["value"]: e
        for b in payload["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith(RAISE_FROM_REPLY)
    }


def click(server: Server, api, button: dict[str, Any], value: str | None = None, user: str = BOGDAN) -> str:
    """Click a button of the ephemeral reply; the answer sent to its response URL."""
    before = len(api.calls_to("response_url"))
    body = block_actions_body(
        user,
        button["action_id"],
        button["value"] if value is None else value,
        channel_id="C0GENERAL",
        message_ts="1700000000.000500",
        response_url=api.response_url(),
        is_ephemeral=True,
    )
    assert server.send(body)[0] == 200
    said = api.wait_for("response_url", count=before + 1, timeout=20)[-1]
    assert said.args.get("response_type") == "ephemeral" and said.args.get("replace_original") is False
    return said.args["text"]


def test_the_scorecard_reply_raises_an_issue_once_to_the_asker(server, api, module_db):
    buttons = reply_buttons(server)
    assert {"retention-saves", "blended-cpa", "briefing-items"} <= set(buttons)
    assert all(b["text"]["text"].startswith("Raise issue: ") for b in buttons.values())
    said = click(server, api, buttons["retention-saves"])
    (issue,) = issues_of(module_db, metric_id="retention-saves")
    assert f"Issue *#{issue.id}* raised: _At-risk clients saved off track_" in said and "`retention`" in said
    assert (issue.source, issue.seat_id, issue.raised_by, issue.run_id) == (
        "metric",
        "retention",
        "holder:bogdan",
        None,
    )
    # A double click, and David's click on the same row: the same issue, said so.
    assert f"Issue *#{issue.id}* raised" in click(server, api, buttons["retention-saves"])
    assert f"#{issue.id}* was already raised by Bogdan" in click(server, api, buttons["retention-saves"], user=DAVID)
    assert len(issues_of(module_db, metric_id="retention-saves")) == 1
    with module_db.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "issue.raised")) == 1
    # The reply asked again names the issue instead of a button.
    _, payload = server.command("scorecard")
    assert "retention-saves" not in reply_buttons(server)
    assert f"issue #{issue.id} (open) on *At-risk clients saved*" in json.dumps(payload["blocks"])


def test_a_forged_or_unknown_value_and_a_stranger_are_refused(server, api, module_db):
    buttons = reply_buttons(server)
    button = buttons["blended-cpa"]
    assert "names no metric" in click(server, api, button, value="<!channel> & drop")
    assert "there is no metric `no-such-metric`" in click(server, api, button, value="no-such-metric")
    assert "not off track now" in click(server, api, button, value="early-flags")
    assert "only people on the chart" in click(server, api, button, user=STRANGER)
    assert issues_of(module_db, metric_id="blended-cpa") == []
    assert issues_of(module_db, metric_id="early-flags") == []


# ------------------------------------------------------------------ the message shortcut


def shortcut(server: Server, api, text: str, user: str = BOGDAN) -> tuple[dict[str, Any], str]:
    """Choose Raise as issue on a message holding `text`; the form opened, and the message's ts."""
    ts = api.add_message("C0GENERAL", text, user=DAVID)
    body = message_action_body(
        user,
        SHORTCUT,
        {"type": "message", "user": DAVID, "ts": ts, "text": text},
        response_url=api.response_url(),
    )
    assert server.send(body)[0] == 200
    return api.wait_for("views.open", timeout=20)[-1].args["view"], ts


def submit(server: Server, modal: dict[str, Any], title: str, seat: str, detail: str = "") -> dict[str, Any]:
    values = {
        "title": {"title": title},
        "seat": {
            "seat": {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": seat}, "value": seat} if seat else None,
            }
        },
        "detail": {"detail": detail},
    }
    body = view_submission_body(BOGDAN, modal["callback_id"], values, modal["private_metadata"], blocks=modal["blocks"])
    status, _, answer = server.send(body)
    assert status == 200
    return json.loads(answer) if answer else {}


def test_a_message_raised_as_an_issue_keeps_its_permalink(server, api, module_db):
    modal, ts = shortcut(server, api, "  Churn in the SMB segment\n  is up *again*  ")
    assert_valid(modal, view=True)
    assert modal["callback_id"] == RAISE_VIEW and len(modal["title"]["text"]) <= 24
    inputs = {b["block_id"]: b["element"] for b in modal["blocks"] if b["type"] == "input"}
    assert list(inputs) == ["title", "seat", "detail"]
    assert inputs["title"]["initial_value"] == "Churn in the SMB segment is up *again*"
    options = [o["value"] for o in inputs["seat"]["options"]]
    assert options[0] == "coo" and inputs["seat"]["initial_option"]["value"] == "coo"  # Bogdan's seat first
    assert "retention" in options and "onboarding" not in options  # a vacant seat answers for nothing
    (link,) = api.calls_to("chat.getPermalink")
    assert (link.args["channel"], link.args["message_ts"]) == ("C0GENERAL", ts)
    permalink = f"https://otp-test.slack.com/archives/C0GENERAL/p{ts.replace('.', '')}"
    assert permalink in json.dumps(modal["blocks"])

    answer = submit(server, modal, inputs["title"]["initial_value"], "retention", "Three churned in November.")
    assert answer["response_action"] == "update", answer
    assert_valid(answer["view"], view=True)
    (issue,) = issues_of(module_db, source="message")
    assert f"Issue *#{issue.id}* raised" in json.dumps(answer["view"])
    assert (issue.title, issue.seat_id, issue.detail, issue.message_ref, issue.raised_by) == (
        "Churn in the SMB segment is up *again*",
        "retention",
        "Three churned in November.",
        permalink,
        "holder:bogdan",
    )


def test_bad_input_in_the_form_comes_back_under_each_field(server, api, module_db):
    modal, _ = shortcut(server, api, "Invoices go out late")
    before = len(issues_of(module_db))
    answer = submit(server, modal, "   ", "onboarding")
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"title", "seat"}
    assert "say what the issue is" in answer["errors"]["title"] and "nobody holds" in answer["errors"]["seat"]
    answer = submit(server, modal, "Invoices\u0007 go out late", "")
    assert set(answer["errors"]) == {"title", "seat"} and "choose the seat" in answer["errors"]["seat"]
    answer = submit(server, modal, "Invoices go out late", "no-such-seat", "x" * 4001)
    assert set(answer["errors"]) == {"seat", "detail"}
    assert all(len(m) <= 150 for m in answer["errors"].values())
    assert len(issues_of(module_db)) == before


def test_someone_off_the_chart_gets_no_form(server, api):
    ts = api.add_message("C0GENERAL", "Something is wrong")
    body = message_action_body(
        STRANGER, SHORTCUT, {"type": "message", "ts": ts, "text": "x"}, response_url=api.response_url()
    )
    assert server.send(body)[0] == 200
    (said,) = api.wait_for("response_url", timeout=20)
    assert "only people and agents on the chart" in said.args["text"] and not api.calls_to("views.open")
