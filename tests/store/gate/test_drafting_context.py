"""What a seat's holder reads before drafting, against the example org: the seat's recent
rejections of one kind, the drafts that are theirs, and who may ask for either."""

from __future__ import annotations

import pytest

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.errors import Forbidden, Invalid
from otp_bot.store.domain.gate.drafting import drafting_context, own_seats
from otp_bot.store.domain.gate.learnings import learnings
from otp_bot.store.domain.gate.queries import drafts_of
from tests.support.drafts import BOGDAN, DIRK, OPERATOR, PULSE, decide, flag_acme, submit


def test_the_latest_rejections_are_the_seats_of_that_kind_newest_first_with_who_said_no(example_db):
    first = submit(example_db, title="First")
    second = submit(example_db, title="Second")
    approved = submit(example_db, title="Approved")
    other_kind = submit(example_db, kind="winback", title="Other kind")
    decide(example_db, BOGDAN, first, "reject", reason="Too long")
    decide(example_db, BOGDAN, second, "reject", reason="Too pushy")
    decide(example_db, BOGDAN, approved)
    decide(example_db, BOGDAN, other_kind, "reject", reason="Wrong kind")
    with example_db.session(readonly=True) as s:
        found = learnings(s, "retention", kind="retention-outreach").rejections
        assert [(r.draft_id, r.reason, r.by, r.subject) for r in found] == [
            (second, "Too pushy", ["Bogdan"], "client:acme"),
            (first, "Too long", ["Bogdan"], "client:acme"),
        ]
        assert [r.draft_id for r in learnings(s, "retention", kind="Retention-Outreach ").rejections] == [second, first]
        assert learnings(s, "sales", kind="retention-outreach").rejections == []


def test_the_drafting_context_is_for_the_seats_holder(example_db):
    flag_acme(example_db)
    rejected = submit(example_db)
    decide(example_db, BOGDAN, rejected, "reject", reason="Not now")
    with example_db.session(readonly=True) as s:
        c = drafting_context(s, PULSE, "retention", " Retention-Outreach", "Client:Acme")
        assert (c.seat.id, c.kind, c.subject) == ("retention", "retention-outreach", "client:acme")
        assert [r.reason for r in c.learnings.rejections] == ["Not now"] and [f.flag for f in c.flags] == ["at-risk"]
        assert drafting_context(s, OPERATOR, "retention", "retention-outreach", "client:acme").seat.id == "retention"
        with pytest.raises(Forbidden, match="seat `retention` is held by Pulse; you can prepare only for seats"):
            drafting_context(s, DIRK, "retention", "retention-outreach", "client:acme")
        with pytest.raises(Invalid, match="not a draft kind"):
            drafting_context(s, PULSE, "retention", "two words", "client:acme")
        with pytest.raises(Invalid, match="one word"):
            drafting_context(s, PULSE, "retention", "retention-outreach", "client acme")
        assert [x.id for x in own_seats(s, PULSE)] == ["retention"]
        assert len(own_seats(s, OPERATOR)) == 15
        with pytest.raises(Forbidden, match="you hold no seat"):
            own_seats(s, Actor.anonymous("U0NOBODY"))


def test_drafts_of_are_the_seats_held_and_those_drafted(example_db):
    mine = submit(example_db)
    dirks = submit(example_db, actor=DIRK, seat_id="sales", kind="expansion", subject="client:globex")
    with example_db.session(readonly=True) as s:
        assert [d.id for d in drafts_of(s, PULSE)] == [mine]
        assert [d.id for d in drafts_of(s, DIRK)] == [dirks]
        assert [d.id for d in drafts_of(s, OPERATOR)] == [dirks, mine]
        assert drafts_of(s, Actor.anonymous("U0NOBODY")) == []
        assert drafts_of(s, PULSE, status="approved") == []
        with pytest.raises(Invalid, match="`later` is not a draft status"):
            drafts_of(s, PULSE, status="later")
        with pytest.raises(Invalid, match="between 1 and"):
            drafts_of(s, PULSE, limit=0)
