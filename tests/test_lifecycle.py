"""Seat lifecycle: hire, assign, vacate, retire after a hearing; who may; the invariants
that hold throughout (one holder and one open holding per seat, every function owned by
one seat, nothing moved to a retired seat or to two seats, a retired seat takes no
values); the record (hearings, holdings, the audit chain); export then import unchanged."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError

from otp_bot.commands import run
from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.chartfile.yaml_text import dump_chart, parse_yaml
from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.chart.search import who_owns
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid, NotFound
from otp_bot.store.domain.lifecycle import seats as lifecycle
from otp_bot.store.domain.lifecycle.seats import DROP, HearingErrors, HearingInput
from otp_bot.store.domain.scorecard.metrics import record_value
from otp_bot.store.models import AuditEntry, Hearing, MetricValue, Org, Seat, SeatHolding, SeatOwns

from .blockkit import assert_valid
from .charts import chart, seat

OPERATOR = Actor.cli_operator()
REFUSED = (IntegrityError, InternalError, OperationalError)
OTP = str(Path(sys.executable).with_name("otp"))
# Retention's work after its hearing: outreach to sales, one accountability to the COO, one dropped.
RETENTION_MOVES = [("retention outreach", "sales"), ("Watch churn signals", "coo"), ("Draft retention outreach", DROP)]


def org_chart() -> dict:
    """The test chart plus a seat below retention and one below accounting (two levels)."""
    data = chart()
    seat(data, "accounting")["does_not_own"] = ["retention outreach"]
    data["seats"] += [
        {"id": "save-desk", "title": "Save Desk", "reports_to": "retention", "owns": ["save offers"]},
        {"id": "billing", "title": "Billing", "reports_to": "accounting"},
    ]
    return data


@pytest.fixture
def org(db):
    with db.session() as s:
        apply_chart(s, validate_chart(org_chart(), "t"), actor="t", source="t")
    return db


def who(s, name: str) -> Actor:
    return {"operator": OPERATOR, "anonymous": Actor.anonymous("U0NOBODY")}.get(name) or actor_for_holder(s, name)


def hearing(decision: str = "retire", moves=(), **fields) -> HearingInput:
    fields = {
        "reason": "Outputs stopped being reliable",
        "findings": "Three late pushes in five weeks",
        "recommendation": "Retire it; the work moves on",
        **fields,
    }
    return HearingInput(decision=decision, moves=list(moves), **fields)


def snapshot(db) -> tuple[str, int, int, int]:
    """Everything a failed change must leave as it was."""
    with db.session(readonly=True) as s:
        return (
            dump_chart(export_chart(s)),
            s.scalar(select(func.count()).select_from(AuditEntry)),
            s.scalar(select(func.count()).select_from(Hearing)),
            s.scalar(select(func.count()).select_from(SeatHolding)),
        )


def check_invariants(db) -> None:
    with db.session(readonly=True) as s:
        seats = {x.id: x for x in s.scalars(select(Seat)).unique()}
        open_holdings = s.execute(
            select(SeatHolding.seat_id, SeatHolding.holder_id).where(SeatHolding.ended_at.is_(None))
        ).all()
        assert len({sid for sid, _ in open_holdings}) == len(open_holdings), "two open holdings on one seat"
        assert {sid: hid for sid, hid in open_holdings} == {x.id: x.holder_id for x in seats.values() if x.holder_id}
        for x in seats.values():
            assert (x.status == "active") == (x.holder_id is not None) or x.status == "planned"
            if x.status == "retired":
                assert not x.owns and not x.accountabilities and x.holder_id is None
            assert x.reports_to_id is None or seats[x.reports_to_id].status != "retired"
        owned = s.scalars(select(SeatOwns.normalized)).all()
        assert len(owned) == len(set(owned)), "a function owned twice"
        assert audit.verify(s) is None


def actions(db, since: int = 0) -> list[tuple[str, str]]:
    with db.session(readonly=True) as s:
        return [
            (e.action, e.subject)
            for e in s.scalars(select(AuditEntry).where(AuditEntry.id > since).order_by(AuditEntry.id))
        ]


def last_audit_id(db) -> int:
    with db.session(readonly=True) as s:
        return s.scalar(select(func.max(AuditEntry.id))) or 0


def export_then_import_changes_nothing(db) -> None:
    with db.session() as s:
        text = dump_chart(export_chart(s))
        assert (
            apply_chart(s, validate_chart(parse_yaml(text, "export"), "export"), actor="t", source="export").changes
            == []
        )


# ------------------------------------------------------------------ hire


def test_hire_creates_a_held_seat_that_who_owns_finds_at_once(org):
    with org.session() as s:
        before = s.get(Org, 1).etag
        assert who_owns(s, "growth experiments").best is None  # warms the index on this revision
    mark = last_audit_id(org)
    with org.session() as s:
        made = lifecycle.hire(
            s,
            who(s, "bogdan"),
            "growth",
            "Growth",
            reports_to="coo",
            holder="dirk",
            owns=["growth experiments"],
            aliases=["growth team"],
            accountabilities=["Run experiments"],
        )
        assert (made.status, made.holder_id, made.reports_to_id) == ("active", "dirk", "coo")
    with org.session() as s:
        assert s.get(Org, 1).etag != before
        assert who_owns(s, "growth experiments").best.seat_id == "growth"
        assert (
            s.scalar(
                select(SeatHolding.holder_id).where(SeatHolding.seat_id == "growth", SeatHolding.ended_at.is_(None))
            )
            == "dirk"
        )
        vacant = lifecycle.hire(s, OPERATOR, "paid-search", "Paid Search", reports_to="sales")
        assert vacant.status == "vacant" and vacant.holder_id is None
    assert actions(org, mark) == [("seat.hired", "seat:growth"), ("seat.hired", "seat:paid-search")]
    check_invariants(org)
    export_then_import_changes_nothing(org)


@pytest.mark.parametrize(
    ("seat_id", "options", "error", "words"),
    [
        ("retention", {}, Conflict, "already a seat"),
        ("Bad Id", {}, Invalid, "not a valid seat id"),
        ("growth", {"owns": ["Pipeline"]}, Conflict, "already owned by seat `sales`"),
        ("growth", {"owns": ["x", "X"]}, Invalid, "named twice"),
        ("growth", {"reports_to": "cfo"}, NotFound, "no seat `cfo`"),
        ("growth", {"holder": "nobody"}, NotFound, "no holder `nobody`"),
    ],
)
def test_hire_refuses_bad_input_and_writes_nothing(org, seat_id, options, error, words):
    before = snapshot(org)
    with pytest.raises(error, match=words), org.session() as s:
        lifecycle.hire(s, OPERATOR, seat_id, "Growth", **{"reports_to": "coo", **options})
    assert snapshot(org) == before


# ------------------------------------------------------------------ assign and vacate


def test_assign_closes_one_holding_and_opens_the_next(org):
    mark = last_audit_id(org)
    with org.session() as s:
        done = lifecycle.assign(s, who(s, "bogdan"), "retention", "dirk")
        assert done.changed and done.previous == "pulse" and done.seat.holder_id == "dirk"
    with org.session() as s:
        assert not lifecycle.assign(s, who(s, "bogdan"), "retention", "dirk").changed  # a retry changes nothing
        holdings = s.execute(
            select(SeatHolding.holder_id, SeatHolding.ended_at)
            .where(SeatHolding.seat_id == "retention")
            .order_by(SeatHolding.id)
        ).all()
        assert [h for h, _ in holdings] == ["pulse", "dirk"] and holdings[0][1] is not None and holdings[1][1] is None
        lifecycle.vacate(s, who(s, "bogdan"), "retention")
        lifecycle.assign(s, who(s, "bogdan"), "save-desk", "pulse")
    with org.session() as s:
        assert s.get(Seat, "retention").status == "vacant" and s.get(Seat, "save-desk").status == "active"
    assert actions(org, mark) == [
        ("seat.assigned", "seat:retention"),
        ("seat.vacated", "seat:retention"),
        ("seat.assigned", "seat:save-desk"),
    ]
    check_invariants(org)
    export_then_import_changes_nothing(org)


# ------------------------------------------------------------------ who may


def _act(s, actor: Actor, op: str) -> None:
    verb, target = op.split()
    if verb == "assign":
        lifecycle.assign(s, actor, target, "janine")
    elif verb == "hire":
        lifecycle.hire(s, actor, "new-seat", "New", reports_to=None if target == "top" else target)
    else:
        lifecycle.retire(s, actor, target, hearing("keep"))


@pytest.mark.parametrize(
    ("name", "op", "allowed"),
    [
        ("operator", "assign retention", True),
        ("bogdan", "assign retention", True),  # holds coo, directly above
        ("bogdan", "assign save-desk", True),  # two levels above
        ("janine", "assign billing", True),  # holds accounting, above billing
        ("janine", "assign retention", False),  # a peer is not above
        ("pulse", "assign save-desk", False),  # an agent directly above: agents never change the chart
        ("anonymous", "assign retention", False),  # not on the chart: may read, not write
        ("bogdan", "assign coo", True),  # the top of the chart: a top-level seat's holder
        ("janine", "assign coo", False),
        ("bogdan", "hire top", True),
        ("janine", "hire top", False),
        ("janine", "hire accounting", True),  # under her own seat
        ("janine", "hire sales", False),
        ("bogdan", "retire save-desk", True),
        ("janine", "retire retention", False),
        ("dirk", "retire sales", False),  # nobody retires their own seat
    ],
)
def test_who_may_change_a_seat(org, name, op, allowed):
    before = snapshot(org)
    with org.session() as s:
        actor = who(s, name)
    if allowed:
        with org.session() as s:
            _act(s, actor, op)
        check_invariants(org)
        return
    with pytest.raises(Forbidden) as info, org.session() as s:
        _act(s, actor, op)
    assert snapshot(org) == before
    if name == "janine" and op == "assign retention":
        assert "Bogdan (COO)" in info.value.message  # says who could
    if name == "pulse":
        assert "only people" in info.value.message


def test_the_hearing_form_is_checked_like_the_hearing(org):
    with org.session() as s:
        form = lifecycle.hearing_form(s, who(s, "bogdan"), "retention")
        assert [(c.kind, c.text) for c in form.capabilities] == [
            ("owns", "retention outreach"),
            ("accountability", "Watch churn signals"),
            ("accountability", "Draft retention outreach"),
        ]
        assert "retention" not in [t.id for t in form.targets] and [r.id for r in form.reports] == ["save-desk"]
        assert form.default_manager == "coo" and "save-desk" not in [m.id for m in form.managers]
        with pytest.raises(Forbidden):
            lifecycle.hearing_form(s, who(s, "janine"), "retention")


# ------------------------------------------------------------------ retire


def test_retire_moves_each_capability_once_and_keeps_the_record(org):
    with org.session() as s:
        record_value(s, OPERATOR, "early-flags", 4)
        assert who_owns(s, "retention outreach").best.seat_id == "retention"  # warms the index
    mark = last_audit_id(org)
    with org.session() as s:
        done = lifecycle.retire(s, who(s, "bogdan"), "retention", hearing(moves=RETENTION_MOVES))
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
        lifecycle.retire(s, OPERATOR, "billing", hearing())  # nothing to place, no reports
    for call in (
        lambda s: lifecycle.retire(s, OPERATOR, "billing", hearing()),
        lambda s: lifecycle.assign(s, OPERATOR, "billing", "janine"),
        lambda s: lifecycle.hire(s, OPERATOR, "billing-2", "Billing", reports_to="billing"),
        lambda s: lifecycle.hire(s, OPERATOR, "billing", "Billing", reports_to="accounting"),
    ):
        with pytest.raises(Conflict, match="retired"), org.session() as s:
            call(s)


def fields_of(db, seat_id: str, given: HearingInput) -> dict[str, str]:
    before = snapshot(db)
    with pytest.raises(HearingErrors) as info, db.session() as s:
        lifecycle.retire(s, OPERATOR, seat_id, given)
    assert snapshot(db) == before  # nothing half-written
    return info.value.by_field()


def key(kind: str, text: str) -> str:
    return lifecycle.Capability(kind, text).key


def test_a_bad_hearing_says_what_is_wrong_where_and_changes_nothing(org):
    with org.session() as s:
        lifecycle.retire(s, OPERATOR, "billing", hearing())
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
        lifecycle.hire(s, OPERATOR, "ceo", "CEO", holder="bogdan")
        done = lifecycle.retire(s, OPERATOR, "coo", hearing(moves=moves, reports_to="ceo"))
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
        done = lifecycle.retire(s, who(s, "bogdan"), "retention", hearing("keep", recommendation="Keep; fix the feed"))
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
                lifecycle.retire(s, OPERATOR, seat_id, hearing(moves=moves))
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
            lifecycle.hire(other, OPERATOR, "growth", "Growth")
        lifecycle.hire(early, OPERATOR, "partnerships", "Partnerships")
    with org.session(readonly=True) as s:
        assert get_org(s).revision == before + 2


def test_a_seat_with_a_hearing_is_kept_by_a_chart_import(org):
    with org.session() as s:
        lifecycle.retire(s, OPERATOR, "billing", hearing())  # never held: only the hearing is its record
    with pytest.raises(ChartErrors, match="hearing on record"), org.session() as s:
        apply_chart(s, validate_chart(chart(), "chart.yaml"), actor="t", source="chart.yaml")


# ------------------------------------------------------------------ the record


def test_history_shows_holdings_hearings_and_changes(org):
    with org.session() as s:
        lifecycle.assign(s, who(s, "bogdan"), "retention", "dirk")
    with org.session() as s:
        lifecycle.retire(s, who(s, "bogdan"), "retention", hearing(moves=RETENTION_MOVES))
    with org.session(readonly=True) as s:
        h = lifecycle.history(s, "retention")
        assert [(x.holder, x.ended_at is not None) for x in h.holdings] == [("Pulse", True), ("Dirk", True)]
        assert [x.decision for x in h.hearings] == ["retire"]
        assert [e.action for e in h.events][-2:] == ["seat.assigned", "seat.retired"]
        reply = run(s, Actor.anonymous(), "history retention")  # anyone may read the record
    assert reply.ok and "Hearing #1" in reply.text and "Pulse (agent)" in reply.text
    assert "retired after hearing #1" in reply.text and "Watch churn signals → coo" in reply.text
    assert_valid(reply.to_slack())
    with org.session(readonly=True) as s:
        assert "received retention outreach from retention" in run(s, Actor.anonymous(), "history sales").text


# ------------------------------------------------------------------ the commands


def ask(db, name: str, text: str):
    with db.session() as s:
        reply = run(s, who(s, name), text)
    assert_valid(reply.to_slack())
    return reply


def test_the_commands(org):
    hired = ask(
        org,
        "bogdan",
        'hire growth "Growth & <Scale>" --reports-to coo --holder dirk --owns "growth experiments, referrals"',
    )
    assert hired.ok and "Growth &amp; &lt;Scale&gt;" in hired.text and "reporting to COO" in hired.text
    assert "growth experiments, referrals" in hired.text
    assert ask(org, "bogdan", "assign growth pulse").text.count("Pulse (agent)") == 1
    assert "already held" in ask(org, "bogdan", "assign growth pulse").text
    assert "now vacant" in ask(org, "bogdan", "vacate growth").text
    refused = ask(org, "janine", "assign retention janine")
    assert not refused.ok and "only a person above it" in refused.text
    assert "Usage" in ask(org, "bogdan", "hire growth").text
    retire = ask(org, "bogdan", "retire retention")
    button = retire.blocks[-1]["elements"][0]
    assert (button["action_id"], button["value"]) == ("otp_hearing_open", "retention")
    assert "3 `owns` topics and accountabilities" in retire.text and "1 direct reports" in retire.text
    assert not ask(org, "pulse", "retire save-desk").ok


def test_hearing_file_and_the_cli(example_db, tmp_path):
    path = tmp_path / "hearing.yaml"
    path.write_text(
        "reason: The data source changed and pushes became unreliable\n"
        "findings: Three of five weekly pushes were late\n"
        "recommendation: Retire; Dash takes collection\n"
        "decision: retire\n"
        "moves:\n"
        "  - {capability: kpi collection, to_seat: analytics}\n"
        "  - {capability: Push scorecard values to the chart four times a day, to_seat: analytics}\n"
        "  - {capability: Report metrics that have gone without a fresh value, to_seat: '-'}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "OTP_DATABASE_URL": example_db.url, "COLUMNS": "200"}

    def otp(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([OTP, *args], capture_output=True, text=True, env=env, timeout=120)

    bad = tmp_path / "bad.yaml"
    bad.write_text("reason: x\nmoves: [{capability: kpi collection}]\nverdict: retire\n", encoding="utf-8")
    refused = otp("seat", "retire", "kpi", "--hearing", str(bad))
    assert refused.returncode == 2 and "moves[0].to_seat" in refused.stderr and "verdict" in refused.stderr

    done = otp("seat", "retire", "kpi", "--hearing", str(path))
    assert done.returncode == 0, done.stderr
    assert "kpi retired" in done.stdout and "kpi collection -> analytics" in done.stdout
    history = otp("seat", "history", "kpi")
    assert "Tally (agent)" in history.stdout and "#1" in history.stdout and "-> dropped" in history.stdout
    exported = tmp_path / "chart.yaml"
    assert otp("chart", "export", "-o", str(exported)).returncode == 0
    assert otp("chart", "import", str(exported)).stdout.strip() == "no changes"
    assert otp("seat", "assign", "kpi", "tally").returncode == 2
    check_invariants(example_db)
