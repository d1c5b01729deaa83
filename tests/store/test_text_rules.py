"""The one text rule (store/domain/text_rules.py) and every surface that takes text through it:
drafts over the agent API, metric notes, flag reasons, bus messages, hearings, chart files,
and titles shown in Slack."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from otp_bot.bot.slack.views.approval_message import approval_message, fallback_text
from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.gate import drafts
from otp_bot.store.domain.gate import queries as gate_queries
from otp_bot.store.domain.lifecycle import hearing_input, hearings
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import Draft, Flag, Message, MetricValue
from tests.support.agents import FAST, problem


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return FAST


RLO, LRI, PDI, ZWSP, ZWJ, BOM = "\u202e", "\u2066", "\u2069", "\u200b", "\u200d", "\ufeff"
FAKE_STATUS = ":white_check_mark: *Approved* by Bogdan Marsh"


# ------------------------------------------------------------------ the rule


@pytest.mark.parametrize(
    ("text", "multiline", "words"),
    [
        ("a\x00b", True, "a NUL character"),
        ("a\x00b", False, "a NUL character"),
        ("a\x07b", True, "U+0007"),
        ("a\x1bb", True, "an escape character"),
        ("a\x7fb", True, "U+007F"),
        ("a\x85b", True, "U+0085"),
        ("Renewal\n" + FAKE_STATUS, False, "a line break"),
        ("one\ttwo", False, "a tab"),
        ("one\u2028two", False, "a line break"),
    ],
)
def test_controls_are_refused_naming_the_character(text, multiline, words):
    with pytest.raises(Invalid) as refused:
        clean_text(text, "the title", multiline=multiline)
    assert words in refused.value.message and refused.value.message.startswith("the title contains")


@pytest.mark.parametrize(
    ("text", "multiline", "stored"),
    [
        ("line one\r\nline two\rthree\u2028four", True, "line one\nline two\nthree\nfour"),
        ("tabs\tstay in bodies", True, "tabs\tstay in bodies"),
        (f"pay {RLO}gnp.exe{PDI} now", False, "pay gnp.exe now"),
        (f"{LRI}isolated{PDI} and \u200emarked\u200f", False, "isolated and marked"),
        (f"in{ZWSP}visible{BOM} soft\u00adhyphen", False, "invisible softhyphen"),
        (f"appr{ZWJ}oved", False, "approved"),  # a joiner inside an ASCII word only hides it
        ("family 👨\u200d👩\u200d👧", False, "family 👨\u200d👩\u200d👧"),  # an emoji sequence keeps its joiners
        ("می\u200cخواهم", False, "می\u200cخواهم"),  # Persian keeps its non-joiner
        ("שלום עולם", False, "שלום עולם"),  # right-to-left text itself is untouched
        ("cafe\u0301", False, "café"),  # NFC
    ],
)
def test_invisible_and_reordering_characters_are_removed(text, multiline, stored):
    assert clean_text(text, "the text", multiline=multiline) == stored


# ------------------------------------------------------------------ drafts, over the agent API


def draft(**fields) -> dict:
    return {
        "seat": "retention",
        "kind": "retention-outreach",
        "subject": "client:acme",
        "title": "Check in",
        "body": "Hi Jo,\nhow are things?",
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"title": "Renewal\n" + FAKE_STATUS}, "line break"),
        ({"title": "Renewal\r"}, "carriage return"),
        ({"body": "Hi\x00Jo"}, "NUL"),
        ({"body": "Hi\x1b[31mJo"}, "escape character"),
        ({"subject": "client:ac\x01me"}, "U+0001"),
    ],
)
def test_a_draft_with_control_characters_is_refused(as_agent, fields, words):
    body = problem(as_agent("pulse").post("/drafts", json=draft(**fields)), 422)
    assert words in body["detail"]


def test_a_drafts_bidi_and_zero_width_characters_are_removed(module_db, as_agent):
    r = as_agent("pulse").post("/drafts", json=draft(title=f"Invoice {RLO}fdp.exe", body=f"Pay{ZWSP} now\r\nthanks"))
    assert r.status_code == 201, r.text
    with module_db.session(readonly=True) as s:
        row = s.get(Draft, r.json()["id"])
        assert (row.title, row.body) == ("Invoice fdp.exe", "Pay now\nthanks")


# ------------------------------------------------------------------ notes, flags, bus messages


def test_metric_notes_follow_the_rule(module_db, as_agent):
    values = [
        {"metric": "early-flags", "value": 1, "note": "saved\x00Globex"},
        {"metric": "early-flags", "value": 2, "note": f"saved {RLO}xebolG{ZWSP}", "key": "note-rule-1"},
    ]
    r = as_agent("pulse").post("/metrics/values", json={"values": values})
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert first["outcome"] == "error" and "NUL" in first["error"]["detail"]
    assert second["outcome"] == "recorded"
    with module_db.session(readonly=True) as s:
        assert s.scalar(select(MetricValue.note).where(MetricValue.idem_key == "note-rule-1")) == "saved xebolG"


def test_flag_reasons_follow_the_rule(module_db, as_agent):
    agent = as_agent("pulse")
    refused = problem(
        agent.post(
            "/flags", json={"subject": "client:initech", "flag": "at-risk", "reason": "usage down\n" + FAKE_STATUS}
        ),
        422,
    )
    assert "line break" in refused["detail"]
    r = agent.post("/flags", json={"subject": "client:initech", "flag": "at-risk", "reason": f"usage {RLO}down"})
    assert r.status_code == 201, r.text
    with module_db.session(readonly=True) as s:
        assert s.scalar(select(Flag.reason).where(Flag.subject == "client:initech")) == "usage down"


def test_bus_messages_follow_the_rule(module_db, as_agent):
    agent = as_agent("pulse")
    refused = problem(
        agent.post(
            "/messages",
            json={"performative": "INFORM", "to_seat": "accounting", "subject": "heads up", "body": "heads up\x00"},
        ),
        422,
    )
    assert "NUL" in refused["detail"]
    r = agent.post(
        "/messages",
        json={
            "performative": "INFORM",
            "to_seat": "accounting",
            "subject": f"re{ZWSP}newal",
            "body": f"line one\r\n{LRI}line two{PDI}",
        },
    )
    assert r.status_code == 201, r.text
    with module_db.session(readonly=True) as s:
        row = s.get(Message, r.json()["message"]["id"])
        assert (row.subject, row.body) == ("renewal", "line one\nline two")


# ------------------------------------------------------------------ hearings and chart files


def test_hearing_texts_follow_the_rule(example_db):
    given = hearing_input.HearingInput(
        reason="budget\x00cut", findings=f"no {RLO}work", recommendation="keep", decision="keep"
    )
    with example_db.session() as s, pytest.raises(hearing_input.HearingErrors) as refused:
        hearings.retire(s, Actor.cli_operator(), "retention", given)
    assert "NUL" in refused.value.by_field()["reason"]


def test_chart_strings_follow_the_rule():
    chart = {
        "org": {"name": "Acme"},
        "holders": [{"id": "bo", "name": f"Bo{ZWSP}gdan", "kind": "human"}],
        "seats": [{"id": "ceo", "title": f"Chief {RLO}Executive", "holder": "bo"}],
    }
    spec = validate_chart(chart, "chart.yaml")
    assert spec.seats[0].title == "Chief Executive" and spec.holders[0].name == "Bogdan"
    chart["seats"][0]["title"] = "Chief\n" + FAKE_STATUS
    with pytest.raises(ChartErrors) as refused:
        validate_chart(chart, "chart.yaml")
    assert "seats[0].title" in str(refused.value) and "line break" in str(refused.value)


# ------------------------------------------------------------------ titles as Slack shows them


def test_a_title_cannot_draw_lines_or_format_around_itself(example_db):
    with example_db.session() as s:
        made = drafts.submit_draft(
            s,
            actor_for_holder(s, "pulse"),
            seat_id="retention",
            kind="retention-outreach",
            subject="client:acme",
            title="*Urgent* _now_ ~old~ `code`",
            body="Hi",
        ).draft
        # A row from before the rule (a title with a newline) still renders on one line.
        old = drafts.submit_draft(
            s,
            actor_for_holder(s, "pulse"),
            seat_id="retention",
            kind="retention-outreach",
            subject="client:acme",
            title="Renewal",
            body="Hi",
        ).draft
        old.title = "Renewal\n" + FAKE_STATUS
        s.flush()
        shown = json.dumps(approval_message(gate_queries.context_for(s, made))["blocks"], ensure_ascii=False)
        assert "*Urgent*" not in shown and "_now_" not in shown and "~old~" not in shown and "`code`" not in shown
        assert "∗Urgent∗" in shown
        message = approval_message(gate_queries.context_for(s, old))
        head = message["blocks"][1]["text"]["text"]
        assert (
            head.splitlines()[0] == f"*Renewal {FAKE_STATUS.replace('*', '∗').replace('_', 'ˍ')}*"
        )  # on the title's own line, inert
        status = [b for b in message["blocks"] if b.get("type") == "section" and "Waiting for" in b["text"]["text"]]
        assert len(status) == 1 and "Approved" not in status[0]["text"]["text"]
        assert "\n" not in fallback_text(old)
