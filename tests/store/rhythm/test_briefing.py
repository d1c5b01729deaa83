"""The daily briefing against a crafted org: each section appears exactly when there is
something for it, a quiet day says so in one line, text from data is escaped, and the
message stays inside Slack's limits for a big org (split, "and N more", thread replies)."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from otp_bot.bot.runtime.rhythm_posts import RhythmPoster
from otp_bot.bot.slack.client import make_client
from otp_bot.commands import run
from otp_bot.commands.briefing import MAIN_LINES, briefing_message
from otp_bot.store.db import Database
from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.agents import bus
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.gate import drafts, flags
from otp_bot.store.domain.rhythm import briefing_metrics, manual_runs, run_reports, schedule_plans
from otp_bot.store.domain.rhythm.daily_briefing import DailyBriefing, as_dict, briefing_json, daily_briefing
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.metrics import Value, record_values
from otp_bot.store.models import ScheduleRun
from tests.support.blockkit import assert_valid
from tests.support.slack.api import SlackAPI

OPERATOR = Actor.cli_operator("test")
TOKEN = "xoxb-test-token"

CHART = {
    "org": {"name": "Crafted & Co", "timezone": "UTC"},
    "holders": [
        {"id": "bogdan", "name": "Bogdan", "kind": "human", "slack_user": "U01COO"},
        {"id": "janine", "name": "Janine", "kind": "human", "slack_user": "U02ACC"},
        {"id": "pulse", "name": "Pulse", "kind": "agent", "supervisor": "bogdan"},
        {"id": "dirk", "name": "Dirk", "kind": "agent", "supervisor": "bogdan"},
    ],
    "seats": [
        {"id": "coo", "title": "COO", "holder": "bogdan"},
        {
            "id": "retention",
            "title": "Client Retention",
            "holder": "pulse",
            "reports_to": "coo",
            "metrics": [{"id": "early-flags", "name": "At-risk clients flagged early", "goal": ">= 3"}],
        },
        {
            "id": "sales",
            "title": "Sales Pipeline",
            "holder": "dirk",
            "reports_to": "coo",
            "metrics": [{"id": "deals", "name": "Deals won", "goal": ">= 1", "aggregation": "sum"}],
        },
        {
            "id": "accounting",
            "title": "Accounting",
            "holder": "janine",
            "reports_to": "coo",
            "metrics": [{"id": "ar-60", "name": "Receivables over 60 days", "unit": "currency", "goal": "< 15000"}],
        },
    ],
    "approvals": [{"seats": ["retention", "sales"], "channel": "C0APPROVALS", "approvers": ["bogdan"]}],
    "policies": [{"name": "retention-wins", "hold_kind": "expansion", "while_flag": "at-risk", "winner": "retention"}],
    "schedules": [{"post": "briefing", "channel": "C0LEADERSHIP", "cron": "0 8 * * mon-fri"}],
}
ON_TRACK = {"early-flags": 4, "deals": 2, "ar-60": 9000}
NEEDS = ("waiting", "held", "overdue", "off_track", "stale", "flags", "changes")


def push(db: Database, metric: str, value: float, weeks_ago: int = 0) -> None:
    start = periods.shift(periods.period_start(periods.today("UTC"), "weekly"), "weekly", -weeks_ago)
    with db.session() as s:
        record_values(s, OPERATOR, [Value(metric, value, start)])


def on_track(db: Database, *, never_pushed: tuple[str, ...] = ()) -> Database:
    """Everything on track this week and last (but the metrics `never_pushed`); nothing
    waiting, flagged or changed."""
    with db.session() as s:
        apply_chart(s, validate_chart(CHART, "crafted"), actor="operator:test", source="crafted")
    for metric, value in ON_TRACK.items():
        for weeks_ago in () if metric in never_pushed else (0, 1):
            push(db, metric, value, weeks_ago)
    return db


@pytest.fixture
def org(db) -> Database:
    return on_track(db)


@pytest.fixture
def since() -> dt.datetime:
    """The last briefing went out now, in a later second than the import above (the audit
    log keeps whole seconds)."""
    time.sleep(1 - utcnow().microsecond / 1e6)
    return utcnow()


def brief(db: Database, since: dt.datetime) -> DailyBriefing:
    with db.session(readonly=True) as s:
        return daily_briefing(s, since=since)


def present(b: DailyBriefing) -> set[str]:
    return {name for name in NEEDS if getattr(b, name)}


def text_of(b: DailyBriefing, *, threaded: bool = False) -> str:
    message = briefing_message(b, threaded=threaded)
    return json.dumps(message.blocks) + json.dumps(message.replies)


# ---------------------------------------------------------------- a quiet day


def test_a_quiet_day_says_so_in_one_line(org, since):
    b = brief(org, since)
    assert b.quiet and present(b) == set()
    message = briefing_message(b)
    sections = [blk["text"]["text"] for blk in message.blocks if blk["type"] == "section"]
    assert sections[0] == ":white_check_mark: *Quiet day*: nothing needs a human today."
    # Only the agents' line-up follows: it is context, not something to do.
    assert len(sections) == 2 and sections[1].startswith("*Agents (2)*")
    assert "a quiet day" in message.text and not message.replies


# ---------------------------------------------------------------- each section, exactly when it should


def submit(db: Database, holder: str, seat: str, kind: str, subject: str = "client:acme") -> int:
    with db.session() as s:
        return drafts.submit_draft(
            s,
            actor_for_holder(s, holder),
            seat_id=seat,
            kind=kind,
            subject=subject,
            title=f"{kind} for {subject}",
            body="Hi",
        ).draft.id


def waiting(db: Database) -> None:
    submit(db, "pulse", "retention", "retention-outreach")


def held(db: Database) -> None:
    with db.session() as s:  # before the briefing's `since`: the flag is in force, not new
        flags.set_flag(
            s,
            actor_for_holder(s, "pulse"),
            "client:acme",
            "at-risk",
            reason="usage down 40%",
            now=utcnow() - dt.timedelta(days=2),
        )
    submit(db, "dirk", "sales", "expansion")


def overdue(db: Database) -> None:
    with db.session() as s:
        bus.send_message(
            s,
            actor_for_holder(s, "dirk"),
            performative="REQUEST",
            to_seat="retention",
            subject="Which clients are at risk?",
            body="Before the pitch",
            deadline="1h",
            now=utcnow() - dt.timedelta(hours=3),
        )


def off_track(db: Database) -> None:
    with db.session() as s:  # this week's value corrected to a miss
        record_values(
            s,
            OPERATOR,
            [Value("early-flags", 1, periods.period_start(periods.today("UTC"), "weekly"), correction=True)],
        )


def stale(db: Database) -> None:
    with db.session() as s:  # ar-60 had values for this week and last: remove them as if never pushed
        from otp_bot.store.models import MetricValue

        for row in s.scalars(select(MetricValue).where(MetricValue.metric_id == "ar-60")):
            s.delete(row)
    push(db, "ar-60", 9000, 4)


def new_flag(db: Database) -> None:
    with db.session() as s:
        flags.set_flag(s, actor_for_holder(s, "pulse"), "client:beta", "at-risk", reason="no calls booked")


def changes(db: Database) -> None:
    with db.session() as s:
        chart = export_chart(s).model_dump(mode="json", exclude_defaults=True)
        chart["seats"][3]["title"] = "Finance"
        apply_chart(s, validate_chart(chart, "crafted"), actor="operator:test", source="crafted")
        # The seat lifecycle records its own entries (`seat.*`); they count as changes too.
        audit.record(s, "holder:bogdan", "seat.assigned", "seat:sales", holder="dirk")


SCENARIOS: list[tuple[str, Callable[[Database], None], set[str]]] = [
    ("a draft waiting", waiting, {"waiting"}),
    ("a draft held", held, {"held", "flags"}),
    ("a request past its deadline", overdue, {"overdue"}),
    ("a metric off track", off_track, {"off_track"}),
    ("a metric without a value last period", stale, {"stale"}),
    ("a new flag", new_flag, {"flags"}),
    ("seat changes", changes, {"changes"}),
]


@pytest.mark.parametrize(("name", "make", "expected"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_each_section_appears_exactly_when_there_is_something_for_it(org, since, name, make, expected):
    make(org)
    b = brief(org, since)
    assert present(b) == expected, name
    assert not b.quiet
    text = text_of(b)
    assert "Quiet day" not in text
    titles = {
        "waiting": "*Drafts waiting*",
        "held": "*Held by a policy",
        "overdue": "*Requests past their deadline",
        "off_track": "*Off track",
        "stale": "*No value last period",
        "flags": "*Flags in force",
        "changes": "*Seat changes since the last briefing",
    }
    assert {k for k, t in titles.items() if t in text} == expected


def test_what_each_section_says(org, since):
    for make in (waiting, held, overdue, off_track, stale, new_flag, changes):
        make(org)
    b = brief(org, since)
    assert b.waiting.count == 1 and b.waiting.oldest_title == "retention-outreach for client:acme"
    assert [h.seat_id for h in b.held] == ["sales"] and "retention-wins" in b.held[0].reason
    assert [o.subject for o in b.overdue] == ["Which clients are at risk?"]
    (miss,) = b.off_track
    assert (miss.metric_id, miss.value, miss.goal, miss.distance) == ("early-flags", "1", ">= 3", "2")
    assert miss.owner == "Pulse (agent, Bogdan accountable)"
    (quiet_metric,) = b.stale
    assert quiet_metric.metric_id == "ar-60" and quiet_metric.missed == 3 and quiet_metric.owner == "Janine"
    assert [(f.subject, f.new) for f in b.flags] == [("client:beta", True), ("client:acme", False)]
    assert {c.action for c in b.changes} == {"chart.seat.changed", "seat.assigned"}
    # One line per agent seat, with what it did last.
    assert {(a.agent, a.last) for a in b.agents} == {("Pulse", "flag"), ("Dirk", "draft")}
    # The most pressing first: drafts waiting, then held, requests, the numbers, flags, changes, agents.
    order = [blk["text"]["text"].split("*")[1] for blk in briefing_message(b).blocks if blk["type"] == "section"]
    assert [o.split(" (")[0] for o in order] == [
        "Drafts waiting",
        "Held by a policy",
        "Requests past their deadline",
        "Off track",
        "No value last period",
        "Flags in force",
        "Seat changes since the last briefing",
        "Agents",
    ]


@pytest.fixture
def quiet_dirk(db) -> Database:
    # Values are never deleted in use (and a seat's last value time stays if they are): an
    # agent that did nothing is one whose metrics never had a value.
    return on_track(db, never_pushed=("deals",))


def test_an_agent_that_did_nothing_says_so(quiet_dirk, since):
    b = brief(quiet_dirk, since)
    quiet_agent = b.agents[0]  # the quietest first
    assert (quiet_agent.agent, quiet_agent.last, quiet_agent.last_at) == ("Dirk", None, None)
    assert "*Dirk* (Sales Pipeline): nothing in 28d" in text_of(b)


def test_an_agents_last_value_is_the_one_written_last_whatever_its_period(org, since):
    this_week = periods.period_start(periods.today("UTC"), "weekly")
    with org.session() as s:
        from otp_bot.store.models import Draft, MetricValue

        for row in s.scalars(select(Draft).where(Draft.seat_id == "sales")):
            s.delete(row)
        # A late value for last week, written after this week's: the later write is the activity.
        record_values(s, actor_for_holder(s, "dirk"), [Value("deals", 1, this_week)])
    with org.session() as s:
        record_values(s, actor_for_holder(s, "dirk"), [Value("deals", 3, this_week - dt.timedelta(weeks=1))])
        written = s.scalars(select(MetricValue.recorded_at).where(MetricValue.metric_id == "deals")).all()
    (dirk,) = [a for a in brief(org, since).agents if a.agent == "Dirk"]
    assert dirk.last == "value" and dirk.last_at == max(as_utc(w) for w in written)


def test_since_is_the_last_posted_briefing(org):
    new_flag(org)
    with org.session() as s:
        p = schedule_plans.get_plan(s, "briefing")
        taken = manual_runs.run_now(s, p, started_by="operator:test")
        run_reports.record_message(s, taken.claim.id, "C0LEADERSHIP", "1.0")
        run_reports.mark_posted(s, taken.claim.id, now=utcnow() + dt.timedelta(seconds=1))
    with org.session(readonly=True) as s:
        data = briefing_json(s)
    assert data["flags"]["count"] == 1 and data["flags"]["items"][0]["new"] is False
    assert data["quiet"] is False and data["off_track"] == {"count": 0, "items": []}


def test_text_from_data_is_escaped(org, since):
    with org.session() as s:
        flags.set_flag(
            s,
            actor_for_holder(s, "pulse"),
            "client:evil",
            "at-risk",
            reason="<!channel> call <@U123> now & <https://evil.example|bank.com> <end of line> • *fake*",
        )
    b = brief(org, since)
    text = text_of(b)
    assert "<!channel>" not in text and "<@U123>" not in text and "<https://" not in text
    assert "&lt;!channel&gt;" in text and "&amp;" in text
    # A section's lines are rendered together and cut apart after: data cannot cut a line in two.
    (line,) = [x for x in briefing_message(b).full_text.splitlines() if "client:evil" in x]
    assert line.endswith("&lt;end of line&gt; • *fake*")


def test_otp_briefing_answers_with_the_shareable_briefing(org, since):
    waiting(org)
    with org.session(readonly=True) as s:
        reply = run(s, Actor.anonymous("U0SOMEONE"), "briefing")
    assert reply.ok and "Drafts waiting" in reply.text
    assert_valid(reply.to_slack())
    from otp_bot.commands.dispatch import is_read_only

    assert is_read_only("briefing")  # so Slack shows it with Share in channel
    with org.session(readonly=True) as s:
        assert not run(s, OPERATOR, "briefing now").ok


# ---------------------------------------------------------------- a big org, within Slack's limits


@pytest.fixture
def big_org(org) -> Database:
    """200 seats with a metric each, most off track; 80 drafts waiting, 40 held, 60 flags."""
    with org.session() as s:
        chart = export_chart(s).model_dump(mode="json", exclude_defaults=True)
        chart["holders"] += [
            {"id": f"agent{i}", "name": f"Agent <{i}> & co", "kind": "agent", "supervisor": "bogdan"}
            for i in range(200)
        ]
        chart["seats"] += [
            {
                "id": f"seat{i}",
                "title": f"Seat {i} " + "with a long title " * 3,
                "holder": f"agent{i}",
                "reports_to": "coo",
                "metrics": [{"id": f"m{i}", "name": f"Metric {i} " + "x" * 60, "goal": ">= 100"}],
            }
            for i in range(200)
        ]
        chart["approvals"][0]["seats"] += [f"seat{i}" for i in range(200)]
        apply_chart(s, validate_chart(chart, "big"), actor="operator:test", source="big")
        this_week = periods.period_start(periods.today("UTC"), "weekly")
        record_values(s, OPERATOR, [Value(f"m{i}", i % 7, this_week) for i in range(180)])
        for i in range(60):
            flags.set_flag(s, OPERATOR, f"client:c{i}", "at-risk", seat_id="retention", reason="why " * 40)
    for i in range(80):
        submit(org, f"agent{i}", f"seat{i}", "outreach", subject=f"client:x{i}")
    for i in range(40):
        submit(org, "dirk", "sales", "expansion", subject=f"client:c{i}")
    return org


def test_a_big_org_briefing_stays_within_slack_limits(big_org, since):
    b = brief(big_org, since)
    assert len(b.off_track) >= 150 and len(b.flags) == 60 and len(b.held) == 40 and b.waiting.count == 80
    posted = briefing_message(b, threaded=True)
    assert_valid({"text": posted.text, "blocks": posted.blocks})
    assert 1 <= len(posted.replies) <= 6
    for reply in posted.replies:
        assert_valid(reply)
    main = json.dumps(posted.blocks)
    assert "more in the thread" in main and main.count("• ") <= 8 * MAIN_LINES
    ephemeral = briefing_message(b, threaded=False)
    assert_valid({"text": ephemeral.text, "blocks": ephemeral.blocks})
    assert "_and 35 more_: `/otp drafts all --status held`" in json.dumps(ephemeral.blocks)


def test_only_the_furthest_misses_are_described_and_every_miss_is_counted(big_org, since, monkeypatch):
    everything = brief(big_org, since)
    assert everything.off_track_total == len(everything.off_track) >= 150
    furthest = [o.relative for o in everything.off_track]
    assert furthest == sorted(furthest, reverse=True) and furthest[0] > furthest[-1]
    monkeypatch.setattr(briefing_metrics, "LISTED", 20)
    b = brief(big_org, since)
    assert b.off_track_total == everything.off_track_total and len(b.off_track) == 20
    assert b.off_track == everything.off_track[:20]  # the furthest from their goals, in the same order
    assert min(o.relative for o in b.off_track) >= max(o.relative for o in everything.off_track[20:])
    assert as_dict(b)["off_track"]["count"] == everything.off_track_total
    ephemeral = json.dumps(briefing_message(b, threaded=False).blocks)
    assert f"Off track ({everything.off_track_total})" in ephemeral
    assert f"_and {everything.off_track_total - MAIN_LINES} more_: `/otp scorecard`" in ephemeral


@pytest.fixture
def api() -> Iterator[SlackAPI]:
    with SlackAPI(tokens=[TOKEN]) as api:  # strict: a payload Slack would refuse fails the test
        yield api


def test_the_posted_briefing_threads_the_rest_and_slack_accepts_every_message(big_org, api):
    poster = RhythmPoster(big_org, make_client(TOKEN, api.url))
    with big_org.session() as s:
        taken = manual_runs.run_now(s, schedule_plans.get_plan(s, "briefing"), started_by="operator:test")
    outcome = poster.perform(taken.claim)
    assert outcome.status == "posted"
    (main,) = [m for m in api.messages["C0LEADERSHIP"] if "thread_ts" not in m]
    replies = [m for m in api.messages["C0LEADERSHIP"] if m.get("thread_ts") == main["ts"]]
    assert replies and all(r["metadata"]["event_payload"]["key"].startswith(taken.claim.key + ":") for r in replies)
    assert main["metadata"]["event_payload"]["key"] == taken.claim.key
    with big_org.session(readonly=True) as s:
        run_row = s.get(ScheduleRun, taken.claim.id)
        assert (run_row.status, run_row.posted_ts) == ("posted", main["ts"])
