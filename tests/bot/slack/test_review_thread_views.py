"""The review thread's builders: data from people is escaped, and a long agenda stays within
Slack's limits (rows cut whole, "and N more", the controls always there)."""

from __future__ import annotations

import datetime as dt

from otp_bot.bot.slack.views import review_thread as views
from otp_bot.store.domain.review.agenda import TodoLine
from otp_bot.store.models import Holder, Issue, Review, Seat, Todo, TodoCheck
from tests.support.blockkit import assert_valid, mrkdwn_texts

MONDAY = dt.date(2026, 11, 30)
HOSTILE = "<!channel> *bold* & <http://x|y> " + "x" * 600


def review() -> Review:
    david = Holder(id="david", name="David <boss>", kind="human", slack_user="U02DSTL7K1Q")
    return Review(id=7, week=MONDAY, status="running", section="todos", facilitator=david, summary={})


def seats() -> dict[str, Seat]:
    pulse = Holder(id="pulse", name="Pulse", kind="agent", slack_user="U07PLS8RT4N")
    return {"retention": Seat(id="retention", title="Retention & <Saves>", holder=pulse)}


def texts(message: dict) -> str:
    return "\n".join(mrkdwn_texts(message["blocks"]))


def test_a_long_todo_list_is_cut_by_whole_rows_and_keeps_its_controls():
    lines = [
        TodoLine(Todo(id=n, text=HOSTILE, seat_id="retention", due=MONDAY, status="open"), None) for n in range(1, 80)
    ]
    lines[0] = TodoLine(
        lines[0].todo,
        TodoCheck(todo_id=1, week=MONDAY, done=True, seat_id="retention", checked_by="holder:david"),
    )
    message = views.todos_section(review(), lines, seats(), {"holder:david": "<@U02DSTL7K1Q>"})
    assert_valid(message)
    body = texts(message)
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body and "\u2217bold\u2217" in body
    assert "Retention &amp; &lt;Saves&gt;" in body and "checked by <@U02DSTL7K1Q>" in body
    assert "more" in message["blocks"][-2]["elements"][0]["text"]
    assert [e["action_id"] for e in message["blocks"][-1]["elements"]] == [views.NEXT, views.END]
    # Every row shown whole: a to-do's text, then its buttons (each action id unique in the message).
    rows = [b for b in message["blocks"] if b.get("block_id", "").startswith("otp_review_todo_")]
    assert rows and all(len(b["elements"]) == 2 for b in rows)


def test_issues_and_the_summary_escape_what_people_wrote():
    issues = [
        Issue(id=n, title=HOSTILE, seat_id="retention", status="open", rank=n, detail=HOSTILE) for n in range(1, 40)
    ]
    issues[1].status, issues[1].decision = "solved", "<@U0EVERYONE> & call them"
    message = views.issues_section(review(), issues, seats())
    assert_valid(message)
    assert "<@U0EVERYONE>" not in texts(message) and "Solved: &lt;@U0EVERYONE&gt; &amp; call them" in texts(message)
    summary = {
        "issues": [{"id": 2, "title": HOSTILE, "status": "solved", "decision": "<b>" * 400}] * 30,
        "todos": [
            {"id": 1, "text": HOSTILE, "seat": "retention", "holder": "pulse", "owner": "bogdan", "due": "2026-12-04"}
        ]
        * 30,
        "checks": [{"todo": 1, "text": "x", "seat": "retention", "done": True}],
        "rocks_off_track": [],
    }
    ended = review()
    ended.status, ended.ended_by = "ended", "holder:david"
    out = views.summary_message(ended, summary, {"pulse": "U07PLS8RT4N", "david": "U02DSTL7K1Q"})
    assert_valid(out)
    assert "run by <@U02DSTL7K1Q>" in texts(out) and "<@U07PLS8RT4N> · due 2026-12-04" in texts(out)
    assert "<b>" not in texts(out)
