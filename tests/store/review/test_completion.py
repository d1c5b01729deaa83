"""The to-do completion rate as a scorecard row: computed per week from the review's checks,
judged against 90%, read for every seat at once, never entered by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.chart.chartfile.validation import ChartErrors, validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.review import completion, todos
from otp_bot.store.domain.review.quarters import week_of
from otp_bot.store.domain.scorecard.metric_facts import metric_facts
from otp_bot.store.domain.scorecard.metrics import metric_rows, record_value
from otp_bot.store.domain.scorecard.value_batches import Value, record_values


def checked_week(s, seat_done: dict[str, list[bool]], week: dt.date) -> None:
    bogdan = actor_for_holder(s, "bogdan")
    for seat, marks in seat_done.items():
        for n, done in enumerate(marks):
            todo = todos.add_todo(s, bogdan, seat, f"{seat} to-do {n}")
            todos.check(s, bogdan, todo.id, done, week=week)


def test_a_checked_seat_gets_a_weekly_row_of_done_over_checked(example_db):
    with example_db.session() as s:
        today = todos.org_today(s)
        last = week_of(today) - dt.timedelta(days=7)
        checked_week(s, {"retention": [True, False]}, last)
        assert completion.checked_seats(s) == {"retention"}
        facts = completion.with_completion(s, [])
        (row,) = metric_rows(s, facts, weeks=4, today=today)
        assert row.metric.id == "todo-completion:retention" and row.metric.name == "To-do completion"
        cells = {c.period: (c.value, c.on_track) for c in row.cells}
        assert cells[last] == (50.0, False)
        # A week with no check has no value, and it is no miss: only the checked week counts.
        assert cells[last - dt.timedelta(days=7)] == (None, None)
        assert (row.off_track, row.status, row.show(row.latest.value), row.describe_goal()) == (
            True,
            "yellow",
            "50%",
            ">= 90%",
        )


def test_every_seat_is_read_in_one_query(example_db):
    with example_db.session() as s:
        last = week_of(todos.org_today(s)) - dt.timedelta(days=7)
        checked_week(s, {"retention": [True], "coo": [True, True], "analytics": [False]}, last)
        facts = completion.with_completion(s, metric_facts(s))
        statements: list[str] = []
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(s.get_bind(), "before_cursor_execute", listen)
        try:
            rows = {r.metric.id: r for r in metric_rows(s, facts, weeks=13)}
        finally:
            event.remove(s.get_bind(), "before_cursor_execute", listen)
        assert sum("todo_checks" in q for q in statements) == 1
        assert {mid: r.latest.value for mid, r in rows.items() if completion.is_completion(mid)} == {
            "todo-completion:retention": 100.0,
            "todo-completion:coo": 100.0,
            "todo-completion:analytics": 0.0,
        }


def test_a_value_for_it_is_refused_by_every_way_in(example_db):
    with example_db.session() as s:
        last = week_of(todos.org_today(s)) - dt.timedelta(days=7)
        checked_week(s, {"retention": [True]}, last)
        with pytest.raises(Invalid, match="computed from the to-dos checked"):
            record_value(s, Actor.cli_operator(), "todo-completion:retention", "100")
        (result,) = record_values(
            s, Actor.cli_operator(), [Value(metric="todo-completion:retention", value="100")]
        ).results
        assert result.outcome == "error" and "takes no values by hand" in result.error.message


def declare(db, seat_id: str, metric: dict) -> None:
    with db.session() as s:
        chart = export_chart(s).model_dump(mode="json", exclude_defaults=True)
        (seat,) = [x for x in chart["seats"] if x["id"] == seat_id]
        seat.setdefault("metrics", []).append(metric)
        apply_chart(s, validate_chart(chart, "test"), actor="operator:test", source="test")


def test_the_chart_sets_a_seats_goal_by_declaring_the_row(example_db):
    declare(
        example_db,
        "retention",
        {"id": "retention-todos", "name": "Pulse's to-dos done", "review": "todo-completion", "goal": ">= 70"},
    )
    with example_db.session() as s:
        today = todos.org_today(s)
        last = week_of(today) - dt.timedelta(days=7)
        checked_week(s, {"retention": [True, True, True, False], "coo": [True, True, True, False]}, last)
        rows = {r.metric.id: r for r in metric_rows(s, completion.with_completion(s, metric_facts(s)), weeks=4)}
        # Retention's declared row replaces its default one, with the chart's goal; Bogdan's seat keeps 90%.
        assert "todo-completion:retention" not in rows
        declared, default = rows["retention-todos"], rows["todo-completion:coo"]
        assert (declared.latest.value, declared.describe_goal(), declared.off_track) == (75.0, ">= 70%", False)
        assert (default.latest.value, default.describe_goal(), default.off_track) == (75.0, ">= 90%", True)
        with pytest.raises(Invalid, match="takes no values by hand"):
            record_value(s, Actor.cli_operator(), "retention-todos", "100")
        (result,) = record_values(s, Actor.cli_operator(), [Value(metric="retention-todos", value="1")]).results
        assert "takes no values by hand" in result.error.message
        exported = export_chart(s).model_dump(mode="json", exclude_defaults=True)
        (seat,) = [x for x in exported["seats"] if x["id"] == "retention"]
        assert (seat["metrics"][-1]["review"], seat["metrics"][-1]["kind"]) == ("todo-completion", "percent")


def test_a_completion_row_is_a_weekly_percent(example_db):
    for metric, refused in (
        ({"review": "todo-completion", "unit": "days"}, "weekly percent"),
        ({"review": "todo-completion", "cadence": "monthly"}, "weekly percent"),
        ({"review": "todo-completion", "gate": "approval-rate"}, "one of them"),
        ({"review": "issues-solved"}, "unknown review figure"),
    ):
        with pytest.raises(ChartErrors, match=refused):
            declare(example_db, "coo", {"id": "coo-todos", "name": "To-dos", "goal": ">= 80", **metric})
