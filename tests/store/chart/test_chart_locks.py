"""The chart's locks (store/domain/chart/locks.py). Values and drafts written while a chart
import retires their seat are judged against the chart as the import left it, and an import
that meets another change of the chart works from the chart as that change left it."""

from __future__ import annotations

import datetime as dt
import threading
from importlib import resources

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otp_bot.store.db import Database
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.locks import lock_chart
from otp_bot.store.domain.chart.sync.apply import ImportResult, apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import DomainError, Forbidden
from otp_bot.store.domain.gate import reading
from otp_bot.store.domain.gate import timers as draft_timers
from otp_bot.store.domain.gate.drafts import submit_draft
from otp_bot.store.domain.lifecycle.chart_changes import new_revision
from otp_bot.store.domain.review.headlines import set_headline
from otp_bot.store.domain.scorecard.metrics import Value, record_value, record_values
from otp_bot.store.models import Draft, MetricValue, Seat
from tests.support.drafts import BOGDAN, PULSE, decide, submit
from tests.support.locks import at_once, wait_until_blocked, while_held

OPERATOR = Actor.cli_operator()
NICK = Actor(label="Nick", holder_id="nick")  # the agent holding prospecting
RETIRED_METRIC, KEPT_METRIC = "cold-emails-sent", "proposals-sent"  # prospecting's; sales'


def retiring_prospecting() -> dict:
    data = yaml.safe_load((resources.files("otp_bot.examples") / "acme-agency.yaml").read_text(encoding="utf-8"))
    seat = next(s for s in data["seats"] if s["id"] == "prospecting")
    seat["status"] = "retired"
    del seat["holder"]  # a retired seat has none
    return data


def count(db: Database, metric: str) -> int:
    with db.session(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(MetricValue).where(MetricValue.metric_id == metric)) or 0


def while_importing(db: Database, write) -> object:
    """`write(session)` started while an import retiring `prospecting` is open, and waiting
    for it; the import then commits. What `write` answered, or raised."""
    chart = validate_chart(retiring_prospecting(), "t")

    def written() -> object:
        with db.session() as s:
            return write(s)

    return while_held(
        db, lambda s: apply_chart(s, chart, actor="t", source="t"), written, "the write checked against the chart"
    )


@pytest.mark.parametrize("retired_first", [True, False])
def test_a_push_during_an_import_that_retires_a_seat_is_judged_against_the_new_chart(example_db, retired_first):
    before = count(example_db, RETIRED_METRIC), count(example_db, KEPT_METRIC)
    values = [Value(RETIRED_METRIC, 12), Value(KEPT_METRIC, 3)]
    batch = while_importing(example_db, lambda s: record_values(s, OPERATOR, values[:: 1 if retired_first else -1]))
    assert not isinstance(batch, Exception), repr(batch)
    outcomes = {r.metric_id: (r.outcome, r.error.message if r.error else "") for r in batch.results}
    assert outcomes[KEPT_METRIC] == ("recorded", "")
    assert outcomes[RETIRED_METRIC][0] == "error" and "retired" in outcomes[RETIRED_METRIC][1]
    assert (count(example_db, RETIRED_METRIC), count(example_db, KEPT_METRIC)) == (before[0], before[1] + 1)


def test_a_single_value_during_an_import_that_retires_its_seat_is_refused_clearly(example_db):
    before = count(example_db, RETIRED_METRIC)
    result = while_importing(example_db, lambda s: record_value(s, OPERATOR, RETIRED_METRIC, 12))
    assert isinstance(result, DomainError) and "retired" in result.message, repr(result)
    assert count(example_db, RETIRED_METRIC) == before


def test_a_draft_submitted_during_an_import_that_retires_its_seat_is_refused_not_left_pending(example_db):
    # Had it been written, the import (which withdraws a retired seat's waiting drafts) would
    # not have seen it: a retired seat's draft would wait for approval, and could go out.
    result = while_importing(
        example_db,
        lambda s: submit_draft(
            s, NICK, seat_id="prospecting", kind="cold-email", subject="lead:newco", title="Hello", body="Hi there"
        ),
    )
    assert isinstance(result, Forbidden) and "`prospecting` is held by nobody" in result.message, repr(result)
    with example_db.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Draft).where(Draft.seat_id == "prospecting")) == 0


def test_an_import_waits_for_a_change_of_the_chart_and_works_from_what_it_left(example_db):
    # A hearing renames a seat while an import of the file as it was is on its way: the
    # import must put the file's title back. Had it compared the file with the chart it read
    # before the hearing committed, it would have found nothing to change, and said so.
    with example_db.session(readonly=True) as s:
        as_it_was = export_chart(s)  # the file: the chart as it is before the hearing
    assert as_it_was is not None
    title = next(seat.title for seat in as_it_was.seats if seat.id == "sales")

    def hearing(s: Session) -> None:
        org = lock_chart(s)
        seat = s.get(Seat, "sales")
        assert seat is not None
        seat.title = "Revenue"
        new_revision(org)
        s.flush()

    def importer() -> object:
        with example_db.session() as s:
            return apply_chart(s, as_it_was, actor="t", source="t")

    result = while_held(example_db, hearing, importer, "the import")
    assert not isinstance(result, Exception), repr(result)
    assert isinstance(result, ImportResult) and result.changed
    with example_db.session(readonly=True) as s:
        chart = export_chart(s)
    assert chart is not None and next(seat.title for seat in chart.seats if seat.id == "sales") == title


def test_a_headline_form_and_an_import_at_once_both_land(example_db):
    # The form writes the headline (an audit entry, whose lock lasts until the commit) and
    # then the values. An import that took the chart in between would wait for that lock
    # while the values waited for the chart, unless the headline took the chart first.
    headline_written, import_waiting, imported = threading.Event(), threading.Event(), {}
    form: dict[str, object] = {}
    chart = validate_chart(retiring_prospecting(), "t")

    def headline_form() -> None:
        try:
            with example_db.session() as s:
                set_headline(s, BOGDAN, "Two new clients signed", via="dm", week=dt.date(2026, 12, 7))
                headline_written.set()
                assert import_waiting.wait(30)
                form["result"] = record_value(s, OPERATOR, KEPT_METRIC, 3)
        except Exception as exc:
            form["result"] = exc

    def importer() -> None:
        try:
            with example_db.session() as s:
                imported["result"] = apply_chart(s, chart, actor="t", source="t")
        except Exception as exc:
            imported["result"] = exc

    one = threading.Thread(target=headline_form)
    one.start()
    assert headline_written.wait(30)
    two = threading.Thread(target=importer)
    two.start()
    try:
        wait_until_blocked(example_db, "the import")
    finally:
        import_waiting.set()
        one.join(30)
        two.join(30)
    assert not isinstance(form["result"], Exception), repr(form["result"])
    assert not isinstance(imported["result"], Exception), repr(imported["result"])


def test_a_decision_and_an_import_that_moves_its_route_at_once_both_land(example_db):
    # The decision locks its draft, and later the audit chain; the import takes the audit
    # chain, and later every waiting draft to bring it in line with the new route. Unless the
    # decision holds the chart first, each waits for the other and one of them is killed.
    if example_db.is_sqlite:
        pytest.skip("SQLite serialises writers from their first read: the race needs a server")
    draft_id = submit(example_db, actor=PULSE)  # retention's route: Bogdan approves
    data = yaml.safe_load((resources.files("otp_bot.examples") / "acme-agency.yaml").read_text(encoding="utf-8"))
    data["approvals"][0]["approvers"] = ["bogdan", "david"]
    chart = validate_chart(data, "t")

    def importer() -> object:
        with example_db.session() as s:
            return apply_chart(s, chart, actor="t", source="t")

    decided, imported = at_once(example_db, lambda: decide(example_db, BOGDAN, draft_id), importer, "the import")
    assert not isinstance(decided, Exception), repr(decided)
    assert not isinstance(imported, Exception), repr(imported)
    with example_db.session(readonly=True) as s:
        assert reading.get_draft(s, draft_id).status == "approved"


def test_the_drafts_sweep_and_an_import_at_once_both_land(example_db):
    # The sweep locks the drafts that are due, then the audit chain; the import takes the audit
    # chain, then every waiting draft. Unless the sweep holds the chart first, each waits for
    # the other and one of them is killed.
    if example_db.is_sqlite:
        pytest.skip("SQLite serialises writers from their first read: the race needs a server")
    draft_id = submit(example_db, actor=PULSE)
    chart = validate_chart(retiring_prospecting(), "t")

    def sweep() -> object:
        with example_db.session() as s:
            return draft_timers.sweep_drafts(s, utcnow() + dt.timedelta(days=30))  # everything is due by then

    def importer() -> object:
        with example_db.session() as s:
            return apply_chart(s, chart, actor="t", source="t")

    swept, imported = at_once(example_db, sweep, importer, "the import")
    assert not isinstance(swept, Exception), repr(swept)
    assert not isinstance(imported, Exception), repr(imported)
    with example_db.session(readonly=True) as s:
        assert reading.get_draft(s, draft_id).status == "expired"
