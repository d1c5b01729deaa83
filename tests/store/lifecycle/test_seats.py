"""Seat lifecycle: hire, assign, vacate; who may change a seat; the record (holdings, hearings,
changes); and the commands and `otp seat` that drive it."""

from __future__ import annotations

import os
import subprocess

import pytest
from sqlalchemy import select

from otp_bot.commands import run
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.search import who_owns
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid, NotFound
from otp_bot.store.domain.lifecycle import hearings, hiring, history, holders
from otp_bot.store.models import Org, Seat, SeatHolding
from tests.support.blockkit import assert_valid
from tests.support.lifecycle import (
    OPERATOR,
    OTP,
    RETENTION_MOVES,
    actions,
    check_invariants,
    export_then_import_changes_nothing,
    hearing,
    last_audit_id,
    snapshot,
    who,
)

# ------------------------------------------------------------------ hire


def test_hire_creates_a_held_seat_that_who_owns_finds_at_once(org):
    with org.session() as s:
        before = s.get(Org, 1).etag
        assert who_owns(s, "growth experiments").best is None  # warms the index on this revision
    mark = last_audit_id(org)
    with org.session() as s:
        made = hiring.hire(
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
        vacant = hiring.hire(s, OPERATOR, "paid-search", "Paid Search", reports_to="sales")
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
        hiring.hire(s, OPERATOR, seat_id, "Growth", **{"reports_to": "coo", **options})
    assert snapshot(org) == before


# ------------------------------------------------------------------ assign and vacate


def test_assign_closes_one_holding_and_opens_the_next(org):
    mark = last_audit_id(org)
    with org.session() as s:
        done = holders.assign(s, who(s, "bogdan"), "retention", "dirk")
        assert done.changed and done.previous == "pulse" and done.seat.holder_id == "dirk"
    with org.session() as s:
        assert not holders.assign(s, who(s, "bogdan"), "retention", "dirk").changed  # a retry changes nothing
        holdings = s.execute(
            select(SeatHolding.holder_id, SeatHolding.ended_at)
            .where(SeatHolding.seat_id == "retention")
            .order_by(SeatHolding.id)
        ).all()
        assert [h for h, _ in holdings] == ["pulse", "dirk"] and holdings[0][1] is not None and holdings[1][1] is None
        holders.vacate(s, who(s, "bogdan"), "retention")
        holders.assign(s, who(s, "bogdan"), "save-desk", "pulse")
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
        holders.assign(s, actor, target, "janine")
    elif verb == "hire":
        hiring.hire(s, actor, "new-seat", "New", reports_to=None if target == "top" else target)
    else:
        hearings.retire(s, actor, target, hearing("keep"))


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
        form = hearings.hearing_form(s, who(s, "bogdan"), "retention")
        assert [(c.kind, c.text) for c in form.capabilities] == [
            ("owns", "retention outreach"),
            ("accountability", "Watch churn signals"),
            ("accountability", "Draft retention outreach"),
        ]
        assert "retention" not in [t.id for t in form.targets] and [r.id for r in form.reports] == ["save-desk"]
        assert form.default_manager == "coo" and "save-desk" not in [m.id for m in form.managers]
        with pytest.raises(Forbidden):
            hearings.hearing_form(s, who(s, "janine"), "retention")


# ------------------------------------------------------------------ the record


def test_history_shows_holdings_hearings_and_changes(org):
    with org.session() as s:
        holders.assign(s, who(s, "bogdan"), "retention", "dirk")
    with org.session() as s:
        hearings.retire(s, who(s, "bogdan"), "retention", hearing(moves=RETENTION_MOVES))
    with org.session(readonly=True) as s:
        h = history.history(s, "retention")
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
