"""The trust ledger, the gate's warnings and the learnings, after a scripted week at the
example org's gate (tests/support/ledger_week.py), checked figure by figure against
values worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Forbidden, Invalid, NotFound
from otp_bot.store.domain.gate import decisions, drafts, ledger, ledger_warnings
from otp_bot.store.domain.gate.learnings import MAX_DIFF, learnings, readable_learnings, unified
from otp_bot.store.domain.gate.ledger import LedgerRow, edit_size, percentile, readable_ledger, seat_ledger
from tests.support.ledger_week import PRICE, PUSHY, RATE_CARD, TOO_LONG, WRONG_NAME, play_week

OPERATOR = Actor.cli_operator("test")


@pytest.fixture
def week(example_db):
    now = utcnow().replace(microsecond=0)
    made = play_week(example_db, now)
    return example_db, now, made


def figures(row: LedgerRow) -> dict:
    return {
        "submitted": row.submitted,
        "decided": row.decided,
        "approved": row.approved,
        "rejected": row.rejected,
        "unedited": row.unedited,
        "edited": row.edited,
        "median_edit": row.median_edit,
        "median_decision": row.median_decision,
        "p90_decision": row.p90_decision,
        "reasons": list(row.reasons),
        "rounds": row.rounds,
        "revised": row.revised,
    }


def test_edit_size_counts_the_characters_changed():
    assert edit_size("Hi Sam, thanks.", "Hi Samantha, thanks.") == 5  # "antha" inserted
    assert edit_size("Hello Lee. Let me know!", "Hello Lee.") == 13  # " Let me know!" deleted
    assert edit_size("a\nb\nc", "a\nB\nc") == 1
    assert edit_size("same", "same") == 0
    assert edit_size("", "new line") == 8


def test_percentile_is_the_nearest_rank():
    assert percentile([], 0.9) is None
    assert percentile([60, 120, 240, 300, 450, 600, 900, 1200, 1800, 3600], 0.9) == 1800
    assert percentile([600, 900, 1200, 1800, 3600], 0.9) == 3600
    assert percentile([5.0], 0.9) == 5.0


def test_the_ledger_after_the_scripted_week_matches_the_hand_count(week):
    db, now, _ = week
    with db.session(readonly=True) as s:
        inbox = seat_ledger(s, "inbox", now=now)
        retention = seat_ledger(s, "retention", now=now)
        sales = seat_ledger(s, "sales", now=now)
        quiet = seat_ledger(s, "analytics", now=now)
    # inbox: 10 lead replies; approved 7 (2 edited: "antha" = 5, " Let me know!" = 13), rejected 3.
    # Times to decision (the second approval, or the rejection), sorted:
    # 60 120 240 300 450 600 900 1200 1800 3600 → median (450 + 600) / 2, p90 the 9th.
    assert figures(inbox.total) == {
        "submitted": 10,
        "decided": 10,
        "approved": 7,
        "rejected": 3,
        "unedited": 5,
        "edited": 2,
        "median_edit": 9.0,
        "median_decision": 525.0,
        "p90_decision": 1800.0,
        "reasons": [(WRONG_NAME, 2), (RATE_CARD, 1)],
        "rounds": 0,
        "revised": 0,
    }
    assert inbox.total.approval_rate == 0.7 and inbox.total.unedited_share == 0.5
    assert [k.kind for k in inbox.kinds] == ["lead-reply"]
    assert figures(inbox.kinds[0]) == figures(inbox.total)
    # retention: 6 submitted, 5 decided (one win-back waits); 1800 600 3600 900 1200 → median 1200, p90 3600.
    assert figures(retention.total) == {
        "submitted": 6,
        "decided": 5,
        "approved": 4,
        "rejected": 1,
        "unedited": 3,
        "edited": 1,
        "median_edit": 11.0,  # " this month" inserted
        "median_decision": 1200.0,
        "p90_decision": 3600.0,
        "reasons": [(PUSHY, 1)],
        "rounds": 2,
        "revised": 1,
    }
    assert retention.total.approval_rate == 0.8 and retention.total.unedited_share == 0.6
    outreach, win_back = retention.kinds
    assert (outreach.kind, outreach.submitted, outreach.decided, outreach.approved, outreach.unedited) == (
        "retention-outreach",
        4,
        4,
        3,
        2,
    )
    assert (outreach.median_decision, outreach.p90_decision, outreach.rounds, outreach.revised) == (
        1350.0,
        3600.0,
        2,
        1,
    )
    assert (win_back.kind, win_back.submitted, win_back.decided, win_back.approved, win_back.rejected) == (
        "win-back",
        2,
        1,
        1,
        0,
    )
    assert (win_back.median_decision, win_back.median_edit, win_back.reasons, win_back.rounds) == (
        1200.0,
        None,
        (),
        0,
    )
    # sales: 5 approved 10-14 days ago (1800 s each), then 600 900 1200 300 2400 this week.
    assert figures(sales.total) == {
        "submitted": 10,
        "decided": 10,
        "approved": 7,
        "rejected": 3,
        "unedited": 7,
        "edited": 0,
        "median_edit": None,
        "median_decision": 1800.0,
        "p90_decision": 1800.0,
        "reasons": [(PRICE, 2), (TOO_LONG, 1)],
        "rounds": 0,
        "revised": 0,
    }
    assert quiet.total == LedgerRow("analytics", None) and quiet.kinds == []
    assert quiet.total.approval_rate is None and quiet.total.unedited_share is None


def test_the_window_holds_the_drafts_submitted_in_it(week):
    db, now, _ = week
    with db.session(readonly=True) as s:
        last_week = seat_ledger(s, "sales", days=7, now=now)
        later = seat_ledger(s, "sales", now=now + dt.timedelta(days=20))
    assert (last_week.total.submitted, last_week.total.approved, last_week.total.rejected) == (5, 2, 3)
    assert last_week.total.median_decision == 900.0 and last_week.days == 7
    # 20 days on, the earlier proposals (10 to 14 days old) fell out of the 30 days; the week's 5 did not.
    assert later.total.submitted == 5


def test_a_rubber_stamp_and_a_rising_rejection_rate_are_found(week):
    db, now, _ = week
    with db.session(readonly=True) as s:
        warnings = ledger_warnings.gate_warnings(s, now)
    # David: 10 decisions, all approvals unedited; 5 3 8 4 6 10 2 7 5 9 s → median 5.5 s.
    assert [(w.holder_id, w.decisions, w.unedited, w.median_seconds) for w in warnings.stamps] == [
        ("david", 10, 10, 5.5)
    ]
    # Bogdan decided 25, unedited approvals 15 (60%): careful, not a rubber stamp.
    # sales: 3 of 5 rejected in the last 7 days, 0 of 5 in the 30 days before.
    assert [
        (r.seat_id, r.recent_rejected, r.recent_decided, r.before_rejected, r.before_decided) for r in warnings.rising
    ] == [("sales", 3, 5, 0, 5)]


def test_no_warning_below_the_minimums(example_db):
    now = utcnow().replace(microsecond=0)
    with example_db.session(readonly=True) as s:
        assert not ledger_warnings.gate_warnings(s, now)
    play_week(example_db, now)
    with example_db.session(readonly=True) as s:
        # A month on, the week is out of both windows.
        assert not ledger_warnings.gate_warnings(s, now + dt.timedelta(days=40))
    assert ledger_warnings.STAMP_MIN_DECISIONS == 10 and ledger_warnings.STAMP_FAST_SECONDS == 15.0


def test_learnings_give_the_reasons_and_a_diff_of_each_edit(week):
    db, now, made = week
    with db.session(readonly=True) as s:
        inbox = learnings(s, "inbox", now=now)
        outreach = learnings(s, "retention", kind="retention-outreach", now=now)
        win_back = learnings(s, "retention", kind="Win-Back", now=now)
    assert inbox.reasons == [(WRONG_NAME, 2), (RATE_CARD, 1)]
    assert [r.reason for r in inbox.rejections] == [RATE_CARD, WRONG_NAME, WRONG_NAME]  # the latest first
    assert [e.draft_id for e in inbox.edits] == [made["inbox"][4], made["inbox"][1]]
    lee = inbox.edits[0]
    assert lee.changed == 13 and not lee.cut
    assert lee.diff.splitlines() == [
        f"--- draft #{lee.draft_id}",
        "+++ approved",
        "@@ -1,2 +1 @@",
        " Hello Lee, we can start next week.",
        "-Let me know!",
    ]  # by sentence: the sentence that went, not the whole line twice
    assert outreach.kind == "retention-outreach" and outreach.reasons == [(PUSHY, 1)]
    assert "+Hi Jo, how are the new ads doing this month?" in outreach.edits[0].diff
    assert win_back.kind == "win-back" and win_back.empty


def test_a_long_diff_is_cut_at_a_line_end():
    before = "\n".join(f"line {i}" for i in range(2000))
    after = "\n".join(f"LINE {i}" for i in range(2000))
    diff, cut = unified(before, after, 7)
    assert cut and len(diff) <= MAX_DIFF and diff.endswith(tuple("0123456789"))


def test_who_may_read_a_seats_ledger_and_learnings(week):
    db, now, _ = week
    pulse, bogdan, david = (Actor(label=n, holder_id=n.lower()) for n in ("Pulse", "Bogdan", "David"))
    dirk, janine = Actor(label="Dirk", holder_id="dirk"), Actor(label="Janine", holder_id="janine")
    with db.session(readonly=True) as s:
        assert readable_ledger(s, pulse, "retention", now=now).total.submitted == 6  # its holder
        assert readable_learnings(s, bogdan, "retention", now=now).reasons  # its supervisor (and COO above)
        assert readable_ledger(s, david, "retention", now=now).total.submitted == 6  # the CEO, above it
        assert readable_ledger(s, OPERATOR, "retention", now=now).total.submitted == 6
        for who in (dirk, janine, Actor.anonymous("U0STRANGER")):
            with pytest.raises(Forbidden, match="trust ledger is for its holder"):
                readable_learnings(s, who, "retention", now=now)
            with pytest.raises(Forbidden):
                readable_ledger(s, who, "retention", now=now)
        with pytest.raises(NotFound):
            readable_ledger(s, OPERATOR, "no-such-seat")
        with pytest.raises(Invalid, match="1 to 365 days"):
            readable_ledger(s, OPERATOR, "retention", days=0)
        with pytest.raises(Invalid, match="not a kind"):
            learnings(s, "retention", kind="no kind!")


def test_every_agent_seat_with_drafts_is_in_the_org_ledger(week):
    db, now, _ = week
    with db.session(readonly=True) as s:
        seats = ledger.agent_seat_ledgers(s, now - dt.timedelta(days=7), now)
    assert [(x.seat_id, x.total.submitted, x.total.approved, x.total.decided) for x in seats] == [
        ("retention", 6, 4, 5),
        ("sales", 5, 2, 5),
        ("inbox", 10, 7, 10),
    ]


def _approvals(db, now, seconds: list[int], *, edited: int = 0, rejected: int = 0, days: int = 1, seat="retention"):
    """Drafts of a seat decided by Bogdan `seconds` after going to approval: the first
    `edited` approved with an edit, the next `rejected` rejected, the rest approved as drafted."""
    agent = {"retention": Actor(label="Pulse", holder_id="pulse"), "sales": Actor(label="Dirk", holder_id="dirk")}[seat]
    bogdan = Actor(label="Bogdan", holder_id="bogdan")
    for n, after in enumerate(seconds):
        queued = now - dt.timedelta(days=days, minutes=n)
        with db.session() as s:
            draft = drafts.submit_draft(
                s, agent, seat_id=seat, kind="note", subject="client:acme", title="t", body="Hi", now=queued
            ).draft
            at = queued + dt.timedelta(seconds=after)
            if n < edited:
                decisions.decide(s, bogdan, draft.id, "approve", edited_body="Hi there", now=at)
            elif n < edited + rejected:
                decisions.decide(s, bogdan, draft.id, "reject", reason="no", now=at)
            else:
                decisions.decide(s, bogdan, draft.id, "approve", now=at)


def _stamped(db, now) -> list[tuple[str, int, int, float]]:
    with db.session(readonly=True) as s:
        return [(w.holder_id, w.decisions, w.unedited, w.median_seconds) for w in ledger_warnings.rubber_stamps(s, now)]


def test_a_rubber_stamp_takes_ten_decisions(example_db):
    now = utcnow().replace(microsecond=0)
    _approvals(example_db, now, [5] * 9)
    assert _stamped(example_db, now) == []
    _approvals(example_db, now, [5], days=2)
    assert _stamped(example_db, now) == [("bogdan", 10, 10, 5.0)]


def test_one_edit_in_ten_is_no_rubber_stamp_one_in_twenty_is(example_db):
    now = utcnow().replace(microsecond=0)
    _approvals(example_db, now, [5] * 10, edited=1)  # 90% unedited, under 95%
    assert _stamped(example_db, now) == []
    _approvals(example_db, now, [5] * 10, days=2)  # 19 of 20: 95%
    assert _stamped(example_db, now) == [("bogdan", 20, 19, 5.0)]


def test_a_median_of_fifteen_seconds_is_no_rubber_stamp(example_db):
    now = utcnow().replace(microsecond=0)
    _approvals(example_db, now, [15] * 10)
    assert _stamped(example_db, now) == []
    _approvals(example_db, now, [1] * 2, days=2)  # 12 decisions: median (15 + 15) / 2 still
    assert _stamped(example_db, now) == []
    _approvals(example_db, now, [1] * 2, days=3)  # 14: 1 1 1 1 15 ... → median 15
    _approvals(example_db, now, [1] * 2, days=4)  # 16: the 8th and 9th are 15 → 15
    assert _stamped(example_db, now) == []
    _approvals(example_db, now, [1] * 2, days=5)  # 18: 8 ones and 10 fifteens → median (15 + 15) / 2
    _approvals(example_db, now, [1] * 4, days=6)  # 22: 12 ones → the 11th and 12th are 1 → 1.0
    assert _stamped(example_db, now) == [("bogdan", 22, 22, 1.0)]


def test_rejections_rising_by_twenty_points_with_five_decided_each_side(example_db):
    now = utcnow().replace(microsecond=0)
    _approvals(example_db, now, [600] * 5, days=12, seat="sales")  # before: 0 of 5 rejected
    _approvals(example_db, now, [600] * 4, rejected=3, seat="sales")  # recent: 3 of 4, too few
    with example_db.session(readonly=True) as s:
        assert ledger_warnings.rising_rejections(s, now) == []
    _approvals(example_db, now, [600], days=2, seat="sales")  # recent: 3 of 5 → 60 points up
    with example_db.session(readonly=True) as s:
        (rising,) = ledger_warnings.rising_rejections(s, now)
    assert (rising.seat_id, rising.recent_rate, rising.before_rate) == ("sales", 0.6, 0.0)


def test_a_steady_rejection_rate_is_not_rising(example_db):
    now = utcnow().replace(microsecond=0)
    _approvals(example_db, now, [600] * 5, rejected=2, days=12, seat="sales")  # 40% before
    _approvals(example_db, now, [600] * 5, rejected=3, seat="sales")  # 60% now: up 20 points, the threshold
    with example_db.session(readonly=True) as s:
        assert [r.seat_id for r in ledger_warnings.rising_rejections(s, now)] == ["sales"]
    _approvals(example_db, now, [600] * 5, rejected=3, days=14, seat="sales")  # before: 5 of 10, 50%
    with example_db.session(readonly=True) as s:
        assert ledger_warnings.rising_rejections(s, now) == []  # up 10 points: steady enough
