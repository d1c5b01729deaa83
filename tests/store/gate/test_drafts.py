"""The human gate's rules, against the example org: submitting, routing, and holding by policy
while a flag is up."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid, NotFound
from otp_bot.store.domain.gate import drafts, flags, reading
from otp_bot.store.domain.gate import queries as gate_queries
from otp_bot.store.domain.gate.queries import history, policies_holding
from otp_bot.store.models import Draft, Flag, OutboxItem
from tests.support.drafts import (
    BOGDAN,
    BOGDAN_SLACK,
    DASH,
    DAVID,
    DIRK,
    HELD,
    OPERATOR,
    PULSE,
    count,
    decide,
    flag_acme,
    load,
    submit,
    work,
)


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
                reading.get_draft(s, number)


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
