"""Chart as code: validation, invariants, idempotency, diffs, round trips, history."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from otp_bot.store.domain import audit
from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.chartfile.yaml_text import dump_chart, parse_yaml
from otp_bot.store.domain.chart.file_import import load_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.models import AuditEntry, Holder, Seat, SeatHolding
from tests.support.charts import chart, seat, write


def load(data, name="chart.yaml"):
    return validate_chart(data, name)


def apply(db, data, actor="test"):
    with db.session() as s:
        return apply_chart(s, load(data), actor=actor, source="chart.yaml")


def count(db, model):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def problems_of(data):
    with pytest.raises(ChartErrors) as info:
        load(data)
    return dict(info.value.problems), str(info.value)


# ------------------------------------------------------------------ import and idempotency


def test_first_import_creates_everything_and_second_is_no_change(db):
    first = apply(db, chart())
    assert first.changed and first.revision == 1
    assert count(db, Seat) == 4 and count(db, Holder) == 4
    again = apply(db, chart())
    assert again.changes == [] and again.revision == 1


def test_export_import_round_trips_exactly(db, tmp_path):
    apply(db, chart())
    with db.session() as s:
        exported = dump_chart(export_chart(s))
    path = write(tmp_path / "exported.yaml", exported)
    with db.session() as s:
        assert apply_chart(s, load_chart(path), actor="t", source=str(path)).changes == []
        assert dump_chart(export_chart(s)) == exported


def test_example_chart_round_trips(example_db, tmp_path):
    with example_db.session() as s:
        exported = dump_chart(export_chart(s))
    with example_db.session() as s:
        assert apply_chart(s, load_chart(write(tmp_path / "x.yaml", exported)), actor="t", source="x").changes == []


def test_a_changed_file_prints_a_readable_diff_and_audits_it(db):
    apply(db, chart())
    data = chart()
    seat(data, "retention")["holder"] = "dirk"
    seat(data, "sales")["holder"] = None
    seat(data, "retention")["metrics"][0]["goal"] = ">= 4"
    data["seats"].append({"id": "inbox", "title": "Inbox"})
    data["holders"] = [h for h in data["holders"] if h["id"] != "pulse"] + [
        {"id": "pulse", "name": "Pulse", "kind": "agent", "supervisor": "janine"}
    ]
    result = apply(db, data, actor="ops")
    lines = [c.describe() for c in result.changes]
    assert "+ seat inbox added" in lines
    assert "~ seat retention: holder pulse → dirk" in lines
    assert "~ seat sales: holder dirk → (none); status active → vacant" in lines
    assert "~ metric early-flags: goal >= 3 → >= 4" in lines
    assert "~ holder pulse: supervisor bogdan → janine" in lines
    with db.session() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.detail["revision"].as_integer() == 2)).all()
        assert "chart.seat.added" in actions and "chart.metric.changed" in actions
        assert audit.verify(s) is None


def test_holder_change_keeps_who_held_it_when(db):
    apply(db, chart())
    data = chart()
    seat(data, "retention")["holder"] = "dirk"
    apply(db, data)
    with db.session() as s:
        rows = s.scalars(select(SeatHolding).where(SeatHolding.seat_id == "retention").order_by(SeatHolding.id)).all()
        assert [(r.holder_id, r.ended_at is None) for r in rows] == [("pulse", False), ("dirk", True)]


def test_an_owns_topic_can_move_between_seats_in_one_import(db):
    apply(db, chart())
    data = chart()
    seat(data, "retention")["owns"] = []
    seat(data, "sales")["owns"] = ["pipeline", "retention outreach"]
    assert apply(db, data).changed


# ------------------------------------------------------------------ validation: many kinds of broken file


def test_all_errors_are_reported_at_once_with_paths():
    data = chart()
    seat(data, "retention")["reports_to"] = "nobody"
    seat(data, "sales")["holder"] = "ghost"
    data["holders"][2]["supervisor"] = None
    seat(data, "accounting")["metrics"][0]["goal"] = "lots"
    found, message = problems_of(data)
    assert "seats[1].reports_to" in found and "unknown seat 'nobody'" in found["seats[1].reports_to"]
    assert "seats[2].holder" in found
    assert "seats[3].metrics[0].goal" in found
    assert "chart.yaml: " in message and "nothing was written" in message


def test_cross_reference_errors_all_at_once():
    data = chart()
    seat(data, "retention")["reports_to"] = "nobody"
    seat(data, "sales")["holder"] = "ghost"
    data["holders"][2]["supervisor"] = None
    found, _ = problems_of(data)
    assert set(found) >= {"seats[1].reports_to", "seats[2].holder", "holders[2].supervisor"}


@pytest.mark.parametrize(
    ("mutate", "where", "words"),
    [
        (lambda d: d["seats"].append(dict(d["seats"][0])), "seats[4].id", "duplicate id"),
        (
            lambda d: d["holders"].append({"id": "pulse", "name": "P2", "kind": "human"}),
            "holders[4].id",
            "duplicate id",
        ),
        (lambda d: seat(d, "coo").update(reports_to="retention"), "seats[0].reports_to", "loop"),
        (lambda d: seat(d, "coo").update(reports_to="coo"), "seats[0].reports_to", "itself"),
        (lambda d: d["holders"][2].update(supervisor="dirk"), "holders[2].supervisor", "must be a human"),
        (lambda d: d["holders"][2].pop("supervisor"), "holders[2].supervisor", "needs an accountable human"),
        (lambda d: seat(d, "sales")["owns"].append("Retention Outreach!"), "seats[2].owns[1]", "already owned"),
        (lambda d: seat(d, "coo").update(status="vacant"), "seats[0].holder", "vacant seat has no holder"),
        (
            lambda d: seat(d, "coo").pop("holder") and seat(d, "coo").update(status="active"),
            "seats[0].status",
            "needs a holder",
        ),
        (
            lambda d: seat(d, "sales")["metrics"][2].update(formula="{won} / {nope}"),
            "seats[2].metrics[2].formula",
            "unknown metric",
        ),
        (lambda d: seat(d, "sales")["metrics"][0].update(formula="{close-rate} + 1"), "seats[2].metrics", "loop"),
        (
            lambda d: seat(d, "sales")["metrics"][2].update(formula="open('x')"),
            "seats[2].metrics[2].formula",
            "may use only",
        ),
        (lambda d: seat(d, "sales")["metrics"][0].update(kind="parsecs"), "seats[2].metrics[0].kind", "unknown kind"),
        (
            lambda d: seat(d, "sales")["metrics"][0].update(unit="€", currency="USD"),
            "seats[2].metrics[0].unit",
            "unit '€' is EUR but `currency` says USD",
        ),
        (
            lambda d: seat(d, "sales")["metrics"][0].update(kind="duration", unit="parsecs"),
            "seats[2].metrics[0].unit",
            "a duration is shown in seconds, minutes, hours, days or weeks",
        ),
        (lambda d: seat(d, "sales")["metrics"][0].update(cadence="daily"), "seats[2].metrics[0].cadence", "weekly"),
        (lambda d: seat(d, "sales")["metrics"][0].update(goal="20..10"), "seats[2].metrics[0].goal", "low to high"),
        (
            lambda d: seat(d, "retention")["metrics"].append({"id": "won", "name": "x", "goal": "> 1"}),
            "seats[2].metrics[0].id",
            "duplicate metric",
        ),
        (lambda d: d["org"].update(timezone="Mars/Olympus"), "org.timezone", "unknown timezone"),
        (lambda d: d["holders"][0].update(kind="robot"), "holders[0].kind", "human"),
        (lambda d: d["holders"][0].update(slack_user="not-an-id"), "holders[0].slack_user", "not valid"),
        (lambda d: d["holders"][1].update(slack_user="U01COO"), "holders[1].slack_user", "already used"),
        (lambda d: d["seats"][0].update(colour="red"), "seats[0].colour", "unknown key"),
        (lambda d: d["seats"][0].update(id="Bad Id"), "seats[0].id", "not a valid id"),
        (lambda d: d["approvals"][0].update(approvers=["pulse"]), "approvals[0].approvers[0]", "only humans approve"),
        (lambda d: d["approvals"][0].update(required=2), "approvals[0].required", "2 approvals required"),
        (lambda d: d["approvals"][0].update(seats=["nope"]), "approvals[0].seats[0]", "unknown seat"),
        (lambda d: d["schedules"].append(dict(d["schedules"][0])), "schedules[0]", "distinct"),
        (lambda d: d["schedules"][0].update(cron="daily"), "schedules[0].cron", "five fields"),
        (lambda d: d.pop("org"), "org", "Field required"),
    ],
)
def test_broken_files_are_rejected_with_location(mutate, where, words):
    data = chart()
    mutate(data)
    found, _ = problems_of(data)
    hits = {k: v for k, v in found.items() if k.startswith(where)}
    assert hits, found
    assert any(words.lower() in v.lower() for v in hits.values()), found


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("org: [unclosed", "not valid YAML"),
        ("org: {name: A}\norg: {name: B}\n", "duplicate key"),
        ("- just\n- a list\n", "expected a mapping"),
        ("", "expected a mapping"),
    ],
)
def test_unparseable_files(tmp_path, text, words):
    with pytest.raises(ChartErrors, match=words):
        load_chart(write(tmp_path / "bad.yaml", text))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ChartErrors, match="no such file"):
        load_chart(tmp_path / "nope.yaml")


def test_yaml_error_names_line_and_column():
    with pytest.raises(ChartErrors) as info:
        parse_yaml("org:\n  name: [x\n", "f.yaml")
    assert "line" in info.value.problems[0][0]


def test_nothing_is_written_when_anything_is_wrong(db):
    apply(db, chart())
    with db.session() as s:
        before = dump_chart(export_chart(s))
        audit_before = s.scalar(select(func.count()).select_from(AuditEntry))
    data = chart()
    data["seats"].append({"id": "new-seat", "title": "New"})
    seat(data, "retention")["metrics"][0]["goal"] = ">= 9"
    # Removing a seat with history is refused at apply time, after other changes were staged.
    data["seats"] = [s for s in data["seats"] if s["id"] != "accounting"]
    with pytest.raises(ChartErrors, match="accounting"):
        apply(db, data)
    with db.session() as s:
        assert dump_chart(export_chart(s)) == before
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_removing_a_seat_without_history_deletes_it(db):
    data = chart()
    data["seats"].append({"id": "planned-seat", "title": "Planned", "status": "planned"})
    apply(db, data)
    result = apply(db, chart())
    assert [c.describe() for c in result.changes] == ["- seat planned-seat removed"]


def test_retiring_keeps_history(db):
    apply(db, chart())
    data = chart()
    s = seat(data, "accounting")
    s.pop("holder")
    s["status"] = "retired"
    apply(db, data)
    with db.session() as session:
        acc = session.get(Seat, "accounting")
        assert acc.status == "retired" and acc.holder_id is None
        assert (
            session.scalar(select(func.count()).select_from(SeatHolding).where(SeatHolding.seat_id == "accounting"))
            == 1
        )


def test_dry_run_writes_nothing(db):
    with db.session() as s:
        result = apply_chart(s, load(chart()), actor="t", source="c", dry_run=True)
    assert result.changed
    assert count(db, Seat) == 0
