"""The whole weekly review from `otp shell`, scripted on stdin as a person types it: the
headline prompts go out and Janine answers hers with a headline and a manual value; the
review's scorecard post goes out as its schedule posts it and opens the review's thread;
Bogdan raises an issue from an off-track row; David's Start is refused (Bogdan facilitates);
Bogdan starts, moves through the sections, checks a to-do, solves the issue into two to-dos
from the modal (one for the agent seat `retention`), and ends it: the summary in the thread,
each owner's DM. Then the store says the same."""

from __future__ import annotations

import datetime as dt
import subprocess

from sqlalchemy import select

from otp_bot.store.db import Database
from otp_bot.store.models import AuditEntry, Headline, Issue, MetricValue, Review, Todo, TodoCheck
from tests.support.terminal import OTP, shell_env


def shell(tmp_path, script: str) -> str:
    result = subprocess.run(
        [OTP, "shell"], input=script, capture_output=True, text=True, env=shell_env(), cwd=tmp_path, timeout=180
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


def after(out: str, marker: str) -> str:
    assert marker in out, f"{marker!r} not in the console's output"
    return out.split(marker, 1)[1]


def test_the_console_runs_the_whole_weekly_review(tmp_path):
    due = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    out = shell(
        tmp_path,
        # Before the meeting: the prompts by DM (David 1, Bogdan 2, Janine 3, Kristen 4).
        "help\nheadlines\nas janine\n3\nfields\n"
        "set headline Two invoices paid early\nset 2 a few\nsubmit\nset 2 97\nsubmit\n"
        # A to-do due this week, for the to-do section; then the post, and an issue from its first row.
        "as bogdan\n/otp todo coo Write the onboarding checklist --due today\n"
        "review\n1\n"
        # Every message's buttons: the four DMs (1-4), the post's rows left (5-8), Start (9).
        "buttons\nas david\n9\nas bogdan\nbuttons\n9\n"
        # Scorecard, rocks, headlines: Next section; to-dos: Done, then Next; issues: Solve.
        "1\n1\n1\n1\n1\n1\n"
        "set decision Call the three largest clients at risk this week\n"
        "set todo_1_seat retention\nset todo_1_text List the clients at risk\n"
        f"set todo_2_seat accounting\nset todo_2_text Offer the at-risk clients a billing pause\nset todo_2_due {due}\n"
        "submit\n"
        # The issue solved: its reply keeps End alone.
        "1\nquit\n",
    )

    for verb in ("review ", "headlines ", "post <schedule> "):
        assert f"\n  {verb}" in out.split("otp> ", 2)[1], verb  # `help` lists the review's verbs

    # The prompts, each in the DM with its person, and Janine's modal with her manual metric.
    prompts = after(out, "headline prompts for the review of the week of")
    for name in ("David", "Bogdan", "Janine", "Kristen"):
        assert f"── a DM to {name}" in prompts
    assert "Your headline for it and 1 value(s) your scorecard still needs?" in prompts
    form = after(prompts, "── a modal opened ──")
    assert " 2 metric_payables-on-time Bills paid on time (" in form
    assert "metric_payables-on-time: `payables-on-time`: `a few` is not a number" in form
    assert "── the modal closed ──" in form

    # The post, in its channel, with a Raise issue button on each off-track row; the review opens in its thread.
    posted = after(out, "── posted in C0L10 ──\nScorecard review")
    assert "1  Raise issue" in posted and "a file uploaded to C0L10" in posted
    assert "scorecard: posted to C0L10 for " in posted and "opens in its thread" in posted
    opening = after(posted, "── posted in C0L10, in thread ──\nWeekly review of")
    assert "facilitator @Bogdan" in opening.splitlines()[0]
    raised = after(opening, "── updated a message in C0L10 ──")
    assert "✅ Issue #1 raised by Bogdan" in raised

    # David is told who runs it; Bogdan starts it.
    assert "only the facilitator (Bogdan) or an operator can start the review" in raised
    # The opening reply loses its Start (updated in its thread) as the first section is posted, in either order.
    started = after(raised, "only the facilitator (Bogdan) or an operator can start the review")
    assert "── updated a message in C0L10, in thread ──\nWeekly review of" in started
    assert "The review is running, started by @Bogdan." in started
    sections = [
        "1/5 · Scorecard: what is off track",
        "2/5 · Rocks: on or off track",
        "3/5 · Headlines",
        "4/5 · To-dos due this week",
        "5/5 · Issues, by priority",
    ]
    for title in sections:
        assert f"── posted in C0L10, in thread ──\n{title}" in started, title
    assert "• Accounting (@Janine) · Bills paid on time: 97% (goal >= 98%)" in started  # her value, off track
    assert "• @Janine: Two invoices paid early" in started
    assert "Write the onboarding checklist · COO (@Bogdan)" in started
    assert "✅ Done · checked by @Bogdan" in after(started, "4/5 · To-dos due this week")

    solved = after(started, "── the modal closed ──")
    assert "✅ Solved: Call the three largest clients at risk this week" in solved
    summary = after(solved, "── posted in C0L10, in thread ──\nWeekly review of ")
    assert "ended · run by @Bogdan\nTo-dos checked: 1 done, 0 not done" in summary
    assert "• At-risk clients saved off track: solved · Call the three largest clients at risk this week" in summary
    assert "• List the clients at risk · @Pulse · due " in summary
    assert f"• Offer the at-risk clients a billing pause · @Janine · due {due}" in summary
    # Each owner hears once: Bogdan for Pulse's seat, Janine for her own.
    bogdan_dm = after(summary, "── a DM to Bogdan (you) ──\nNew to-dos for you")
    janine_dm = after(summary, "── a DM to Janine ──\nNew to-dos for you")
    assert "List the clients at risk · seat retention" in bogdan_dm.split("──", 1)[0]
    assert f"Offer the at-risk clients a billing pause · seat accounting · due {due}" in janine_dm.split("──", 1)[0]

    db = Database(f"sqlite:///{tmp_path / 'otp.db'}")
    try:
        with db.session(readonly=True) as s:
            review = s.scalars(select(Review)).one()
            assert (review.status, review.channel, review.facilitator_id) == ("ended", "C0L10", "bogdan")
            issue = s.scalars(select(Issue)).one()
            assert (issue.status, issue.source, issue.seat_id, issue.review_id) == (
                "solved",
                "metric",
                "retention",
                review.id,
            )
            assert sorted((t.seat_id, t.text) for t in s.scalars(select(Todo).where(Todo.issue_id == issue.id))) == [
                ("accounting", "Offer the at-risk clients a billing pause"),
                ("retention", "List the clients at risk"),
            ]
            check = s.scalars(select(TodoCheck)).one()
            assert (check.done, check.review_id, check.checked_by) == (True, review.id, "holder:bogdan")
            headline = s.scalars(select(Headline)).one()
            assert (headline.holder_id, headline.text, headline.via) == ("janine", "Two invoices paid early", "dm")
            value = s.scalar(
                select(MetricValue)
                .where(MetricValue.metric_id == "payables-on-time", MetricValue.source == "manual")
                .order_by(MetricValue.id.desc())
                .limit(1)
            )
            assert (value.value, value.entered_by) == (97, "holder:janine")
            actions = set(s.scalars(select(AuditEntry.action)))
            assert {"review.opened", "review.started", "review.ended", "issue.solved"} <= actions
            refused_start = s.scalars(select(AuditEntry).where(AuditEntry.action == "review.started")).all()
            assert [a.actor for a in refused_start] == ["holder:bogdan"]  # David's click changed nothing
    finally:
        db.dispose()


def test_a_review_begun_in_an_earlier_session_goes_on_in_the_next(tmp_path):
    # The four off-track rows' Raise issue buttons are 1-4, Start is 5.
    first = shell(tmp_path, "as bogdan\nreview\n5\nquit\n")
    assert "── posted in C0L10, in thread ──\n1/5 · Scorecard: what is off track" in first

    # The store remembers the review; the stand-in for Slack starts empty, as after a restart.
    again = shell(tmp_path, "as bogdan\nreview\n1\nquit\n")
    assert "scorecard: already posted for " in again and "nothing posted" in again
    shown = after(again, "── in C0L10, in thread, as it is now ──\n1/5 · Scorecard: what is off track")
    assert "1  Next section    2  End" in shown
    # Next section: the old reply loses its buttons (updated in its thread), the next one is posted.
    assert "── updated a message in C0L10, in thread ──\n1/5 · Scorecard" in shown
    assert "── posted in C0L10, in thread ──\n2/5 · Rocks: on or off track" in shown
