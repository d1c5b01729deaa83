"""`otp review export --quarter`: the quarter's decisions as Markdown, through the real command."""

from __future__ import annotations

import datetime as dt

import pytest

from otp_bot.store.domain.actors import actor_for_holder
from otp_bot.store.domain.review import issues, rocks, todos
from otp_bot.store.domain.review.quarters import quarter_bounds, quarter_of
from otp_bot.store.domain.review.todos import org_today
from otp_bot.store.models import Issue, Review, Rock, Todo, TodoCheck
from tests.support.cli import otp

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def seed_q3(db) -> None:
    """2026-Q3 of the example org (New York time), as rows: reviews held and not, issues
    closed inside the quarter and just outside it, to-dos and rocks."""
    with db.session() as s:
        held = Review(
            week=dt.date(2026, 7, 6),
            status="ended",
            facilitator_id="bogdan",
            opened_at=at("2026-07-06 13:00"),
            ended_by="holder:bogdan",
            ended_at=at("2026-07-06 14:00"),
        )
        s.add_all(
            [
                held,
                Review(
                    week=dt.date(2026, 7, 13),
                    status="not-held",
                    facilitator_id="bogdan",
                    opened_at=at("2026-07-13 13:00"),
                ),
            ]
        )
        s.flush()
        solved = Issue(
            title="Churn up | among enterprise clients",
            seat_id="retention",
            status="solved",
            source="metric",
            metric_id="retention-saves",
            period=dt.date(2026, 6, 29),
            decision="Call every at-risk client\nbefore Friday",
            raised_by="holder:pulse",
            raised_at=at("2026-07-01 12:00"),
            closed_by="holder:bogdan",
            closed_at=at("2026-07-06 13:30"),
            review_id=held.id,
        )
        dropped = Issue(
            title="Pipeline thin",
            seat_id="sales",
            status="dropped",
            source="manual",
            decision="Seasonal",
            raised_by="holder:dirk",
            raised_at=at("2026-07-02 12:00"),
            closed_by="operator:cli",
            closed_at=at("2026-09-30 23:30"),  # 19:30 in New York: still Q3
        )
        later = Issue(
            title="Closed in October",
            seat_id="sales",
            status="solved",
            source="manual",
            decision="x",
            raised_by="holder:dirk",
            raised_at=at("2026-09-02 12:00"),
            closed_by="holder:david",
            closed_at=at("2026-10-01 04:30"),  # 00:30 in New York: Q4
        )
        still_open = Issue(
            title="Still open", seat_id="kpi", raised_by="holder:tally", raised_at=at("2026-08-01 12:00")
        )
        s.add_all([solved, dropped, later, still_open])
        s.flush()
        call = Todo(
            text="Call at-risk clients",
            seat_id="retention",
            issue_id=solved.id,
            due=dt.date(2026, 7, 13),
            status="done",
            created_by="holder:bogdan",
            created_at=at("2026-07-06 13:30"),
            closed_by="holder:pulse",
            closed_at=at("2026-07-10 12:00"),
        )
        missed = Todo(
            text="Review save offers",
            seat_id="coo",
            issue_id=solved.id,
            due=dt.date(2026, 9, 28),
            status="open",
            created_by="holder:bogdan",
            created_at=at("2026-07-06 13:30"),
        )
        late = Todo(
            text="Fix the CSV import",
            seat_id="kpi",
            due=dt.date(2026, 8, 10),
            status="open",
            created_by="holder:bogdan",
            created_at=at("2026-08-03 12:00"),
        )
        before = Todo(
            text="Made in June",
            seat_id="kpi",
            due=dt.date(2026, 7, 3),
            status="open",
            created_by="holder:bogdan",
            created_at=at("2026-06-30 12:00"),
        )
        s.add_all([call, missed, late, before])
        s.flush()
        s.add(
            TodoCheck(
                todo_id=missed.id,
                review_id=held.id,
                seat_id="coo",
                week=dt.date(2026, 9, 28),
                done=False,
                checked_by="holder:bogdan",
                checked_at=at("2026-09-28 13:00"),
            )
        )
        s.add_all(
            [
                Rock(
                    seat_id="retention",
                    quarter="2026-Q3",
                    title="Cut churn to 2%",
                    due=dt.date(2026, 9, 30),
                    track="off",
                    status="open",
                    proposed_track="on",
                    proposed_by="holder:pulse",
                    proposed_at=at("2026-09-21 12:00"),
                    track_set_by="holder:bogdan",
                    track_set_at=at("2026-09-14 12:00"),
                    created_by="holder:bogdan",
                    created_at=at("2026-07-01 12:00"),
                    milestones=[
                        {"title": "Save playbook", "due": "2026-08-15", "done": True},
                        {"title": "Weekly at-risk list", "due": None, "done": False},
                    ],
                ),
                Rock(
                    seat_id="ceo",
                    quarter="2026-Q3",
                    title="Hire a head of sales",
                    due=dt.date(2026, 9, 15),
                    track="on",
                    status="done",
                    created_by="holder:david",
                    created_at=at("2026-07-01 12:00"),
                ),
                Rock(
                    seat_id="ceo",
                    quarter="2026-Q4",
                    title="Next quarter's",
                    due=dt.date(2026, 12, 15),
                    track="on",
                    status="open",
                    created_by="holder:david",
                    created_at=at("2026-10-01 12:00"),
                ),
            ]
        )


def test_a_past_quarter_is_written_whole_in_the_org_s_time(example_db):
    seed_q3(example_db)
    result = otp(example_db, "review", "export", "--quarter", "2026-Q3")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith(
        "# Acme Agency: the quarter's decisions, 2026-Q3\n\n2026-07-01 to 2026-09-30 (America/New_York).\n\n"
        "## Weekly reviews\n\n1 of 13 held.\n\n"
        "- Week of 2026-07-06: held, run by Bogdan, 1 decision\n"
        "- Week of 2026-07-13: not held\n"
        "- Week of 2026-07-20: no review opened\n"
    )
    assert "- Week of 2026-09-28: no review opened\n\n## Issues solved or dropped\n" in text
    issues_part = text[text.index("## Issues") : text.index("## To-dos")]
    assert issues_part == (
        "## Issues solved or dropped\n\n"
        "- #1 Churn up | among enterprise clients: **solved** by Bogdan on 2026-07-06 09:30\n"
        "  - Seat: Client Retention (retention) · from: metric retention-saves, period of 2026-06-29\n"
        "  - Decision: Call every at-risk client before Friday\n"
        "- #2 Pipeline thin: **dropped** by an operator (cli) on 2026-09-30 19:30\n"
        "  - Seat: Sales Pipeline (sales) · from: manual\n"
        "  - Why dropped: Seasonal\n\n"
    )
    todos_part = text[text.index("## To-dos") : text.index("## Rocks")]
    assert todos_part == (
        "## To-dos made\n\n"
        "- #1 Call at-risk clients: **done** · Client Retention (retention) · due 2026-07-13 · from issue #1\n"
        "- #2 Review save offers: **not done** · COO (coo) · due 2026-09-28 · from issue #1\n"
        "- #3 Fix the CSV import: **not done** · KPI Tracking (kpi) · due 2026-08-10\n\n"
        "1 done, 2 not done.\n\n"
    )
    assert text[text.index("## Rocks") :] == (
        "## Rocks\n\n"
        "### CEO / Founder (ceo)\n\n"
        "- Hire a head of sales: **done**, on track, due 2026-09-15 (as set when added)\n\n"
        "### Client Retention (retention)\n\n"
        "- Cut churn to 2%: **open**, off track, due 2026-09-30 (set by Bogdan on 2026-09-14; "
        "Pulse proposes on track, awaiting confirmation)\n"
        "  - [x] Save playbook (due 2026-08-15)\n"
        "  - [ ] Weekly at-risk list\n"
    )


def test_the_running_quarter_from_the_review_s_own_functions_and_to_a_file(example_db, tmp_path):
    with example_db.session() as s:
        bogdan = actor_for_holder(s, "bogdan")
        today = org_today(s)
        raised = issues.raise_issue(s, bogdan, "Churn up", seat_id="retention")
        issues.solve(
            s,
            bogdan,
            raised.id,
            "Call every at-risk client",
            todos=[issues.TodoSpec("retention", "Call at-risk clients"), issues.TodoSpec("coo", "Review save offers")],
        )
        (call,) = todos.list_todos(s, seat_id="retention")
        todos.complete(s, actor_for_holder(s, "pulse"), call.id)
        quarter = quarter_of(today)
        _, last_day = quarter_bounds(quarter)
        rocks.add_rock(s, bogdan, "retention", "Cut churn to 2%", due=last_day, milestones=["Save playbook"])
    out = tmp_path / "q.md"
    result = otp(example_db, "review", "export", "--quarter", quarter.lower().replace("-", ""), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and f"wrote {out}" in result.stderr
    text = out.read_text(encoding="utf-8")
    assert f"the quarter's decisions, {quarter}\n" in text and "the quarter is still running" in text
    assert "- #1 Churn up: **solved** by Bogdan on " in text and "  - Decision: Call every at-risk client\n" in text
    assert "Call at-risk clients: **done** · Client Retention (retention)" in text
    assert "Review save offers: **open** · COO (coo)" in text and "1 done, 1 open." in text
    assert f"- Cut churn to 2%: **open**, on track, due {last_day.isoformat()} (as set when added)\n" in text
    assert "  - [ ] Save playbook\n" in text


@pytest.mark.parametrize("label", ["2026-Q5", "Q4", "last quarter", "2026-13"])
def test_a_bad_quarter_exits_2_saying_how_to_name_one(example_db, label):
    result = otp(example_db, "review", "export", "--quarter", label)
    assert result.returncode == 2
    assert result.stdout == "" and "is not a quarter" in result.stderr and "2026-Q4" in result.stderr


def test_an_unwritable_file_exits_2(example_db, tmp_path):
    result = otp(example_db, "review", "export", "--quarter", "2026-Q3", "--out", str(tmp_path / "no" / "q.md"))
    assert result.returncode == 2 and "cannot write" in result.stderr
