"""Off-track numbers become issues: the follow-ups opened before move to the issues list
(migration 0023, and back on a downgrade), and the briefing names the open issue on a miss."""

from __future__ import annotations

import datetime as dt

from alembic import command
from sqlalchemy import inspect, select, text

from otp_bot.commands.briefing import briefing_message
from otp_bot.commands.views.scorecard_post import scorecard_message
from otp_bot.store.db import alembic_config
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.review import issues
from otp_bot.store.domain.review.metric_issues import raise_from_metric, raiser_name
from otp_bot.store.domain.rhythm.daily_briefing import daily_briefing
from otp_bot.store.domain.scorecard.metrics import current_rows
from otp_bot.store.domain.scorecard.review import weekly_review
from otp_bot.store.models import AuditEntry, Issue, Metric

OPENED = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def latest_miss(db, metric_id: str) -> dt.date:
    with db.session(readonly=True) as s:
        (row,) = current_rows(s, [s.get_one(Metric, metric_id)])
        assert row.off_track and row.latest is not None
        return row.latest.period


def test_follow_ups_move_to_the_issues_list_and_back(example_db):
    saves, cpa = latest_miss(example_db, "retention-saves"), latest_miss(example_db, "blended-cpa")
    with example_db.session() as s:  # an issue on the list before the migration
        manual = issues.raise_issue(s, Actor(label="David", holder_id="david"), "Hiring plan", seat_id="coo")
        manual_id = manual.id
    cfg = alembic_config(example_db.engine)
    command.downgrade(cfg, "0022")
    with example_db.engine.begin() as c:
        for metric, seat, period, value, goal, by, at in [
            ("retention-saves", "retention", saves, 1.0, ">= 2", "holder:bogdan", OPENED + dt.timedelta(hours=1)),
            ("blended-cpa", "analytics", cpa, 52.5, "<= €45", "operator:ops", OPENED),
        ]:
            c.execute(
                text(
                    "INSERT INTO follow_ups (metric_id, seat_id, period, value, goal, owner_id, run_id, created_by, "
                    "created_at) VALUES (:m, :s, :p, :v, :g, 'bogdan', NULL, :by, :at)"
                ),
                {"m": metric, "s": seat, "p": period, "v": value, "g": goal, "by": by, "at": at},
            )
    command.upgrade(cfg, "head")
    assert "follow_ups" not in inspect(example_db.engine).get_table_names()
    with example_db.session() as s:
        listed = issues.list_issues(s)
        assert [(i.title, i.rank) for i in listed] == [
            ("Hiring plan", 1),
            ("Blended cost per acquisition off track", 2),  # opened first
            ("At-risk clients saved off track", 3),
        ]
        cpa_issue, saves_issue = listed[1], listed[2]
        assert (cpa_issue.source, cpa_issue.status, cpa_issue.seat_id, cpa_issue.metric_id) == (
            "metric",
            "open",
            "analytics",
            "blended-cpa",
        )
        assert (cpa_issue.period, cpa_issue.value, cpa_issue.goal, cpa_issue.raised_by) == (
            cpa,
            52.5,
            "<= €45",
            "operator:ops",
        )
        assert saves_issue.raised_at.replace(tzinfo=dt.UTC) == OPENED + dt.timedelta(hours=1)
        assert raiser_name(s, saves_issue) == "Bogdan"
        # The moved issue is the miss's one issue: a click now finds it, and the post names it.
        assert raise_from_metric(s, Actor(label="Bogdan", holder_id="bogdan"), "retention-saves").id == saves_issue.id
        review = weekly_review(s)
        message = scorecard_message(review, run_id=1, raisers={saves_issue.id: "Bogdan"})
        assert f"Issue #{saves_issue.id} raised by Bogdan" in str(message.blocks)
        solved_id = issues.solve(s, Actor.cli_operator(), cpa_issue.id, "Cap the bids").id
    command.downgrade(cfg, "0022")
    with example_db.engine.connect() as c:
        back = c.execute(
            text("SELECT metric_id, seat_id, period, value, goal, owner_id, created_by FROM follow_ups ORDER BY id")
        ).all()
        assert [(m, seat, owner, by) for m, seat, _, _, _, owner, by in back] == [
            ("retention-saves", "retention", "bogdan", "holder:bogdan"),  # Pulse's supervisor answers for it
        ]
        # A solved issue keeps its decision where it is: an upgrade again must not reopen it.
        assert sorted(c.execute(text("SELECT id FROM issues")).scalars().all()) == sorted([manual_id, solved_id])
    command.upgrade(cfg, "head")
    with example_db.session(readonly=True) as s:
        assert (issues.get_issue(s, solved_id).status, issues.get_issue(s, solved_id).decision) == (
            "solved",
            "Cap the bids",
        )


def test_the_briefing_names_the_open_issue_on_a_miss(example_db):
    with example_db.session() as s:
        issue = raise_from_metric(s, Actor(label="Bogdan", holder_id="bogdan"), "retention-saves")
        b = daily_briefing(s)
        miss = next(o for o in b.off_track if o.metric_id == "retention-saves")
        assert miss.issue == issue.id
        assert all(o.issue is None for o in b.off_track if o.metric_id != "retention-saves")
        assert f"issue #{issue.id} open" in str(briefing_message(b).blocks)
        issues.drop(s, Actor.cli_operator(), issue.id, "a seasonal dip")
        b = daily_briefing(s)
        assert next(o for o in b.off_track if o.metric_id == "retention-saves").issue is None  # dropped: not open
    with example_db.session(readonly=True) as s:
        assert s.scalar(select(Issue.status).where(Issue.id == issue.id)) == "dropped"


def test_two_people_clicking_at_once_raise_one_issue(example_db):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    start = Barrier(2)

    def click(holder: str) -> int:
        start.wait()
        with example_db.session() as s:
            return raise_from_metric(s, Actor(label=holder, holder_id=holder), "briefing-items").id

    with ThreadPoolExecutor(2) as pool:
        ids = list(pool.map(click, ["bogdan", "david"]))
    assert ids[0] == ids[1]
    with example_db.session(readonly=True) as s:
        assert len(s.scalars(select(Issue).where(Issue.metric_id == "briefing-items")).all()) == 1
        raised = s.scalars(select(AuditEntry).where(AuditEntry.action == "issue.raised")).all()
        assert [e.subject for e in raised] == [f"issue:{ids[0]}"]  # recorded once, by whoever won
