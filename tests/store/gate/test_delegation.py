"""Delegation in the domain: a delegate's approval counts as the delegator's toward a
two-person rule, a person is never decided for twice, and delegation goes one hop only."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest
import yaml
from sqlalchemy import select

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden
from otp_bot.store.domain.gate import delegation, on_behalf
from otp_bot.store.domain.gate.queries import waiting_for
from otp_bot.store.models import AuditEntry, Delegation
from tests.support.drafts import BOGDAN, DAVID, PEPPER, load, submit

JANINE = Actor(label="Janine", holder_id="janine")
KRISTEN = Actor(label="Kristen", holder_id="kristen")


def until(days: int) -> str:
    return (utcnow().date() + dt.timedelta(days=days)).isoformat()


def lead_draft(db) -> int:  # the inbox route: David and Bogdan, both must approve
    return submit(db, PEPPER, seat_id="inbox", kind="lead-reply", subject="lead:zeta")


def queue_ids(db, actor) -> list[int]:
    with db.session(readonly=True) as s:
        return [d.id for d in waiting_for(s, actor)]


def test_a_delegates_approval_counts_as_the_delegators_toward_two_approvals(example_db):
    with example_db.session() as s:
        delegation.delegate(s, BOGDAN, "janine", until(2), "on holiday")
    draft_id = lead_draft(example_db)
    assert draft_id in queue_ids(example_db, JANINE)
    with example_db.session() as s:
        decided = on_behalf.decide(s, JANINE, draft_id, "approve")
        assert not decided.final and decided.decision.on_behalf_of == "bogdan"
    assert draft_id not in queue_ids(example_db, JANINE)  # Bogdan's part is done
    assert draft_id in queue_ids(example_db, DAVID) and draft_id not in queue_ids(example_db, BOGDAN)
    with example_db.session() as s, pytest.raises(Conflict, match=r"Janine already decided draft #\d+ on your behalf"):
        on_behalf.decide(s, BOGDAN, draft_id, "approve")  # back early: his say was given already
    with example_db.session() as s:
        with pytest.raises(Forbidden, match="not an approver"):  # Bogdan himself was decided for
            on_behalf.decide(s, JANINE, draft_id, "approve")
        assert on_behalf.decide(s, DAVID, draft_id, "approve").final
    draft = load(example_db, draft_id)
    assert draft.status == "approved" and [(d.holder_id, d.on_behalf_of) for d in draft.decisions] == [
        ("janine", "bogdan"),
        ("david", None),
    ]
    with example_db.session(readonly=True) as s:
        notes = s.scalars(select(AuditEntry).where(AuditEntry.action == "draft.on_behalf")).all()
        assert [(n.actor, n.subject, n.detail["on_behalf_of"]) for n in notes] == [
            ("holder:janine", f"draft:{draft_id}", "bogdan")
        ]


def test_once_the_delegator_decided_the_delegate_may_not_decide_for_them_again(example_db):
    with example_db.session() as s:
        delegation.delegate(s, BOGDAN, "janine", until(2))
    draft_id = lead_draft(example_db)
    with example_db.session() as s:
        on_behalf.decide(s, BOGDAN, draft_id, "approve")
    assert draft_id not in queue_ids(example_db, JANINE)
    with example_db.session() as s, pytest.raises(Forbidden, match="not an approver"):
        on_behalf.decide(s, JANINE, draft_id, "approve")
    assert [d.holder_id for d in load(example_db, draft_id).decisions] == ["bogdan"]


def test_delegation_goes_one_hop_only_even_if_rows_say_otherwise(example_db):
    now = utcnow()
    with example_db.session() as s:  # a chain the commands refuse, written straight to the store
        for a, b in (("bogdan", "janine"), ("janine", "kristen")):
            s.add(Delegation(delegator_id=a, delegate_id=b, starts_at=now, ends_at=now + dt.timedelta(days=1)))
    draft_id = submit(example_db)  # retention: Bogdan approves
    assert draft_id not in queue_ids(example_db, KRISTEN) and draft_id in queue_ids(example_db, JANINE)
    with example_db.session() as s, pytest.raises(Forbidden, match="not an approver"):
        on_behalf.decide(s, KRISTEN, draft_id, "approve")
    assert load(example_db, draft_id).status == "pending"


def test_a_chart_import_keeps_a_person_who_has_delegations_on_record(example_db):
    data = yaml.safe_load((resources.files("otp_bot.examples") / "acme-agency.yaml").read_text(encoding="utf-8"))
    data["holders"].append({"id": "zoe", "name": "Zoe", "kind": "human"})  # holds no seat
    with example_db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
    with example_db.session() as s:
        delegation.delegate(s, BOGDAN, "zoe", until(2))
    data["holders"].pop()
    with (
        example_db.session() as s,
        pytest.raises(ChartErrors, match="'zoe' is missing from the file but has delegations"),
    ):
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
    with example_db.session(readonly=True) as s:
        assert [d.delegate_id for d in delegation.current(s)] == ["zoe"]
