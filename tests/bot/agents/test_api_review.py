"""The weekly review over the agent API: `otp serve` in a subprocess on the example org, real
tokens. Pulse (an agent) holds retention, accountable: Bogdan; Dirk (an agent) holds sales.
People act through the domain here, as the Slack buttons and commands would."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.review import headlines, rocks, todos
from otp_bot.store.domain.review.quarters import quarter_bounds, quarter_of
from otp_bot.store.models import AuditEntry, Headline, Issue
from tests.support.agents import FAST, problem, unique


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return FAST


def add_rock(db, seat: str = "retention", who: str | None = "bogdan", **kw) -> tuple[int, str]:
    """A rock of this quarter, due on its last day, set by a person who answers for the seat (or an operator)."""
    with db.session() as s:
        quarter = quarter_of(todos.org_today(s))
        last = quarter_bounds(quarter)[1]
        actor = actor_for_holder(s, who) if who else Actor.cli_operator()
        rock = rocks.add_rock(s, actor, seat, f"Rock {unique()}", due=last, **kw)
        return rock.id, quarter


def test_an_agent_raises_an_issue_once_per_key_and_reads_the_list(as_agent, server_db):
    pulse = as_agent("pulse")
    key = unique()
    body = {"title": "Churn is up in the SMB segment", "detail": "Three cancellations this week."}
    first = pulse.post("/issues", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    issue = first.json()
    assert first.headers["location"].endswith(f"/issues/{issue['id']}")
    assert (issue["seat"], issue["status"], issue["source"], issue["raised_by"]) == (
        "retention",
        "open",
        "manual",
        "holder:pulse",
    )
    again = pulse.post("/issues", json={**body, "key": key})
    assert again.status_code == 200 and again.json()["id"] == issue["id"]
    with server_db.session(readonly=True) as s:
        assert s.scalar(select(func.count()).where(Issue.title == body["title"])) == 1
        raised = s.scalars(select(AuditEntry).where(AuditEntry.subject == f"issue:{issue['id']}")).all()
        assert [(e.action, e.actor) for e in raised] == [("issue.raised", "holder:pulse")]
    clash = problem(pulse.post("/issues", json={**body, "title": "Another"}, headers={"Idempotency-Key": key}), 409)
    assert "idempotency key was used for another issue" in clash["detail"]
    # Another token's same key is its own.
    other = as_agent("dirk").post("/issues", json={**body, "seat": "retention"}, headers={"Idempotency-Key": key})
    assert other.status_code == 201 and other.json()["id"] != issue["id"]

    listed = pulse.get("/issues").json()
    ranks = [i["rank"] for i in listed["issues"]]
    assert ranks == sorted(ranks) and issue["id"] in [i["id"] for i in listed["issues"]]
    assert not listed["truncated"]
    mine = pulse.get("/issues", params={"seat": "retention", "status": "all"}).json()["issues"]
    assert {i["seat"] for i in mine} == {"retention"}
    assert pulse.get(f"/issues/{issue['id']}").json() == issue
    with_draft = pulse.post("/issues", json={"title": "Blocked on a reply", "message": "https://acme.slack.com/x/p1"})
    assert with_draft.status_code == 201 and with_draft.json()["source"] == "message"


def test_bad_issues_are_clear_problems(as_agent):
    pulse = as_agent("pulse")
    empty = problem(pulse.post("/issues", json={"title": "   "}), 422)
    assert empty["code"] == "invalid" and empty["detail"] == "an issue needs a title" and empty["hint"]
    assert (
        "there is no seat `nowhere`"
        in problem(pulse.post("/issues", json={"title": "t", "seat": "nowhere"}), 404)["detail"]
    )
    assert "no draft #999999" in problem(pulse.post("/issues", json={"title": "t", "draft": 999999}), 404)["detail"]
    assert problem(pulse.post("/issues", json={"titel": "t"}), 422)["code"] == "invalid_request"
    assert problem(pulse.get("/issues/999999"), 404)["detail"] == "there is no issue #999999"
    assert problem(pulse.get("/issues", params={"status": "closed"}), 422)["code"] == "invalid_request"
    assert "no seat `nowhere`" in problem(pulse.get("/issues", params={"seat": "nowhere"}), 404)["detail"]
    assert problem(as_agent(None).post("/issues", json={"title": "t"}), 401)["code"] == "unauthenticated"


def test_an_agent_lists_adds_and_completes_its_own_todos_only(as_agent, server_db):
    pulse, dirk = as_agent("pulse"), as_agent("dirk")
    added = pulse.post("/todos", json={"text": "Call Acme about the renewal", "due": "in 3 days"})
    assert added.status_code == 201, added.text
    todo = added.json()
    with server_db.session(readonly=True) as s:
        today = todos.org_today(s)
    assert (todo["seat"], todo["due"], todo["status"], todo["overdue"]) == (
        "retention",
        (today + dt.timedelta(days=3)).isoformat(),
        "open",
        False,
    )
    key = unique()
    once = pulse.post("/todos", json={"text": "Send the QBR deck", "key": key})
    twice = pulse.post("/todos", json={"text": "Send the QBR deck"}, headers={"Idempotency-Key": key})
    assert (once.status_code, twice.status_code) == (201, 200) and once.json()["id"] == twice.json()["id"]
    assert once.json()["due"] == (today + dt.timedelta(days=7)).isoformat()  # a week unless said

    refused = problem(pulse.post("/todos", json={"text": "Close Initech", "seat": "sales"}), 403)
    assert refused["detail"] == "an agent adds to-dos for its own seats only"
    assert (
        "is not a day I can read" in problem(pulse.post("/todos", json={"text": "x", "due": "someday"}), 422)["detail"]
    )

    mine = pulse.get("/todos").json()["todos"]
    assert todo["id"] in [t["id"] for t in mine] and {t["seat"] for t in mine} == {"retention"}
    assert [t["due"] for t in mine] == sorted(t["due"] for t in mine)
    sales = dirk.post("/todos", json={"text": "Follow up on Initech"}).json()
    assert sales["seat"] == "sales" and sales["id"] not in [t["id"] for t in pulse.get("/todos").json()["todos"]]
    assert sales["id"] in [t["id"] for t in pulse.get("/todos", params={"seat": "sales"}).json()["todos"]]

    other = problem(pulse.post(f"/todos/{sales['id']}/complete", json={"note": "done it"}), 403)
    assert other["code"] == "forbidden" and "is `sales`'s" in other["detail"]
    done = pulse.post(f"/todos/{todo['id']}/complete", json={"note": "Renewal signed."})
    assert done.status_code == 200 and (done.json()["status"], done.json()["note"]) == ("done", "Renewal signed.")
    assert todo["id"] not in [t["id"] for t in pulse.get("/todos").json()["todos"]]
    assert todo["id"] in [t["id"] for t in pulse.get("/todos", params={"status": "done"}).json()["todos"]]
    assert "already done" in problem(pulse.post(f"/todos/{todo['id']}/complete"), 409)["detail"]
    assert problem(pulse.post("/todos/999999/complete"), 404)["detail"] == "there is no to-do #999999"
    assert dirk.post(f"/todos/{sales['id']}/complete").json()["status"] == "done"  # no body needed


def test_an_agents_track_is_a_proposal_until_its_human_confirms(as_agent, server_db):
    pulse, dirk = as_agent("pulse"), as_agent("dirk")
    rock_id, quarter = add_rock(server_db, milestones=["Call the top 10 clients", "Launch the save desk"])
    listed = pulse.get("/rocks", params={"seat": "retention"}).json()
    assert listed["quarter"] == quarter
    rock = next(r for r in listed["rocks"] if r["id"] == rock_id)
    assert (rock["track"], rock["proposed_track"], [m["n"] for m in rock["milestones"]]) == ("on", None, [1, 2])
    assert rock_id in [
        r["id"] for r in pulse.get("/rocks", params={"quarter": quarter.replace("-", "")}).json()["rocks"]
    ]

    proposed = pulse.post(f"/rocks/{rock_id}/track", json={"track": "off"}).json()
    assert proposed["proposed"] and proposed["awaiting"] == "Bogdan"
    assert (proposed["rock"]["track"], proposed["rock"]["proposed_track"]) == ("on", "off")
    assert "until Bogdan confirms" in proposed["outcome"]
    still = next(r for r in pulse.get("/rocks").json()["rocks"] if r["id"] == rock_id)
    assert (still["track"], still["proposed_track"], still["proposed_by"]) == ("on", "off", "holder:pulse")

    with server_db.session() as s:
        rocks.confirm_track(s, actor_for_holder(s, "bogdan"), rock_id)
    confirmed = next(r for r in pulse.get("/rocks").json()["rocks"] if r["id"] == rock_id)
    assert (confirmed["track"], confirmed["proposed_track"], confirmed["track_set_by"]) == (
        "off",
        None,
        "holder:bogdan",
    )

    assert "is `retention`'s" in problem(dirk.post(f"/rocks/{rock_id}/track", json={"track": "on"}), 403)["detail"]
    assert "is not a track" in problem(pulse.post(f"/rocks/{rock_id}/track", json={"track": "sideways"}), 422)["detail"]
    assert problem(pulse.post("/rocks/999999/track", json={"track": "on"}), 404)["detail"] == "there is no rock #999999"

    first = pulse.post(f"/rocks/{rock_id}/milestones/1/done").json()
    assert [m["done"] for m in first["milestones"]] == [True, False]
    assert "already done" in problem(pulse.post(f"/rocks/{rock_id}/milestones/1/done"), 409)["detail"]
    assert "there is no milestone 3" in problem(pulse.post(f"/rocks/{rock_id}/milestones/3/done"), 422)["detail"]
    assert problem(dirk.post(f"/rocks/{rock_id}/milestones/2/done"), 403)["code"] == "forbidden"

    bad = problem(pulse.get("/rocks", params={"quarter": "2026-Q7"}), 422)
    assert bad["detail"] == "`2026-Q7` is not a quarter" and bad["hint"] == "name it like 2026-Q4"
    assert rock_id in [r["id"] for r in pulse.get("/rocks", params={"quarter": "all"}).json()["rocks"]]
    sales_rock, _ = add_rock(server_db, seat="sales", who=None)
    assert [r["id"] for r in pulse.get("/rocks", params={"seat": "sales"}).json()["rocks"]] == [sales_rock]
    assert {rock_id, sales_rock} <= {r["id"] for r in pulse.get("/rocks").json()["rocks"]}


def test_the_briefing_carries_the_agents_todos_and_rocks(as_agent, server_db):
    with server_db.session() as s:
        bogdan = actor_for_holder(s, "bogdan")
        today = todos.org_today(s)
        # Added ten days ago, due two days later: overdue now.
        late = todos.add_todo(
            s,
            bogdan,
            "retention",
            "Send the churn report",
            due=today - dt.timedelta(days=8),
            today=today - dt.timedelta(days=10),
        ).id
        soon = todos.add_todo(s, bogdan, "retention", "Review the save desk script", due="tomorrow").id
        theirs = todos.add_todo(s, Actor.cli_operator(), "sales", "Price the Initech upsell").id
    rock_id, quarter = add_rock(server_db)
    briefing = as_agent("pulse").get("/briefing").json()
    listed = {t["id"]: t for t in briefing["todos"]}
    assert listed[late]["overdue"] and not listed[soon]["overdue"] and theirs not in listed
    assert [t["due"] for t in briefing["todos"]] == sorted(t["due"] for t in briefing["todos"])
    rocks_listed = {r["id"]: r for r in briefing["rocks"]}
    assert rocks_listed[rock_id]["track"] == "on" and {r["quarter"] for r in briefing["rocks"]} == {quarter}
    assert {r["seat"] for r in briefing["rocks"]} == {"retention"}
    dirk = as_agent("dirk").get("/briefing").json()
    assert theirs in [t["id"] for t in dirk["todos"]] and late not in [t["id"] for t in dirk["todos"]]


def test_the_review_routes_are_documented(server):
    spec = httpx.get(f"{server.url}/api/v1/openapi.json").json()
    for path, methods in {
        "/issues": {"get", "post"},
        "/issues/{issue_id}": {"get"},
        "/todos": {"get", "post"},
        "/todos/{todo_id}/complete": {"post"},
        "/rocks": {"get"},
        "/rocks/{rock_id}/track": {"post"},
        "/rocks/{rock_id}/milestones/{n}/done": {"post"},
        "/headlines/me": {"put"},
    }.items():
        assert methods <= set(spec["paths"][path]), path
        for method in methods:
            operation = spec["paths"][path][method]
            assert len(operation["description"]) > 40 and "401" in operation["responses"], (path, method)
            assert operation["tags"] == ["review"]
    post = spec["paths"]["/issues"]["post"]
    assert {"200", "201", "409", "422"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    assert "proposed" in spec["components"]["schemas"]["TrackSet"]["properties"]
    assert "todos" in spec["components"]["schemas"]["Briefing"]["properties"]


def test_concurrent_retries_with_one_key_raise_one_issue(as_agent, server_db):
    key, title = unique(), f"Payments failing {unique()}"
    clients = [as_agent("pulse") for _ in range(6)]
    with ThreadPoolExecutor(len(clients)) as pool:
        answers = list(pool.map(lambda c: c.post("/issues", json={"title": title, "key": key}), clients))
    assert sorted(r.status_code for r in answers) == [200] * 5 + [201], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    with server_db.session(readonly=True) as s:
        assert s.scalar(select(func.count()).where(Issue.title == title)) == 1


def test_an_agent_gives_this_weeks_headline_once(as_agent, server_db):
    pulse = as_agent("pulse")
    first = pulse.put("/headlines/me", json={"text": "Saved  two at-risk clients\nthis week"})
    assert first.status_code == 200, first.text
    with server_db.session(readonly=True) as s:
        week = headlines.upcoming_week(s)  # the coming review's: this week's while it runs, else the next
    assert {k: first.json()[k] for k in ("week", "holder", "text", "via")} == {
        "week": week.isoformat(),
        "holder": "pulse",
        "text": "Saved two at-risk clients this week",
        "via": "api",
    }
    second = pulse.put("/headlines/me", json={"text": "Churn is back under 2%"}).json()
    assert (second["week"], second["text"]) == (first.json()["week"], "Churn is back under 2%")
    with server_db.session(readonly=True) as s:
        rows = s.scalars(select(Headline).where(Headline.holder_id == "pulse", Headline.review_week == week)).all()
        assert [h.text for h in rows] == ["Churn is back under 2%"]
    assert problem(pulse.put("/headlines/me", json={"text": "  "}), 422)["detail"] == "a headline needs some words"
    assert "at most 300 characters" in problem(pulse.put("/headlines/me", json={"text": "x" * 301}), 422)["detail"]
    assert problem(as_agent("admin").put("/headlines/me", json={"text": "hi"}), 403)["code"] == "forbidden"
    assert problem(pulse.put("/headlines/me", json={}), 422)["code"] == "invalid_request"
