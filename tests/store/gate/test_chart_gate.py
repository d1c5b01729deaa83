"""The chart governs what is pending: a chart change (an import, or a seat's lifecycle)
withdraws or re-routes waiting drafts, and a decision is checked against the chart as it
is at the click, not against what was copied onto the draft when it was queued."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml
from sqlalchemy import select, update

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.chart.sync.diff import diff_charts
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.errors import Conflict, Forbidden
from otp_bot.store.domain.gate import decisions as gate_decisions
from otp_bot.store.domain.gate import drafts, flags, reading
from otp_bot.store.domain.lifecycle import hearings, holders
from otp_bot.store.domain.lifecycle.hearing_input import HearingInput, capabilities
from otp_bot.store.models import ApprovalRoute, AuditEntry, DraftDecision, DraftMessage, OutboxItem, Seat

PULSE = Actor(label="Pulse", holder_id="pulse")  # holds retention; route 1 (C0APPROVALS, Bogdan)
DIRK = Actor(label="Dirk", holder_id="dirk")  # holds sales; route 1
BOGDAN = Actor(label="Bogdan", holder_id="bogdan")
DAVID = Actor(label="David", holder_id="david")
OPERATOR = Actor.cli_operator("test")


def example() -> dict:
    return yaml.safe_load((resources.files("otp_bot.examples") / "acme-agency.yaml").read_text(encoding="utf-8"))


def seat_of(data: dict, seat_id: str) -> dict:
    return next(s for s in data["seats"] if s["id"] == seat_id)


def reimport(db, data: dict):
    with db.session() as s:
        return apply_chart(s, validate_chart(data, "t"), actor="operator:test", source="t")


def submit(db, actor=PULSE, seat_id="retention", **fields) -> int:
    values = {
        "kind": "retention-outreach",
        "subject": "client:acme",
        "title": "Check in",
        "body": "Hi Acme, how are the new ads doing?",
        "destination": "C0CLIENTS",
        **fields,
    }
    with db.session() as s:
        return drafts.submit_draft(s, actor, seat_id=seat_id, **values).draft.id


def posted_at(db, draft_id: int, channel: str = "C0APPROVALS", ts: str = "1700000000.000100") -> tuple[str, str]:
    """The worker posted the approval message (as `record_message` records it)."""
    with db.session() as s:
        drafts.record_message(s, draft_id, channel, ts)
    return channel, ts


def decide(db, actor, draft_id, verdict="approve", **kw):
    with db.session() as s:
        return gate_decisions.decide(s, actor, draft_id, verdict, **kw)


def state(db, draft_id: int):
    with db.session() as s:
        d = reading.get_draft(s, draft_id)
        return d.status, reading.outcome(s, d), d.route_channel, list(d.approvers)


def queued(db, draft_id: int) -> list[tuple[str, dict]]:
    with db.session() as s:
        return [
            (o.kind, o.payload)
            for o in s.scalars(select(OutboxItem).where(OutboxItem.draft_id == draft_id).order_by(OutboxItem.id))
        ]


def audit_of(db, draft_id: int) -> list[tuple[str, dict]]:
    with db.session() as s:
        return [
            (a.action, a.detail)
            for a in s.scalars(
                select(AuditEntry).where(AuditEntry.subject == f"draft:{draft_id}").order_by(AuditEntry.id)
            )
        ]


def decisions(db, draft_id: int) -> int:
    with db.session() as s:
        return len(s.scalars(select(DraftDecision).where(DraftDecision.draft_id == draft_id)).all())


# ------------------------------------------------------------------ seats that change


def test_a_seat_retired_by_an_import_withdraws_its_pending_draft_and_a_click_is_refused(example_db):
    draft_id = submit(example_db)
    message = posted_at(example_db, draft_id)
    data = example()
    retention = seat_of(data, "retention")
    retention.pop("holder")
    retention["status"] = "retired"
    result = reimport(example_db, data)

    assert [c.describe() for c in result.drafts] == [f"draft #{draft_id} withdrawn: seat `retention` was retired"]
    status, outcome, _, _ = state(example_db, draft_id)
    assert status == "withdrawn" and outcome.endswith(": seat `retention` was retired")  # what the agent reads
    assert ("draft.withdrawn", {"reason": "seat `retention` was retired", "by": "chart"}) in audit_of(
        example_db, draft_id
    )
    kinds = [(k, p.get("event")) for k, p in queued(example_db, draft_id)]
    assert ("approval_update", None) in kinds and ("notify", "withdrawn") in kinds  # message updated, human told
    with pytest.raises(Conflict, match=r"already withdrawn .*: seat `retention` was retired"):
        decide(example_db, BOGDAN, draft_id, message=message)
    assert decisions(example_db, draft_id) == 0
    assert not any(k == "deliver" for k, _ in queued(example_db, draft_id))


def test_a_held_draft_of_a_vacated_seat_is_withdrawn_too(example_db):
    with example_db.session() as s:
        flags.set_flag(s, PULSE, "client:acme", "at-risk", reason="two missed calls")
    held = submit(example_db, DIRK, "sales", kind="expansion", title="Upsell")
    assert state(example_db, held)[0] == "held"
    data = example()
    seat_of(data, "sales").pop("holder")
    result = reimport(example_db, data)
    assert [c.draft_id for c in result.drafts] == [held]
    assert state(example_db, held)[:2][0] == "withdrawn"
    assert state(example_db, held)[1].endswith("seat `sales` was vacated")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: holders.vacate(s, OPERATOR, "retention"), "seat `retention` was vacated"),
        (
            lambda s: holders.assign(s, OPERATOR, "retention", "dash"),
            "seat `retention` is now held by Dash, not by Pulse who drafted it",
        ),
        (
            lambda s: hearings.retire(
                s,
                OPERATOR,
                "retention",
                HearingInput(
                    reason="r",
                    findings="f",
                    recommendation="c",
                    decision="retire",
                    moves=[(c.key, "-") for c in capabilities(reading.get_draft(s, 1).seat)],
                ),
            ),
            "seat `retention` was retired",
        ),
    ],
)
def test_the_seat_lifecycle_withdraws_the_drafts_its_drafter_no_longer_speaks_for(example_db, change, reason):
    draft_id = submit(example_db)
    assert draft_id == 1
    message = posted_at(example_db, draft_id)
    with example_db.session() as s:
        change(s)
    status, outcome, _, _ = state(example_db, draft_id)
    assert status == "withdrawn" and outcome.endswith(reason)
    with pytest.raises(Conflict, match="withdrawn"):
        decide(example_db, BOGDAN, draft_id, message=message)


def test_a_click_is_checked_against_the_seat_as_it_is_now(example_db):
    """Even if something changed the seat without withdrawing its drafts, the click refuses."""
    draft_id = submit(example_db)
    with example_db.session() as s:
        s.execute(update(Seat).where(Seat.id == "retention").values(holder_id="dash"))
    with pytest.raises(Conflict, match="can no longer be decided: seat `retention` is now held by Dash"):
        decide(example_db, BOGDAN, draft_id)
    assert decisions(example_db, draft_id) == 0


# ------------------------------------------------------------------ routes that change


def test_an_approver_removed_from_every_route_can_no_longer_approve(example_db):
    draft_id = submit(example_db)
    message = posted_at(example_db, draft_id)
    data = example()
    for route in data["approvals"]:
        route["approvers"] = ["david" if a == "bogdan" else a for a in route["approvers"]]
    data["approvals"][1]["approvers"] = ["david", "janine"]
    result = reimport(example_db, data)

    assert [c.describe() for c in result.drafts] == [
        f"draft #{draft_id} approvers: decided by the route's approvers as the chart names them now"
    ]
    assert state(example_db, draft_id)[2:] == ("C0APPROVALS", ["david"])
    with pytest.raises(Forbidden, match="not an approver for draft #1; approvers are David"):
        decide(example_db, BOGDAN, draft_id, message=message)
    assert decide(example_db, DAVID, draft_id, message=message).final
    assert state(example_db, draft_id)[0] == "approved"


def test_approvers_are_resolved_at_the_click_not_from_the_copy_on_the_draft(example_db):
    """The route row changes under a queued draft with nothing re-routing it: the click
    still goes by the chart."""
    draft_id = submit(example_db)
    with example_db.session() as s:
        s.execute(update(ApprovalRoute).where(ApprovalRoute.position == 0).values(approvers=["david"]))
    with pytest.raises(Forbidden, match="approvers are David"):
        decide(example_db, BOGDAN, draft_id)
    assert decide(example_db, DAVID, draft_id).final
    assert decisions(example_db, draft_id) == 1


def test_a_route_that_moves_channel_moves_its_pending_drafts(example_db):
    draft_id = submit(example_db)
    old = posted_at(example_db, draft_id)
    data = example()
    data["approvals"][0]["channel"] = "C0NEWAPPROVE"
    result = reimport(example_db, data)

    assert [c.describe() for c in result.drafts] == [f"draft #{draft_id} rerouted: moved to channel C0NEWAPPROVE"]
    assert state(example_db, draft_id)[2] == "C0NEWAPPROVE"
    posts = [p for k, p in queued(example_db, draft_id) if k == "approval_post"]
    assert posts[-1] == {"channel": "C0NEWAPPROVE", "purpose": "approval"}  # a fresh message where it goes now
    with example_db.session() as s:
        assert s.scalar(select(DraftMessage.purpose).where(DraftMessage.ts == old[1])) == "moved"
    with pytest.raises(Conflict, match=f"draft #{draft_id} moved to channel C0NEWAPPROVE"):
        decide(example_db, BOGDAN, draft_id, message=old)
    new = posted_at(example_db, draft_id, "C0NEWAPPROVE", "1700000001.000200")
    assert decide(example_db, BOGDAN, draft_id, message=new).final


def test_a_route_that_nobody_can_satisfy_any_more_withdraws_its_drafts_saying_why(example_db):
    data = example()
    data["approvals"].append(
        {"seats": ["accounting"], "channel": "C0APPROVALS", "approvers": ["bogdan", "david"], "required": 2}
    )
    reimport(example_db, data)
    draft_id = submit(example_db, Actor(label="Janine", holder_id="janine"), "accounting", kind="invoice-note")
    data["approvals"][-1]["approvers"] = ["bogdan", "janine"]  # Janine drafted it: one approver left for two
    result = reimport(example_db, data)
    assert [(c.draft_id, c.action) for c in result.drafts] == [(draft_id, "withdrawn")]
    status, outcome, _, _ = state(example_db, draft_id)
    assert status == "withdrawn"
    assert "nobody can decide it under the chart now: the approval route for `accounting` needs 2 approvals" in outcome


def test_the_import_diff_names_route_changes_in_words(example_db):
    data = example()
    data["approvals"][0]["seats"].remove("sales")
    data["approvals"][0]["approvers"] = ["david"]
    data["approvals"][1]["approvers"] = ["david"]
    data["approvals"][2]["approvers"] = ["david"]
    data["approvals"][1]["required"] = 1
    data["approvals"].append({"seats": ["sales"], "channel": "C0SALESOK", "approvers": ["janine"]})
    with example_db.session() as s:
        changes = diff_charts(export_chart(s), validate_chart(data, "t"))
    words = next(c.describe() for c in changes if c.entity == "approvals")
    assert words == (
        "~ approvals: sales removed from route 1; david approves route 1; route 2 needs 1 approval (was 2); "
        "david approves route 3; route 4 added (seats sales, in channel C0SALESOK, approvers janine); "
        "janine now approves; bogdan no longer approves"
    )
    assert "→ 1" not in words and "routes" not in words


# ------------------------------------------------------------------ a retried decision


def test_a_retry_after_a_commit_that_landed_is_recognised_not_decided_twice(example_db):
    draft_id = submit(example_db)
    first = decide(example_db, BOGDAN, draft_id)
    again = decide(example_db, BOGDAN, draft_id, again=True)
    assert first.final and again.final and again.decision.id == first.decision.id
    assert decisions(example_db, draft_id) == 1
    with pytest.raises(Conflict, match="already approved"):
        decide(example_db, BOGDAN, draft_id)  # a plain second click still says so
    with pytest.raises(Conflict):
        decide(example_db, BOGDAN, draft_id, "reject", reason="no", again=True)  # not the verdict on record


# ------------------------------------------------------------------ approvals and escalations the chart took away

PEPPER = Actor(label="Pepper", holder_id="pepper")  # holds inbox; route 2 (David and Bogdan, both needed)
JANINE = Actor(label="Janine", holder_id="janine")


def test_an_approval_by_an_approver_the_chart_removed_no_longer_counts(example_db):
    draft_id = submit(example_db, PEPPER, "inbox", kind="reply", title="Reply")
    assert not decide(example_db, DAVID, draft_id).final  # 1 of 2
    data = example()
    data["approvals"][1]["approvers"] = ["bogdan", "janine"]
    reimport(example_db, data)
    assert "approvals_no_longer_counted" in dict(audit_of(example_db, draft_id))["draft.rerouted"]
    assert dict(audit_of(example_db, draft_id))["draft.rerouted"]["approvals_no_longer_counted"] == ["david"]

    assert not decide(example_db, BOGDAN, draft_id).final  # David's earlier click is not the second approval
    status, outcome, _, _ = state(example_db, draft_id)
    assert status == "pending" and "1 of 2 approvals so far" in outcome
    assert decide(example_db, JANINE, draft_id).final
    status, outcome, _, _ = state(example_db, draft_id)
    assert status == "approved" and "by Bogdan, Janine" in outcome


def test_a_route_that_now_asks_for_no_more_approvals_than_a_draft_has_approves_it(example_db):
    draft_id = submit(example_db, PEPPER, "inbox", kind="reply", title="Reply")
    decide(example_db, DAVID, draft_id)
    data = example()
    data["approvals"][1]["required"] = 1
    result = reimport(example_db, data)
    assert [c.describe() for c in result.drafts] == [
        f"draft #{draft_id} approved: the route now needs 1 approval(s), which it already had"
    ]
    assert state(example_db, draft_id)[0] == "approved"
    assert ("deliver", {"destination": "C0CLIENTS"}) in queued(example_db, draft_id)
    assert decisions(example_db, draft_id) == 1


def test_a_draft_escalated_to_someone_the_chart_moved_out_of_its_line_is_escalated_again(example_db):
    import datetime as dt

    from otp_bot.store.domain.clock import utcnow
    from otp_bot.store.domain.gate import timers as draft_timers

    draft_id = submit(example_db)  # retention: Bogdan approves; escalates to David (CEO, above the COO)
    with example_db.session() as s:
        assert draft_timers.sweep_drafts(s, utcnow() + dt.timedelta(hours=13)).escalated == 1
        drafts.record_message(s, draft_id, "D0DAVID", "1700000000.000200", "escalation")
        assert reading.get_draft(s, draft_id).escalated_to == "david"
    data = example()
    seat_of(data, "coo").pop("reports_to")  # the COO reports to nobody now: David is not up the line
    result = reimport(example_db, data)
    assert [c.describe() for c in result.drafts] == [
        f"draft #{draft_id} escalation withdrawn: David is no longer up the reporting line of `retention`; "
        "it escalates again to whoever is"
    ]
    with pytest.raises(Conflict, match="moved"):
        decide(example_db, DAVID, draft_id, message=("D0DAVID", "1700000000.000200"))
    with pytest.raises(Forbidden, match="not an approver"):
        decide(example_db, DAVID, draft_id)
    assert decisions(example_db, draft_id) == 0 and state(example_db, draft_id)[0] == "pending"
