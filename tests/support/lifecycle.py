"""A small org for the seat lifecycle tests, hearings to feed it, and the invariants and
records to check after each change."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.chartfile.yaml_text import dump_chart, parse_yaml
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.lifecycle.hearing_input import DROP, HearingInput
from otp_bot.store.models import AuditEntry, Hearing, Seat, SeatHolding, SeatOwns
from tests.support.charts import chart, seat

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
        assert dict(open_holdings) == {x.id: x.holder_id for x in seats.values() if x.holder_id}
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
