"""The human gate's rules, against the example org: submitting, routing, holding, deciding,
time passing, and the database refusing what the rules refuse."""

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
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid, NotFound
from otp_bot.store.domain.gate import drafts, flags
from otp_bot.store.domain.gate import queries as gate_queries
from otp_bot.store.domain.gate import timers as draft_timers
from otp_bot.store.domain.gate.queries import history, list_drafts, policies_holding
from otp_bot.store.models import AuditEntry, Draft, DraftDecision, Flag, OutboxItem

PULSE = Actor(label="Pulse", holder_id="pulse")  # holds retention (supervisor Bogdan)
DIRK = Actor(label="Dirk", holder_id="dirk")  # holds sales (supervisor David)
PEPPER = Actor(label="Pepper", holder_id="pepper")  # holds inbox: two approvals needed
DASH = Actor(label="Dash", holder_id="dash")  # holds analytics: no approval route
BOGDAN = Actor(label="Bogdan", holder_id="bogdan")  # approves retention and sales; holds coo
DAVID = Actor(label="David", holder_id="david")
OPERATOR = Actor.cli_operator("test")
BOGDAN_SLACK, DAVID_SLACK = "U02BGD4N8RM", "U02DSTL7K1Q"
HELD = (
    "client:acme is flagged at-risk by Client Retention (Pulse): two missed calls; "
    "policy retention-wins: retention wins over expansion"
)


def submit(db, actor=PULSE, now=None, **fields) -> int:
    values = {
        "seat_id": "retention",
        "kind": "retention-outreach",
        "subject": "client:acme",
        "title": "Check in",
        "body": "Hi Acme, how are the new ads doing?",
        **fields,
    }
    with db.session() as s:
        return drafts.submit_draft(s, actor, now=now, **values).draft.id


def decide(db, actor, draft_id, verdict="approve", **kwargs) -> drafts.Decided:
    with db.session() as s:
        return drafts.decide(s, actor, draft_id, verdict, **kwargs)


def load(db, draft_id) -> Draft:
    with db.session() as s:
        draft = drafts.get_draft(s, draft_id)
        draft.outcome_now = drafts.outcome(s, draft)
        return draft


def work(db, draft_id) -> list[tuple[str, dict]]:
    with db.session() as s:
        return [
            (o.kind, o.payload)
            for o in s.scalars(select(OutboxItem).where(OutboxItem.draft_id == draft_id).order_by(OutboxItem.id))
        ]


def count(db, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def flag_acme(db, actor=PULSE, **kwargs) -> flags.FlagChange:
    with db.session() as s:
        return flags.set_flag(s, actor, "client:acme", "at-risk", reason="two missed calls", **kwargs)


# ------------------------------------------------------------------------- submitting and routing


def test_submit_goes_to_its_approval_channel(example_db):
    draft_id = submit(example_db, destination="C0CLIENTS")
    draft = load(example_db, draft_id)
    assert (draft.status, draft.route_channel, draft.approvers, draft.required) == (
        "pending",
        "C0APPROVALS",
        ["bogdan"],
        1,
    )
    assert draft.drafted_by == "pulse" and draft.destination == "C0CLIENTS" and draft.customer_facing
    assert as_utc(draft.expires_at) - as_utc(draft.queued_at) == dt.timedelta(hours=24)
    assert draft.outcome_now == "waiting for a decision by Bogdan"
    assert work(example_db, draft_id) == [("approval_post", {"channel": "C0APPROVALS", "purpose": "approval"})]
    with example_db.session() as s:
        assert [d.id for d in gate_queries.waiting_for(s, BOGDAN)] == [draft_id]
        assert gate_queries.waiting_for(s, DAVID) == [] and gate_queries.waiting_for(s, PULSE) == []
        assert [e.action for e in history(s, draft_id)] == ["draft.submitted"]


def test_the_same_key_returns_the_same_draft_and_other_content_conflicts(example_db):
    first = submit(example_db, key="k1")
    with example_db.session() as s:
        again = drafts.submit_draft(
            s,
            PULSE,
            seat_id="retention",
            kind="retention-outreach",
            subject="Client:Acme",
            title="Check in",
            body="Hi Acme, how are the new ads doing?\n",
            key="k1",
        )
        assert (again.draft.id, again.created) == (first, False)
    with pytest.raises(Conflict, match=f"key `k1` was used for draft #{first}"):
        submit(example_db, key="k1", body="Something else")
    assert count(example_db, Draft) == 1 and len(work(example_db, first)) == 1


def test_only_the_seat_holder_or_an_operator_submits(example_db):
    with pytest.raises(Forbidden, match="seats you hold; `retention` is held by Pulse"):
        submit(example_db, actor=DIRK)
    with pytest.raises(Forbidden):
        submit(example_db, actor=Actor.anonymous("U0NOBODY"))
    assert load(example_db, submit(example_db, actor=OPERATOR)).drafted_by == "pulse"


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"kind": "Retention Outreach!"}, "not a draft kind"),
        ({"subject": "  "}, "needs a subject"),
        ({"subject": "client acme"}, "one word"),
        ({"destination": "somewhere nice"}, "not a destination"),
        ({"destination": "ftp://x.example"}, "not a destination"),
        ({"body": " \n "}, "needs a body"),
        ({"body": "x" * 20_001}, "at most 20,000"),
        ({"body": "a\x00b"}, "NUL"),
        ({"title": ""}, "needs a title"),
    ],
)
def test_bad_drafts_are_refused_and_nothing_is_written(example_db, fields, words):
    with pytest.raises(Invalid, match=words):
        submit(example_db, **fields)
    assert count(example_db, Draft) == 0 and count(example_db, OutboxItem) == 0


def test_unknown_seats_and_draft_numbers_are_named(example_db):
    with pytest.raises(NotFound, match="no seat `retension`"):
        submit(example_db, seat_id="retension")
    with example_db.session() as s:
        for number, error in (
            ("12", NotFound),
            ("#99999999999999999999", NotFound),
            ("-3", NotFound),
            ("abc", Invalid),
        ):
            with pytest.raises(error):
                drafts.get_draft(s, number)


def test_destinations_are_normalised(example_db):
    assert load(example_db, submit(example_db, destination="#c0clients")).destination == "C0CLIENTS"
    assert (
        load(example_db, submit(example_db, destination="https://hooks.example/x")).destination
        == "https://hooks.example/x"
    )


def test_a_seat_without_a_route_goes_by_dm_to_its_accountable_human(example_db):
    draft = load(example_db, submit(example_db, actor=DASH, seat_id="analytics", kind="report"))
    assert (draft.route_channel, draft.approvers) == ("", ["bogdan"])
    assert work(example_db, draft.id) == [("approval_post", {"channel": BOGDAN_SLACK, "purpose": "approval"})]


def test_a_person_cannot_decide_their_own_draft(example_db):
    # Bogdan holds the COO seat, which has no route: the next human up (David) decides.
    draft_id = submit(example_db, actor=BOGDAN, seat_id="coo", kind="memo", subject="team:ops")
    assert load(example_db, draft_id).approvers == ["david"]
    with pytest.raises(Forbidden, match="yourself"):
        decide(example_db, BOGDAN, draft_id)
    assert decide(example_db, DAVID, draft_id).draft.status == "approved"


# ------------------------------------------------------------------------- policies and flags


def test_a_policy_holds_a_draft_with_a_plain_reason_until_the_flag_lifts(example_db):
    flag_acme(example_db)
    draft_id = submit(example_db, actor=DIRK, seat_id="sales", kind="expansion", title="Upsell")
    draft = load(example_db, draft_id)
    assert (draft.status, draft.hold_reason, draft.held_by_policy) == ("held", HELD, "retention-wins")
    assert draft.outcome_now == f"held: {HELD}"
    # Not posted for approval; the seat's accountable human (David) is told why.
    assert work(example_db, draft_id) == [("notify", {"event": "held", "holder": "david"})]
    with pytest.raises(Conflict, match="is held"):
        decide(example_db, BOGDAN, draft_id)
    # Other kinds about the same client are not held.
    assert load(example_db, submit(example_db)).status == "pending"

    with example_db.session() as s:
        lifted = flags.lift_flag(s, PULSE, "client:acme", "at-risk")
        assert [d.id for d in lifted.released] == [draft_id]
    assert load(example_db, draft_id).status == "pending"
    assert ("approval_post", {"channel": "C0APPROVALS", "purpose": "approval"}) in work(example_db, draft_id)
    with example_db.session() as s:
        assert [e.action for e in history(s, draft_id)] == ["draft.submitted", "draft.held", "draft.released"]
        assert s.scalar(select(Flag.lifted_by)) == "holder:pulse"


def test_a_flag_that_expires_releases_what_it_held(example_db):
    now = utcnow()
    with example_db.session() as s:
        flags.set_flag(s, PULSE, "client:acme", "at-risk", until=flags.parse_until("1d", now), now=now)
    draft_id = submit(example_db, actor=DIRK, seat_id="sales", kind="expansion")
    with example_db.session() as s:
        assert flags.expire_flags(s, now + dt.timedelta(hours=23)) == []
    assert load(example_db, draft_id).status == "held"
    with example_db.session() as s:
        assert [d.id for d in flags.expire_flags(s, now + dt.timedelta(days=2))] == [draft_id]
        assert s.scalar(select(Flag.lifted_by)) == "expired"
    assert load(example_db, draft_id).status == "pending"


def test_a_flag_from_a_seat_that_does_not_win_holds_nothing(example_db):
    change = flag_acme(example_db, actor=DIRK)  # Sales flags it, but the policy's winner is Retention
    assert load(example_db, submit(example_db, actor=DIRK, seat_id="sales", kind="expansion")).status == "pending"
    with example_db.session() as s:
        assert policies_holding(s, s.get(Flag, change.flag.id)) == []
        pulse_flag = flags.set_flag(s, PULSE, "client:acme", "at-risk").flag
        assert [p.name for p in policies_holding(s, pulse_flag)] == ["retention-wins"]


@pytest.mark.parametrize(
    ("until", "words"), [("soon", "not a time"), ("2001-01-01", "in the past"), ("99999999d", "too far ahead")]
)
def test_bad_flag_expiry_is_refused(until, words):
    with pytest.raises(Invalid, match=words):
        flags.parse_until(until)


def test_flag_rules(example_db):
    with example_db.session() as s:
        with pytest.raises(Forbidden, match="do not hold seat `retention`"):
            flags.set_flag(s, DIRK, "client:acme", "at-risk", seat_id="retention")
        with pytest.raises(Invalid, match="one word"):
            flags.set_flag(s, PULSE, "client acme", "at-risk")
        assert flags.set_flag(s, PULSE, "client:acme", "at-risk").created
        assert not flags.set_flag(s, PULSE, "client:acme", "at-risk", reason="updated").created
        with pytest.raises(Forbidden, match="only the holder of the flagging seat"):
            flags.lift_flag(s, DIRK, "client:acme", "at-risk")
        with pytest.raises(NotFound, match="not flagged"):
            flags.lift_flag(s, PULSE, "client:beta", "at-risk")


# ------------------------------------------------------------------------- deciding


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
        drafts.withdraw(s, DIRK, draft_id)
    with example_db.session() as s:
        assert drafts.withdraw(s, PULSE, draft_id).status == "withdrawn"
    with pytest.raises(Conflict, match="already withdrawn"):
        decide(example_db, BOGDAN, draft_id)
    with example_db.session() as s:
        assert drafts.withdraw(s, OPERATOR, submit(example_db, title="Other")).status == "withdrawn"


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
        won = [r for r in results.values() if isinstance(r, drafts.Decided)]
        lost = [r for r in results.values() if not isinstance(r, drafts.Decided)]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], Conflict) and "already approved" in lost[0].message
        with example_db.session() as s:
            assert (
                s.scalar(select(func.count()).select_from(DraftDecision).where(DraftDecision.draft_id == draft_id)) == 1
            )
            assert drafts.get_draft(s, draft_id).decided_by == won[0].decision.holder_id
