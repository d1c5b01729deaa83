"""The review in the daily rhythm, through `otp serve` with signed Slack requests: the to-do
completion rate on the scorecard the week after the checks (on every surface that reads
it, never entered by hand), overdue to-dos in the daily briefing and on their owner's App
Home, and the Home's Done and Confirm buttons, refused for someone who does not answer
for the seat."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, update

from otp_bot.store.domain.actors import actor_for_holder
from otp_bot.store.domain.review import rocks, todos
from otp_bot.store.domain.review.quarters import quarter_bounds, quarter_of, week_of
from otp_bot.store.models import AuditEntry, Rock, Todo
from tests.support.approvals import FAST, wait_until
from tests.support.blockkit import assert_valid
from tests.support.mcp import Agent, session_with, token_for
from tests.support.schedules import posts
from tests.support.serve import BOGDAN, PULSE
from tests.support.slack.signing import block_actions_body, event_body

JANINE = "U03JNN2W5TA"  # accounting: neither holds nor answers for `retention`


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return FAST


def add_todo(db, seat: str, text: str, *, late_days: int = 0) -> int:
    """A to-do added by Bogdan; `late_days` moves its due day into the past, as time passing would."""
    with db.session() as s:
        todo = todos.add_todo(s, actor_for_holder(s, "bogdan"), seat, text)
        if late_days:
            s.execute(
                update(Todo).where(Todo.id == todo.id).values(due=todos.org_today(s) - dt.timedelta(days=late_days))
            )
        return todo.id


def home(server, api, user: str = BOGDAN) -> dict:
    api.home.pop(user, None)
    status, _, _ = server.send(event_body({"type": "app_home_opened", "user": user, "tab": "home"}))
    assert status == 200
    view = wait_until(lambda: api.home.get(user), what="the Home tab")
    assert_valid(view, view=True)
    return view


def button(view: dict, prefix: str, item_id: int) -> dict:
    for block in view["blocks"]:
        for element in [block.get("accessory") or {}, *block.get("elements", [])]:
            if element.get("action_id") == f"{prefix}:{item_id}":
                return element
    raise AssertionError(f"no {prefix} button for #{item_id}")


def click(server, api, user: str, element: dict) -> dict | None:
    """Click a Home button; the refusal modal it opened, if any."""
    opened, published = len(api.calls_to("views.open")), len(api.calls_to("views.publish"))
    api.home.pop(user, None)
    status, _, _ = server.send(block_actions_body(user, element["action_id"], element["value"], block_id="home"))
    assert status == 200
    wait_until(
        lambda: len(api.calls_to("views.open")) > opened or len(api.calls_to("views.publish")) > published,
        what="the click's answer",
    )
    refused = api.calls_to("views.open")[opened:]
    return refused[-1].args["view"] if refused else None


def test_completion_shows_on_the_scorecard_the_week_after_the_checks(server, module_db, api, as_agent):
    with module_db.session() as s:
        bogdan = actor_for_holder(s, "bogdan")
        last_week = week_of(todos.org_today(s)) - dt.timedelta(days=7)
        first = todos.add_todo(s, bogdan, "retention", "Call Acme about the renewal")
        second = todos.add_todo(s, bogdan, "retention", "Send the churn list")
        todos.check(s, bogdan, first.id, True, week=last_week)
        todos.check(s, bogdan, second.id, False, week=last_week)

    _, answer = server.command("scorecard retention")
    line = next(x for x in answer["text"].splitlines() if "To-do completion" in x)
    assert "&gt;= 90%" in line and "50%" in line and "✗ ·" in line  # 1 of 2 done last week: off track
    assert "off track" in answer["text"]
    # No metric behind it to raise an issue on: the other misses have their button, it has none.
    buttons = [e["text"]["text"] for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert "Raise issue: At-risk clients saved" in buttons
    assert not any("To-do completion" in b for b in buttons)

    # The weekly post lists it among the rows off track, without a Raise issue button.
    status, _ = server.command("scorecard --post", user=BOGDAN, channel_id="C0L10")
    assert status == 200
    post = wait_until(lambda: posts(api, "C0L10"), what="the scorecard post")[-1]
    row = next(b for b in post["blocks"] if "To-do completion" in json.dumps(b))
    assert "50%" in json.dumps(row) and "accessory" not in row

    # The agent API's seat read carries the row, judged like any metric.
    seat = as_agent("pulse").get("/seats/retention").json()
    (rate,) = [m for m in seat["metrics"] if m["id"] == "todo-completion:retention"]
    assert (rate["name"], rate["goal"], rate["latest"]["shown"], rate["latest"]["on_track"]) == (
        "To-do completion",
        ">= 90%",
        "50%",
        False,
    )


def test_mcp_lists_the_rate_and_refuses_a_value_for_it(server, module_db):
    # After the first test: retention's checks of last week are in the store.
    async def scenario(agent: Agent) -> tuple[dict, dict]:
        mine = await agent.call("list_my_metrics")
        pushed = await agent.call("push_metric_values", values=[{"metric": "todo-completion:retention", "value": 95}])
        return mine, pushed

    mine, pushed = session_with(module_db, token_for(module_db, "pulse"), scenario)
    (rate,) = [m for m in mine["metrics"] if m["id"] == "todo-completion:retention"]
    assert (rate["latest"]["shown"], rate["latest"]["on_track"], rate["goal"]) == ("50%", False, ">= 90%")
    (result,) = pushed["results"]
    assert result["outcome"] == "error" and "takes no values by hand" in result["error"]["detail"]


def test_a_value_pushed_for_the_completion_rate_is_refused(server, as_agent):
    _, answer = server.command("kpi todo-completion:retention 100", user=PULSE)
    assert "computed from the to-dos checked" in answer["text"] and "takes no values by hand" in answer["text"]
    pushed = as_agent("pulse").post(
        "/metrics/values", json={"values": [{"metric": "todo-completion:retention", "value": 100}]}
    )
    assert pushed.status_code == 200
    (result,) = pushed.json()["results"]
    assert result["outcome"] == "error" and "takes no values by hand" in result["error"]["detail"]


def test_overdue_todos_are_in_the_briefing_escaped_and_capped(server, module_db):
    late = add_todo(module_db, "retention", "Chase <!channel> & *Acme*", late_days=3)
    for n in range(6):
        add_todo(module_db, "creative", f"Ship banner {n}", late_days=1)
    _, answer = server.command("briefing")
    text = answer["text"]
    assert "*To-dos overdue (7)*, the longest overdue first" in text
    line = next(x for x in text.splitlines() if f"#{late}*" in x)
    assert "Chase &lt;!channel&gt; &amp; ∗Acme∗" in line  # escaped, its formatting inert
    assert "Client Retention, Pulse (agent, Bogdan accountable)" in line and "3 days overdue" in line
    assert "_and 2 more_: `/otp todos all`" in text  # five shown in the answer


def test_the_owners_home_lists_their_todos_and_done_is_refused_for_someone_else(server, module_db, api):
    late = add_todo(module_db, "retention", "Renew the Acme contract", late_days=2)
    view = home(server, api, BOGDAN)  # Bogdan supervises Pulse, who holds `retention`
    shown = json.dumps(view)
    assert "*Your to-dos*" in shown and "Renew the Acme contract" in shown
    todo_block = next(b for b in view["blocks"] if "Renew the Acme contract" in json.dumps(b))
    assert "overdue 2 days" in todo_block["text"]["text"]
    done = button(view, "otp_home_todo_done", late)
    assert "Renew the Acme contract" not in json.dumps(home(server, api, JANINE))  # not hers

    refused = click(server, api, JANINE, done)
    assert refused is not None and f"to-do #{late} is `retention`'s" in json.dumps(refused)
    with module_db.session(readonly=True) as s:
        assert s.get(Todo, late).status == "open"

    assert click(server, api, BOGDAN, done) is None
    with module_db.session(readonly=True) as s:
        assert (s.get(Todo, late).status, s.get(Todo, late).closed_by) == ("done", "holder:bogdan")
    after = wait_until(lambda: api.home.get(BOGDAN), what="the Home republished")
    assert "Renew the Acme contract" not in json.dumps(after)
    again = click(server, api, BOGDAN, done)  # the same button from a stale Home
    assert again is not None and "already done" in json.dumps(again)


def test_an_agents_proposed_track_is_confirmed_from_the_home(server, module_db, api):
    with module_db.session() as s:
        today = todos.org_today(s)
        _, last = quarter_bounds(quarter_of(today))
        rock = rocks.add_rock(s, actor_for_holder(s, "bogdan"), "retention", "Cut churn to 2%", due=last)
        rocks.set_track(s, actor_for_holder(s, "pulse"), rock.id, "off")
        rock_id = rock.id
    view = home(server, api, BOGDAN)
    block = next(b for b in view["blocks"] if "Cut churn to 2%" in json.dumps(b))
    assert "proposed *off track*, awaiting you" in block["text"]["text"]
    confirm = button(view, "otp_home_rock_confirm", rock_id)

    refused = click(server, api, JANINE, confirm)
    assert refused is not None and "only the people who answer for `retention`" in json.dumps(refused)
    with module_db.session(readonly=True) as s:
        assert (s.get(Rock, rock_id).track, s.get(Rock, rock_id).proposed_track) == ("on", "off")

    assert click(server, api, BOGDAN, confirm) is None
    with module_db.session(readonly=True) as s:
        assert (s.get(Rock, rock_id).track, s.get(Rock, rock_id).proposed_track) == ("off", None)
        assert (
            s.scalar(
                select(AuditEntry.actor).where(
                    AuditEntry.action == "rock.track_confirmed", AuditEntry.subject == f"rock:{rock_id}"
                )
            )
            == "holder:bogdan"
        )
    after = wait_until(lambda: api.home.get(BOGDAN), what="the Home republished")
    shown = next(b for b in after["blocks"] if "Cut churn to 2%" in json.dumps(b))["text"]["text"]
    assert ":red_circle: off track" in shown and "awaiting" not in shown
