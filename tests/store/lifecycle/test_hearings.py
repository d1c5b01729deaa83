"""Retiring a seat after a hearing: each capability moved once, the record kept, a retired seat
retired for good; a bad hearing changes nothing; two hearings at once cannot move work onto
each other; a seat with a hearing survives a chart import."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, insert, select

from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.chart.search import who_owns
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.errors import Conflict, Invalid
from otp_bot.store.domain.lifecycle import hearing_input, hearings, hiring, holders
from otp_bot.store.domain.lifecycle.hearing_input import DROP, HearingErrors, HearingInput
from otp_bot.store.domain.scorecard.metrics import record_value
from otp_bot.store.models import Hearing, MetricValue, Seat, SeatHolding
from tests.support.charts import chart
from tests.support.lifecycle import (
    OPERATOR,
    REFUSED,
    RETENTION_MOVES,
    actions,
    check_invariants,
    export_then_import_changes_nothing,
    hearing,
    last_audit_id,
    snapshot,
    who,
)

# ------------------------------------------------------------------ retire


def test_retire_moves_each_capability_once_and_keeps_the_record(org):
    with org.session() as s:
        record_value(s, OPERATOR, "early-flags", 4)
        assert who_owns(s, "retention outreach").best.seat_id == "retention"  # warms the index
    mark = last_audit_id(org)
    with org.session() as s:
        done = hearings.retire(s, who(s, "bogdan"), "retention", hearing(moves=RETENTION_MOVES))
        assert done.retired and done.manager.id == "coo" and [r.id for r in done.reports] == ["save-desk"]

    with org.session() as s:
        retired = s.get(Seat, "retention")
        assert (retired.status, retired.holder_id, retired.owns, retired.accountabilities) == ("retired", None, [], [])
        assert [m.id for m in retired.metrics] == ["early-flags", "saves"]  # its metrics stay, with their values
        assert (
            s.scalar(select(func.count()).select_from(MetricValue).where(MetricValue.metric_id == "early-flags")) == 1
        )
        assert [o.topic for o in s.get(Seat, "sales").owns] == ["pipeline", "retention outreach"]
        assert s.get(Seat, "coo").accountabilities == ["Watch churn signals"]
        assert "Draft retention outreach" not in str(export_chart(s).model_dump())
        assert s.get(Seat, "save-desk").reports_to_id == "coo"
        assert (
            s.scalar(
                select(func.count())
                .select_from(SeatHolding)
                .where(SeatHolding.seat_id == "retention", SeatHolding.ended_at.is_(None))
            )
            == 0
        )
        row = s.scalar(select(Hearing))
        assert (row.seat_id, row.decision, row.held_by, row.holder_id, row.manager_id, row.reports) == (
            "retention",
            "retire",
            "holder:bogdan",
            "pulse",
            "coo",
            ["save-desk"],
        )
        assert row.moves == [
            {"capability": "retention outreach", "kind": "owns", "to_seat": "sales"},
            {"capability": "Watch churn signals", "kind": "accountability", "to_seat": "coo"},
            {"capability": "Draft retention outreach", "kind": "accountability", "to_seat": None},
        ]
        assert who_owns(s, "retention outreach").best.seat_id == "sales"  # the revision moved: no stale index

    assert actions(org, mark) == [
        ("seat.retired", "seat:retention"),
        ("seat.received", "seat:sales"),
        ("seat.received", "seat:coo"),
        ("seat.manager_changed", "seat:save-desk"),
    ]
    # A retired seat takes no values: the domain says so, and the database refuses a writer that skips it.
    with pytest.raises(Invalid, match="retired"), org.session() as s:
        record_value(s, OPERATOR, "early-flags", 5)
    with pytest.raises(REFUSED), org.session() as s:
        s.execute(
            insert(MetricValue).values(
                metric_id="early-flags",
                period_start=dt.date(2026, 11, 16),
                value=1,
                is_correction=False,
                source="api",
                entered_by="x",
            )
        )
    check_invariants(org)
    export_then_import_changes_nothing(org)
    with org.session(readonly=True) as s:
        exported = {x.id: x for x in export_chart(s).seats}
        assert exported["retention"].status == "retired" and "retention outreach" in exported["sales"].owns


def test_a_retired_seat_is_retired_for_good(org):
    with org.session() as s:
        hearings.retire(s, OPERATOR, "billing", hearing())  # nothing to place, no reports
    for call in (
        lambda s: hearings.retire(s, OPERATOR, "billing", hearing()),
        lambda s: holders.assign(s, OPERATOR, "billing", "janine"),
        lambda s: hiring.hire(s, OPERATOR, "billing-2", "Billing", reports_to="billing"),
        lambda s: hiring.hire(s, OPERATOR, "billing", "Billing", reports_to="accounting"),
    ):
        with pytest.raises(Conflict, match="retired"), org.session() as s:
            call(s)


def fields_of(db, seat_id: str, given: HearingInput) -> dict[str, str]:
    before = snapshot(db)
    with pytest.raises(HearingErrors) as info, db.session() as s:
        hearings.retire(s, OPERATOR, seat_id, given)
    assert snapshot(db) == before  # nothing half-written
    return info.value.by_field()


def key(kind: str, text: str) -> str:
    return hearing_input.Capability(kind, text).key


def test_a_bad_hearing_says_what_is_wrong_where_and_changes_nothing(org):
    with org.session() as s:
        hearings.retire(s, OPERATOR, "billing", hearing())
    outreach, watch, draft = (
        key("owns", "retention outreach"),
        key("accountability", "Watch churn signals"),
        key("accountability", "Draft retention outreach"),
    )

    missing = fields_of(org, "retention", hearing(findings=" ", moves=RETENTION_MOVES[:1]))
    assert set(missing) == {"findings", watch, draft}
    assert "seat that takes it" in missing[watch]
    assert set(fields_of(org, "retention", hearing(decision="maybe"))) == {"decision"}

    def problem(moves) -> str:
        return fields_of(org, "retention", hearing(moves=[*moves, *RETENTION_MOVES[1:]]))[outreach]

    assert "can't move to a retired seat" in problem([("retention outreach", "billing")])
    assert "to one seat" in problem([("retention outreach", "sales"), ("retention outreach", "coo")])
    assert "being retired" in problem([("retention outreach", "retention")])
    assert "no seat `nowhere`" in problem([("retention outreach", "nowhere")])
    assert "does_not_own" in problem([("retention outreach", "accounting")])
    assert "to one seat" in problem([(outreach, "sales"), ("Retention  Outreach", DROP)])  # by key and by text
    stray = fields_of(org, "retention", hearing(moves=[*RETENTION_MOVES, ("payroll", "coo")]))
    assert set(stray) == {"payroll"} and "not an `owns` topic" in stray["payroll"]


def test_reports_need_a_seat_to_move_under_and_lines_may_not_loop(org):
    moves = [("operations", "sales")]
    at_top = fields_of(org, "coo", hearing(moves=moves))
    assert "top of the chart" in at_top["reports_to"]
    assert "may not loop" in fields_of(org, "coo", hearing(moves=moves, reports_to="save-desk"))["reports_to"]
    with org.session() as s:
        hiring.hire(s, OPERATOR, "ceo", "CEO", holder="bogdan")
        done = hearings.retire(s, OPERATOR, "coo", hearing(moves=moves, reports_to="ceo"))
        assert {r.id for r in done.reports} == {"retention", "sales", "accounting"}
    with org.session() as s:
        assert {x.id for x in s.scalars(select(Seat).where(Seat.reports_to_id == "ceo"))} == {
            "retention",
            "sales",
            "accounting",
        }
    check_invariants(org)
    export_then_import_changes_nothing(org)


def test_keep_records_the_hearing_and_nothing_else(org):
    before = snapshot(org)[0]
    mark = last_audit_id(org)
    with org.session() as s:
        done = hearings.retire(s, who(s, "bogdan"), "retention", hearing("keep", recommendation="Keep; fix the feed"))
        assert not done.retired and done.hearing.moves == []
    assert snapshot(org)[0] == before
    assert actions(org, mark) == [("seat.kept", "seat:retention")]


def test_two_hearings_at_once_cannot_move_work_onto_each_other(org):
    """Sales gives its pipeline to accounting while accounting gives invoicing to sales: one wins."""
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def retire(seat_id: str, moves) -> None:
        barrier.wait()
        try:
            with org.session() as s:
                hearings.retire(s, OPERATOR, seat_id, hearing(moves=moves))
            outcomes[seat_id] = "retired"
        except (Conflict, HearingErrors) as exc:
            outcomes[seat_id] = exc

    threads = [
        threading.Thread(target=retire, args=("sales", [("pipeline", "accounting")])),
        threading.Thread(target=retire, args=("accounting", [("invoicing", "sales")])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(str(v) == "retired" for v in outcomes.values()) == [False, True]
    check_invariants(org)


def test_a_change_counts_on_from_the_revision_it_locked(org):
    """A session that read the org before another change committed (finding the caller
    does) still moves the revision on from the locked row, not from what it read."""
    if org.is_sqlite:
        pytest.skip("SQLite serialises writers from their first read: the race needs a server")
    with org.session() as early:
        before = get_org(early).revision
        with org.session() as other:
            hiring.hire(other, OPERATOR, "growth", "Growth")
        hiring.hire(early, OPERATOR, "partnerships", "Partnerships")
    with org.session(readonly=True) as s:
        assert get_org(s).revision == before + 2


def test_a_seat_with_a_hearing_is_kept_by_a_chart_import(org):
    with org.session() as s:
        hearings.retire(s, OPERATOR, "billing", hearing())  # never held: only the hearing is its record
    with pytest.raises(ChartErrors, match="hearing on record"), org.session() as s:
        apply_chart(s, validate_chart(chart(), "chart.yaml"), actor="t", source="chart.yaml")
