"""The human gate's decisions, against the example org: who may approve, a second approval,
rejections, edits, the two-person rule, withdrawing, time passing (reminders, escalation,
expiry), and the database refusing what the rules refuse."""

from __future__ import annotations

import datetime as dt
import threading
from importlib import resources

import pytest
import yaml
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from otp_bot.store.domain import audit, outbox
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid
from otp_bot.store.domain.gate import decisions, flags, reading
from otp_bot.store.domain.gate import queries as gate_queries
from otp_bot.store.domain.gate import timers as draft_timers
from otp_bot.store.domain.gate.queries import list_drafts
from otp_bot.store.models import AuditEntry, DraftDecision
from tests.support.drafts import (
    BOGDAN,
    DAVID,
    DAVID_SLACK,
    DIRK,
    OPERATOR,
    PEPPER,
    PULSE,
    count,
    decide,
    flag_acme,
    load,
    submit,
    work,
)
from tests.support.locks import at_once, while_held


def test_a_non_approver_is_refused_with_the_approvers_named(example_db):
    draft_id = submit(example_db)
    for actor in (DAVID, Actor.anonymous("U0NOBODY"), DIRK):
        with pytest.raises(Forbidden, match=f"not an approver for draft #{draft_id}; approvers are Bogdan"):
            decide(example_db, actor, draft_id)
    assert load(example_db, draft_id).status == "pending" and count(example_db, DraftDecision) == 0


def test_a_second_approval_changes_nothing(example_db):
    draft_id = submit(example_db, destination="C0CLIENTS")
    first = decide(example_db, BOGDAN, draft_id)
    assert first.final and first.draft.status == "approved" and first.draft.final_body == first.draft.body
    before = work(example_db, draft_id)
    assert before.count(("deliver", {"destination": "C0CLIENTS"})) == 1
    with pytest.raises(Conflict, match="already approved by Bogdan"):
        decide(example_db, BOGDAN, draft_id)
    with pytest.raises(Conflict, match="already approved"):
        decide(example_db, BOGDAN, draft_id, "reject", reason="changed my mind")
    assert count(example_db, DraftDecision) == 1 and work(example_db, draft_id) == before


def test_a_rejection_needs_a_reason(example_db):
    draft_id = submit(example_db)
    with pytest.raises(Invalid, match="needs a reason"):
        decide(example_db, BOGDAN, draft_id, "reject", reason="  ")
    assert count(example_db, DraftDecision) == 0
    decide(example_db, BOGDAN, draft_id, "reject", reason="Too pushy; mention the March results")
    draft = load(example_db, draft_id)
    assert (draft.status, draft.reason) == ("rejected", "Too pushy; mention the March results")
    assert draft.outcome_now.startswith("rejected by Bogdan at ") and draft.outcome_now.endswith("March results")
    assert draft.final_body is None


def test_edit_and_approve_keeps_both_texts(example_db):
    draft_id = submit(example_db, destination="C0CLIENTS")
    decide(example_db, BOGDAN, draft_id, edited_body="Hi Acme, the new ads doubled your leads.")
    draft = load(example_db, draft_id)
    assert (draft.status, draft.edited, draft.final_body) == (
        "approved",
        True,
        "Hi Acme, the new ads doubled your leads.",
    )
    assert draft.body == "Hi Acme, how are the new ads doing?"
    assert draft.decisions[0].edited_body == draft.final_body
    assert draft.outcome_now.startswith("approved with edits by Bogdan")
    with example_db.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "draft.approve"))
        assert entry.detail["before"] == draft.body and entry.detail["after"] == draft.final_body
    # An "edit" that changes nothing is a plain approval.
    same = submit(example_db, title="Another")
    decide(example_db, BOGDAN, same, edited_body="  Hi Acme, how are the new ads doing?  ")
    assert not load(example_db, same).edited


def test_two_person_rule(example_db):
    draft_id = submit(example_db, actor=PEPPER, seat_id="inbox", kind="lead-reply", subject="lead:newco")
    assert load(example_db, draft_id).required == 2
    first = decide(example_db, DAVID, draft_id)
    assert not first.final and first.draft.status == "pending"
    assert load(example_db, draft_id).outcome_now.endswith("1 of 2 approvals so far")
    with pytest.raises(Conflict, match="already approved draft"):
        decide(example_db, DAVID, draft_id)
    with example_db.session() as s:
        assert gate_queries.waiting_for(s, DAVID) == [] and len(gate_queries.waiting_for(s, BOGDAN)) == 1
    second = decide(example_db, BOGDAN, draft_id)
    assert second.final and second.draft.status == "approved"
    assert load(example_db, draft_id).outcome_now.startswith("approved by David, Bogdan")


def test_withdraw(example_db):
    draft_id = submit(example_db)
    with pytest.raises(Forbidden, match="only the drafter"), example_db.session() as s:
        decisions.withdraw(s, DIRK, draft_id)
    with example_db.session() as s:
        assert decisions.withdraw(s, PULSE, draft_id).status == "withdrawn"
    with pytest.raises(Conflict, match="already withdrawn"):
        decide(example_db, BOGDAN, draft_id)
    with example_db.session() as s:
        assert decisions.withdraw(s, OPERATOR, submit(example_db, title="Other")).status == "withdrawn"


# ------------------------------------------------------------------------- time passing


def test_reminders_escalation_and_expiry(example_db):
    t0 = utcnow()
    draft_id = submit(example_db, now=t0)

    def sweep(hours: float) -> draft_timers.Swept:
        with example_db.session() as s:
            return draft_timers.sweep_drafts(s, t0 + dt.timedelta(hours=hours))

    assert sweep(1) == draft_timers.Swept()
    assert sweep(5) == draft_timers.Swept(reminded=1)
    assert sweep(6) == draft_timers.Swept()  # reminded once
    assert ("notify", {"event": "reminder", "thread": True}) in work(example_db, draft_id)
    # Escalation goes to the next human up the reporting line who is not already an
    # approver: Retention → COO (Bogdan, the approver) → CEO (David).
    assert sweep(13) == draft_timers.Swept(escalated=1)
    assert load(example_db, draft_id).escalated_to == "david"
    assert ("approval_post", {"channel": DAVID_SLACK, "purpose": "escalation"}) in work(example_db, draft_id)
    with example_db.session() as s:
        assert [d.id for d in gate_queries.waiting_for(s, DAVID)] == [draft_id]
    assert sweep(25) == draft_timers.Swept(expired=1)
    draft = load(example_db, draft_id)
    assert draft.status == "expired" and draft.outcome_now.startswith("expired at ")
    for actor in (BOGDAN, DAVID):
        with pytest.raises(Conflict, match="already expired"):
            decide(example_db, actor, draft_id)
    assert count(example_db, DraftDecision) == 0
    assert ("notify", {"event": "expired", "holder": "bogdan"}) in work(example_db, draft_id)


# ------------------------------------------------------------------------- the database holds the line too


def test_the_database_refuses_an_approval_without_approvals(example_db):
    draft_id = submit(example_db)
    with pytest.raises(IntegrityError, match="approvals it requires"), example_db.session() as s:
        s.execute(text("UPDATE drafts SET status = 'approved', final_body = body WHERE id = :id"), {"id": draft_id})
    assert load(example_db, draft_id).status == "pending"


def test_the_database_refuses_delivery_of_an_unapproved_draft(example_db):
    draft_id = submit(example_db, destination="C0CLIENTS")
    with pytest.raises(IntegrityError, match="only an approved draft"), example_db.session() as s:
        s.execute(
            text(
                "INSERT INTO outbox (kind, key, draft_id, payload, status, attempts, max_attempts, "
                "next_attempt_at, created_at, result) VALUES ('deliver', 'sneaky', :id, '{}', 'pending', "
                "0, 6, :now, :now, '{}')"
            ),
            {"id": draft_id, "now": utcnow()},
        )
    with pytest.raises(IntegrityError, match="only an approved draft"), example_db.session() as s:
        outbox.enqueue(s, "deliver", "sneaky", {"destination": "C0CLIENTS"}, draft_id=draft_id)
    assert all(kind != "deliver" for kind, _ in work(example_db, draft_id))


def test_the_audit_chain_holds_after_a_whole_flow(example_db):
    flag_acme(example_db)
    held = submit(example_db, actor=DIRK, seat_id="sales", kind="expansion")
    with example_db.session() as s:
        flags.lift_flag(s, PULSE, "client:acme", "at-risk")
    decide(example_db, BOGDAN, held, edited_body="Edited pitch")
    rejected = submit(example_db)
    decide(example_db, BOGDAN, rejected, "reject", reason="no")
    with example_db.session() as s:
        draft_timers.sweep_drafts(s, utcnow() + dt.timedelta(days=2))
        assert audit.verify(s) is None
        actions = set(s.scalars(select(AuditEntry.action)))
    assert {
        "flag.set",
        "flag.lifted",
        "draft.submitted",
        "draft.held",
        "draft.released",
        "draft.approve",
        "draft.reject",
    } <= actions
    with example_db.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "draft.reject"))
        s.execute(update(AuditEntry).where(AuditEntry.id == entry.id).values(detail={"reason": "yes"}))
    with example_db.session() as s:
        assert audit.verify(s).id == entry.id


def test_lists_by_status_and_seat(example_db):
    a = submit(example_db)
    b = submit(example_db, actor=DIRK, seat_id="sales", kind="intro", subject="lead:newco")
    decide(example_db, BOGDAN, a, "reject", reason="no")
    with example_db.session() as s:
        assert [d.id for d in list_drafts(s)] == [b, a]
        assert [d.id for d in list_drafts(s, status="pending")] == [b]
        assert [d.id for d in list_drafts(s, seat_id="retention")] == [a]
        with pytest.raises(Invalid, match="not a draft status"):
            list_drafts(s, status="lost")


# ------------------------------------------------------------------------- concurrency


def test_two_approvers_deciding_at_once_make_exactly_one_decision(example_db):
    data = yaml.safe_load((resources.files("otp_bot.examples") / "acme-agency.yaml").read_text(encoding="utf-8"))
    data["approvals"][0]["approvers"] = ["bogdan", "david"]  # either one decides retention drafts
    with example_db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")

    def click(actor: Actor, draft_id: int, start: threading.Barrier, results: dict[str, object]) -> None:
        start.wait()
        try:
            results[actor.holder_id] = decide(example_db, actor, draft_id)
        except Exception as exc:
            results[actor.holder_id] = exc

    for round_ in range(3):
        draft_id = submit(example_db, title=f"Round {round_}")
        start, results = threading.Barrier(2), {}
        threads = [threading.Thread(target=click, args=(a, draft_id, start, results)) for a in (BOGDAN, DAVID)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        won = [r for r in results.values() if isinstance(r, decisions.Decided)]
        lost = [r for r in results.values() if not isinstance(r, decisions.Decided)]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], Conflict) and "already approved" in lost[0].message
        with example_db.session() as s:
            assert (
                s.scalar(select(func.count()).select_from(DraftDecision).where(DraftDecision.draft_id == draft_id)) == 1
            )
            assert reading.get_draft(s, draft_id).decided_by == won[0].decision.holder_id


def test_an_approval_that_waited_for_the_lock_counts_the_one_committed_meanwhile(example_db):
    # Two of two approvals, the second clicked while the first's transaction holds the draft:
    # what the second counts must include the first, or the draft stays pending for ever.
    draft_id = submit(example_db, actor=PEPPER, seat_id="inbox", kind="lead-reply", subject="lead:newco")
    result = while_held(
        example_db,
        lambda s: decisions.decide(s, DAVID, draft_id, "approve"),
        lambda: decide(example_db, BOGDAN, draft_id),
        "the second decision",
    )
    assert isinstance(result, decisions.Decided), result
    assert result.final and result.draft.status == "approved"
    assert [d.holder.name for d in result.draft.decisions] == ["David", "Bogdan"]
    assert load(example_db, draft_id).outcome_now.startswith("approved by David, Bogdan")


def test_a_flag_raised_while_a_draft_on_its_subject_is_approved_lets_both_land(example_db):
    # Pulse flags client:acme at the moment Bogdan approves Pulse's draft to Acme. The approval
    # locks the draft and then the audit chain; the flag must not take the audit chain and
    # then wait for the draft (to hold it), or each waits for the other and one is killed.
    if example_db.is_sqlite:
        pytest.skip("SQLite serialises writers from their first read: the race needs a server")
    draft_id = submit(example_db)
    decided, flagged = at_once(
        example_db, lambda: decide(example_db, BOGDAN, draft_id), lambda: flag_acme(example_db), "the flag"
    )
    assert not isinstance(decided, Exception), repr(decided)
    assert not isinstance(flagged, Exception), repr(flagged)
    assert isinstance(flagged, flags.FlagChange) and flagged.held == []  # approved first: nothing left to hold
    assert load(example_db, draft_id).status == "approved"


def test_a_flag_lifted_while_a_draft_it_holds_is_submitted_releases_that_draft(example_db):
    # The draft is submitted while client:acme is flagged, so it is held; the flag is lifted
    # at that moment. Had the lift listed the held drafts before the submission committed, the
    # new draft would stay held by a flag that is gone, and nothing would look at it again.
    # The submission pauses after it read the flag: at its second audit entry ("held").
    if example_db.is_sqlite:
        pytest.skip("SQLite serialises writers from their first read: the race needs a server")
    flag_acme(example_db)

    def lift() -> object:
        with example_db.session() as s:
            return flags.lift_flag(s, PULSE, "client:acme", "at-risk")

    def upsell() -> int:  # an expansion pitch: the policy holds it while the client is at risk
        return submit(example_db, actor=DIRK, seat_id="sales", kind="expansion", title="Upsell")

    submitted, lifted = at_once(example_db, upsell, lift, "the lift", pause_at=2)
    assert not isinstance(submitted, Exception), repr(submitted)
    assert not isinstance(lifted, Exception), repr(lifted)
    assert load(example_db, submitted).status == "pending"
