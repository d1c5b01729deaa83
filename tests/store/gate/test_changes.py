"""Request changes and revisions in the domain, against the example org: the rules the
surfaces share, the route's round cap from the chart file (and back out by export), a
policy holding a revision like any draft, and the database refusing a second revision."""

from __future__ import annotations

import threading
from importlib import resources

import pytest
import yaml
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents import webhooks
from otp_bot.store.domain.agents.tokens import create_token
from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid
from otp_bot.store.domain.gate import changes, decisions, drafts, flags, reading
from otp_bot.store.domain.gate.learnings import learnings
from otp_bot.store.domain.gate.ledger import seat_ledger
from otp_bot.store.models import ApprovalRoute, Draft, DraftMessage, OutboxItem
from tests.support.drafts import BOGDAN, DAVID, DIRK, OPERATOR, PULSE, decide, flag_acme, load, submit, work


def example() -> dict:
    return yaml.safe_load((resources.files("otp_bot.examples") / "acme-agency.yaml").read_text(encoding="utf-8"))


def ask(db, draft_id: int, text: str = "Name the renewal date", actor=BOGDAN):
    with db.session() as s:
        return changes.request_changes(s, actor, draft_id, text)


def revise(db, draft_id: int, actor=PULSE, **fields) -> int:
    return submit(db, actor=actor, revises=draft_id, **{"body": "Hi Acme, your renewal is on 1 March.", **fields})


def posted_at(db, draft_id: int, ts: str = "1700000000.000100") -> None:
    with db.session() as s:
        drafts.record_message(s, draft_id, "C0APPROVALS", ts)


def test_changes_requested_then_revised_in_the_same_message(example_db):
    draft_id = submit(example_db)
    posted_at(example_db, draft_id)
    asked = ask(example_db, draft_id)
    assert asked.final and asked.decision is None and asked.draft.status == "changes-requested"
    assert load(example_db, draft_id).outcome_now.startswith("changes requested by Bogdan at ")
    revision = revise(example_db, draft_id)
    with example_db.session() as s:
        new, old = reading.get_draft(s, revision), reading.get_draft(s, draft_id)
        assert (new.revises, new.round, new.status, old.status) == (draft_id, 2, "pending", "revised")
        assert [(m.channel, m.ts) for m in new.messages] == [("C0APPROVALS", "1700000000.000100")]
        assert old.messages == [] and old.revised_by.id == revision
        assert [(d.id, r.text) for d, r in changes.change_requests(new)] == [(draft_id, "Name the renewal date")]
        assert reading.outcome(s, old).startswith(f"revised by draft #{revision} after changes requested by Bogdan")
        with pytest.raises(Conflict, match=f"draft #{draft_id} was revised: this message now shows draft #{revision}"):
            reading.check_message(s, old, ("C0APPROVALS", "1700000000.000100"))
    kinds = [k for k, _ in work(example_db, revision)]
    # The same message shows the revision; the previous version goes to its thread; nothing new is posted.
    assert "approval_post" not in kinds and "approval_update" in kinds
    assert ("notify", {"event": "previous_version", "previous": draft_id}) in work(example_db, revision)
    assert decide(example_db, BOGDAN, revision).draft.status == "approved"


def test_an_escalation_message_stays_with_the_original_and_says_it_was_revised(example_db):
    draft_id = submit(example_db)
    posted_at(example_db, draft_id)
    with example_db.session() as s:
        drafts.record_message(s, draft_id, "D0ESCALATED", "1700000000.000300", "escalation")
    ask(example_db, draft_id)
    revision = revise(example_db, draft_id)
    with example_db.session() as s:
        old, new = reading.get_draft(s, draft_id), reading.get_draft(s, revision)
        assert [m.purpose for m in old.messages] == ["escalation"] and [m.purpose for m in new.messages] == ["approval"]
        with pytest.raises(Conflict, match=f"was already revised by draft #{revision}"):
            decisions.check_decider(s, BOGDAN, old, ("D0ESCALATED", "1700000000.000300"))
    assert "approval_update" in [k for k, _ in work(example_db, draft_id)][-1:]


def test_two_revisions_at_once_make_one(example_db):
    draft_id = submit(example_db)
    ask(example_db, draft_id)
    start, results = threading.Barrier(2), []

    def attempt(n: int) -> None:
        start.wait()
        try:
            results.append(revise(example_db, draft_id, body=f"Version {n}"))
        except Conflict as exc:
            results.append(exc)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    made = [r for r in results if isinstance(r, int)]
    assert len(made) == 1 and "already revised" in str(next(r for r in results if isinstance(r, Conflict)))
    with example_db.session() as s:
        assert s.query(Draft).filter(Draft.revises == draft_id).count() == 1


def test_who_may_ask_and_what_must_be_said(example_db):
    draft_id = submit(example_db)
    for actor, error in ((DAVID, Forbidden), (PULSE, Forbidden), (DIRK, Forbidden)):
        with pytest.raises(error):
            ask(example_db, draft_id, actor=actor)
    with pytest.raises(Invalid, match="say what to change"):
        ask(example_db, draft_id, text=" \n ")
    assert load(example_db, draft_id).status == "pending"
    ask(example_db, draft_id)
    with pytest.raises(Conflict, match="waits for its revision"):
        ask(example_db, draft_id)
    with pytest.raises(Conflict, match="waits for its revision"):
        decide(example_db, BOGDAN, draft_id)


def test_revisions_refused_with_why_and_nothing_changed(example_db):
    pending = submit(example_db)
    with pytest.raises(Conflict, match="only a draft whose changes were requested can be revised"):
        revise(example_db, pending)
    asked = submit(example_db)
    ask(example_db, asked)
    with pytest.raises(Forbidden, match="a revision comes from the seat that drafted it"):
        revise(example_db, asked, actor=DIRK, seat_id="sales", kind="proposal")
    with pytest.raises(Invalid, match="keeps its draft's kind and subject"):
        revise(example_db, asked, subject="client:zeta")
    with example_db.session() as s:
        assert s.query(Draft).count() == 2 and reading.get_draft(s, asked).status == "changes-requested"
    first = revise(example_db, asked)
    with pytest.raises(Conflict, match=f"already revised by draft #{first}"):
        revise(example_db, asked)


def test_a_draft_whose_changes_were_asked_may_be_withdrawn_instead_of_revised(example_db):
    draft_id = submit(example_db)
    ask(example_db, draft_id)
    with example_db.session() as s:
        assert decisions.withdraw(s, PULSE, draft_id).status == "withdrawn"
    with pytest.raises(Conflict, match="is withdrawn: only a draft whose changes were requested"):
        revise(example_db, draft_id)


def test_the_database_refuses_a_second_revision_of_a_draft(example_db):
    draft_id = submit(example_db)
    ask(example_db, draft_id)
    revise(example_db, draft_id)
    other = submit(example_db, title="Another")
    with pytest.raises(IntegrityError), example_db.session() as s:
        s.execute(update(Draft).where(Draft.id == other).values(revises=draft_id))


def test_the_cap_from_the_chart_file_rejects_and_refuses_and_exports(example_db):
    data = example()
    data["approvals"][0]["max_rounds"] = 2
    with example_db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
        assert s.query(ApprovalRoute).order_by(ApprovalRoute.position).first().max_rounds == 2
        exported = export_chart(s)
        assert exported is not None and exported.approvals[0].max_rounds == 2
        assert exported.approvals[1].max_rounds is None
    first = submit(example_db)
    ask(example_db, first, "Warmer")
    second = revise(example_db, first)
    capped = ask(example_db, second, "Shorter")
    assert capped.draft.status == "rejected" and capped.decision is not None
    assert capped.draft.reason == (
        "changes were asked 2 times and the route allows 2 round(s), so it is rejected: (1) Warmer; (2) Shorter"
    )
    with pytest.raises(Conflict, match="is rejected: only a draft whose changes were requested"):
        revise(example_db, second)

    # Requests too long for one reason: the earlier ones are cut, the last one is kept whole.
    long_first = submit(example_db, title="Long")
    ask(example_db, long_first, "Mention the parking at Nørregade. " * 58)
    long_second = revise(example_db, long_first)
    capped = ask(example_db, long_second, "Shorter 🙏")
    assert len(capped.draft.reason) <= 2000 and capped.draft.reason.endswith("…; (2) Shorter 🙏")

    # A cap lowered after the request: the request made under the old cap is honoured (else the
    # draft would wait for good), and the next request rejects at the new cap.
    third = submit(example_db, title="Third")
    ask(example_db, third)
    with example_db.session() as s:
        s.execute(update(ApprovalRoute).values(max_rounds=1))
    fourth = revise(example_db, third)
    assert (load(example_db, third).status, load(example_db, fourth).status) == ("revised", "pending")
    assert ask(example_db, fourth, "Still too long").draft.status == "rejected"


@pytest.mark.parametrize("rounds", [0, 21, "many"])
def test_a_bad_round_cap_is_refused_at_import(rounds):
    data = example()
    data["approvals"][0]["max_rounds"] = rounds
    with pytest.raises(ChartErrors, match="max_rounds"):
        validate_chart(data, "t")


def test_a_policy_holds_a_revision_like_any_draft(example_db):
    draft_id = submit(example_db, actor=DIRK, seat_id="sales", kind="expansion", title="Upsell")
    posted_at(example_db, draft_id, "1700000000.000200")
    ask(example_db, draft_id, "Less pushy")
    flag_acme(example_db)
    revision = revise(example_db, draft_id, actor=DIRK, seat_id="sales", kind="expansion", title="Upsell")
    held = load(example_db, revision)
    assert held.status == "held" and held.held_by_policy == "retention-wins"
    assert [m.ts for m in held.messages] == ["1700000000.000200"]  # the message shows it held
    with example_db.session() as s:
        assert [d.id for d in flags.lift_flag(s, PULSE, "client:acme", "at-risk").released] == [revision]
    assert load(example_db, revision).status == "pending"
    assert "approval_post" not in [k for k, _ in work(example_db, revision)]  # back on the same message
    with example_db.session() as s:
        assert s.query(DraftMessage).filter(DraftMessage.draft_id == revision).count() == 1


def test_the_agents_webhook_hears_the_request_and_the_rejection_at_the_cap(example_db):
    with example_db.session() as s:
        made = create_token(s, OPERATOR, holder_id="pulse").token.id
    with example_db.session() as s:
        agent = Actor(label="agent", holder_id="pulse", token_id=made)
        webhooks.set_webhook(s, agent, made, "https://agents.example.com/otp/decisions")
    data = example()
    data["approvals"][0]["max_rounds"] = 2
    with example_db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
    first = submit(example_db)
    ask(example_db, first, "Warmer")
    second = revise(example_db, first)
    ask(example_db, second, "Shorter")
    with example_db.session(readonly=True) as s:
        sent = {
            o.draft_id: o.payload["body"]
            for o in s.scalars(select(OutboxItem).where(OutboxItem.kind == "webhook").order_by(OutboxItem.id))
        }
    assert sent[first]["event"] == "changes-requested" and "Warmer" in sent[first]["outcome"]
    assert (sent[first]["reason"], sent[first]["round"], sent[first]["revises"]) == ("Warmer", 1, None)
    assert (sent[second]["round"], sent[second]["revises"]) == (2, first)
    assert sent[first]["decided_by"] == {"id": "bogdan", "name": "Bogdan"}
    assert sent[second]["event"] == "rejected" and "(1) Warmer; (2) Shorter" in sent[second]["reason"]


def test_a_draft_waiting_for_its_revision_is_withdrawn_when_its_seat_is_retired(example_db):
    first = submit(example_db)
    ask(example_db, first)
    data = example()
    retention = next(s for s in data["seats"] if s["id"] == "retention")
    retention.pop("holder")
    retention["status"] = "retired"
    with example_db.session() as s:
        result = apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
    assert [c.describe() for c in result.drafts] == [f"draft #{first} withdrawn: seat `retention` was retired"]
    with example_db.session(readonly=True) as s:
        assert s.get(Draft, first).status == "withdrawn"
    with pytest.raises(Forbidden, match="`retention` is held by nobody"):
        revise(example_db, first)
    with pytest.raises(Invalid, match="seat `retention` is retired"):  # an operator's too
        revise(example_db, first, actor=OPERATOR)


def test_the_webhook_of_a_withdrawal_after_a_request_says_why_it_was_withdrawn_and_by_whom(example_db):
    with example_db.session() as s:
        made = create_token(s, OPERATOR, holder_id="pulse").token.id
    with example_db.session() as s:
        webhooks.set_webhook(s, Actor(label="agent", holder_id="pulse", token_id=made), made, "https://a.example/h")
    by_agent, by_chart = submit(example_db), submit(example_db, subject="client:initech")
    ask(example_db, by_agent, "Warmer")
    ask(example_db, by_chart, "Shorter")
    with example_db.session() as s:
        decisions.withdraw(s, PULSE, by_agent)
    data = example()
    retention = next(s for s in data["seats"] if s["id"] == "retention")
    retention.pop("holder")
    retention["status"] = "retired"
    with example_db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
    with example_db.session(readonly=True) as s:
        sent = {
            (o.draft_id, o.payload["body"]["event"]): o.payload["body"]
            for o in s.scalars(select(OutboxItem).where(OutboxItem.kind == "webhook"))
        }
    agent = sent[(by_agent, "withdrawn")]
    assert agent["decided_by"] == {"id": "pulse", "name": "Pulse"} and agent["reason"] is None
    chart = sent[(by_chart, "withdrawn")]
    assert chart["decided_by"] is None  # the chart withdrew it, not the approver who asked for changes
    assert "retired" in chart["reason"] and "Shorter" not in chart["reason"]


def test_a_revision_goes_where_its_route_posts_now_when_the_chart_moved_it_meanwhile(example_db):
    draft_id = submit(example_db)
    posted_at(example_db, draft_id)
    ask(example_db, draft_id)
    data = example()
    data["approvals"][0].update(channel="C0NEWAPPROV", approvers=["david"])
    with example_db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
    revision = revise(example_db, draft_id)
    with example_db.session(readonly=True) as s:
        new, old = s.get_one(Draft, revision), s.get_one(Draft, draft_id)
        assert (new.route_channel, new.approvers, new.messages) == ("C0NEWAPPROV", ["david"], [])
        # The old message stays the original's and says it was revised; David decides in his channel.
        assert [(m.channel, m.ts) for m in old.messages] == [("C0APPROVALS", "1700000000.000100")]
    assert ("approval_post", {"channel": "C0NEWAPPROV", "purpose": "approval"}) in work(example_db, revision)
    assert "approval_update" in [k for k, _ in work(example_db, draft_id)]
    assert decide(example_db, DAVID, revision).draft.status == "approved"


def test_a_key_used_for_a_draft_is_not_reused_for_its_revision(example_db):
    first = submit(example_db, key="k-1")
    ask(example_db, first)
    with pytest.raises(Conflict, match=r"key `k-1` was used for draft #.*with different content"):
        revise(example_db, first, key="k-1", body="Hi Acme, how are the new ads doing?")
    assert load(example_db, first).status == "changes-requested"
    again = revise(example_db, first, key="k-2")
    assert revise(example_db, first, key="k-2") == again  # the same revision, retried, is the same draft


def test_the_trust_ledger_counts_a_round_of_changes_against_the_draft(example_db):
    first = submit(example_db, kind="check-in")
    ask(example_db, first)
    decide(example_db, BOGDAN, revise(example_db, first, kind="check-in"))
    with example_db.session(readonly=True) as s:
        row = next(r for r in seat_ledger(s, "retention").kinds if r.kind == "check-in")
    # Two versions, both judged: one sent back, one approved as it stood, which is not a clean first pass.
    assert (row.submitted, row.decided, row.approved, row.unedited, row.rounds) == (2, 2, 1, 0, 1)
    assert (row.approval_rate, row.unedited_share) == (0.5, 0.0)


def test_learnings_carry_the_changes_asked_and_an_edit_in_one_paragraph_shows_the_sentence(example_db):
    first = submit(example_db, kind="recall")
    ask(example_db, first, "Name the <!here> date, please 🙏")
    body = "Hi Lars, it is time for your check-up. We have slots on Monday. Reply to book."
    second = revise(example_db, first, kind="recall", body=body)
    decide(example_db, BOGDAN, second, edited_body=body.replace("on Monday", "on Monday 14 May"))
    with example_db.session(readonly=True) as s:
        found = learnings(s, "retention", kind="recall")
    assert [(c.draft_id, c.text, c.by) for c in found.changes_asked] == [
        (first, "Name the <!here> date, please 🙏", "Bogdan")
    ]
    assert found.edits[0].diff.splitlines()[2:] == [
        "@@ -1,3 +1,3 @@",
        " Hi Lars, it is time for your check-up.",
        "-We have slots on Monday.",
        "+We have slots on Monday 14 May.",
        " Reply to book.",
    ]
