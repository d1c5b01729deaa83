"""A scripted week at the gate of the example org (Acme Agency), for the trust ledger's tests.

Every draft is submitted and decided through the domain with its own clock, `days` before
`now` at 09:00 plus a few minutes; each decision says how many seconds after the draft
went to approval it was made. The figures the ledger must show are worked out by hand in
tests/store/gate/test_ledger.py.

- inbox (Pepper; David and Bogdan must both approve): 10 lead replies this week. David
  approves every one, unedited, within 2 to 10 seconds (a rubber stamp); Bogdan reads them:
  he approves 5 as they are, edits 2 and rejects 3.
- retention (Pulse; Bogdan approves): 4 outreach drafts and 2 win-back drafts this week;
  one edit, one rejection after two rounds of changes, one win-back still waiting.
- sales (Dirk; Bogdan approves): 5 proposals approved 10 to 14 days ago, then 5 this week of
  which 3 are rejected (its rejection rate rose).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from otp_bot.store.db import Database
from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.gate import decisions, drafts

PULSE = Actor(label="Pulse", holder_id="pulse")
DIRK = Actor(label="Dirk", holder_id="dirk")
PEPPER = Actor(label="Pepper", holder_id="pepper")
BOGDAN = Actor(label="Bogdan", holder_id="bogdan")
DAVID = Actor(label="David", holder_id="david")

WRONG_NAME = "Wrong first name; read the lead form"
RATE_CARD = "Quote the price from the rate card"
PUSHY = "Too pushy; offer a call instead"
PRICE = "Price is wrong; use the 2027 rate card"
TOO_LONG = "Too long; keep it under 120 words"

# (who, verdict, seconds after queueing, reason or edited text)
Step = tuple[Actor, str, int, str | None]


@dataclass(frozen=True)
class Scripted:
    seat: str
    agent: Actor
    kind: str
    days: int  # days before `now`
    body: str
    steps: tuple[Step, ...]
    changes_requested: int = 0  # rounds of "request changes" before the steps


def _inbox() -> list[Scripted]:
    plain = "Hi Sam, thanks for reaching out. We will call you today."
    return [
        Scripted(
            "inbox", PEPPER, "lead-reply", 6, plain, ((DAVID, "approve", 5, None), (BOGDAN, "approve", 600, None))
        ),
        Scripted(
            "inbox",
            PEPPER,
            "lead-reply",
            6,
            "Hi Sam, thanks for reaching out.",
            ((DAVID, "approve", 3, None), (BOGDAN, "approve", 1200, "Hi Samantha, thanks for reaching out.")),
        ),
        Scripted(
            "inbox", PEPPER, "lead-reply", 5, plain, ((DAVID, "approve", 8, None), (BOGDAN, "reject", 900, WRONG_NAME))
        ),
        Scripted(
            "inbox", PEPPER, "lead-reply", 5, plain, ((DAVID, "approve", 4, None), (BOGDAN, "approve", 300, None))
        ),
        Scripted(
            "inbox",
            PEPPER,
            "lead-reply",
            4,
            "Hello Lee, we can start next week. Let me know!",
            ((DAVID, "approve", 6, None), (BOGDAN, "approve", 1800, "Hello Lee, we can start next week.")),
        ),
        Scripted(
            "inbox", PEPPER, "lead-reply", 4, plain, ((DAVID, "approve", 10, None), (BOGDAN, "approve", 450, None))
        ),
        Scripted(
            "inbox", PEPPER, "lead-reply", 3, plain, ((DAVID, "approve", 2, None), (BOGDAN, "reject", 240, WRONG_NAME))
        ),
        Scripted(
            "inbox", PEPPER, "lead-reply", 2, plain, ((DAVID, "approve", 7, None), (BOGDAN, "approve", 3600, None))
        ),
        Scripted(
            "inbox", PEPPER, "lead-reply", 1, plain, ((DAVID, "approve", 5, None), (BOGDAN, "approve", 120, None))
        ),
        Scripted(
            "inbox", PEPPER, "lead-reply", 1, plain, ((DAVID, "approve", 9, None), (BOGDAN, "reject", 60, RATE_CARD))
        ),
    ]


def _retention() -> list[Scripted]:
    hi = "Hi Jo, how are the new ads doing?"
    return [
        Scripted("retention", PULSE, "retention-outreach", 6, hi, ((BOGDAN, "approve", 1800, None),)),
        Scripted(
            "retention",
            PULSE,
            "retention-outreach",
            5,
            hi,
            ((BOGDAN, "approve", 600, "Hi Jo, how are the new ads doing this month?"),),
        ),
        Scripted(
            "retention", PULSE, "retention-outreach", 4, hi, ((BOGDAN, "reject", 3600, PUSHY),), changes_requested=2
        ),
        Scripted("retention", PULSE, "retention-outreach", 3, hi, ((BOGDAN, "approve", 900, None),)),
        Scripted("retention", PULSE, "win-back", 2, "We miss you, Acme.", ((BOGDAN, "approve", 1200, None),)),
        Scripted("retention", PULSE, "win-back", 1, "We miss you, Acme. Coffee?", ()),  # still waiting
    ]


def _sales() -> list[Scripted]:
    pitch = "Our Q1 proposal for Acme: three campaigns, one report a week."
    earlier = [
        Scripted("sales", DIRK, "proposal", d, pitch, ((BOGDAN, "approve", 1800, None),)) for d in range(14, 9, -1)
    ]
    return [
        *earlier,
        Scripted("sales", DIRK, "proposal", 5, pitch, ((BOGDAN, "approve", 600, None),)),
        Scripted("sales", DIRK, "proposal", 4, pitch, ((BOGDAN, "reject", 900, PRICE),)),
        Scripted("sales", DIRK, "proposal", 3, pitch, ((BOGDAN, "reject", 1200, PRICE),)),
        Scripted("sales", DIRK, "proposal", 2, pitch, ((BOGDAN, "reject", 300, TOO_LONG),)),
        Scripted("sales", DIRK, "proposal", 1, pitch, ((BOGDAN, "approve", 2400, None),)),
    ]


def script() -> list[Scripted]:
    return [*_inbox(), *_retention(), *_sales()]


def play_week(db: Database, now: dt.datetime) -> dict[str, list[int]]:
    """Submit and decide the scripted drafts; seat id → its draft ids, in script order."""
    made: dict[str, list[int]] = {}
    day = now.replace(hour=9, minute=0, second=0, microsecond=0)
    if day > now - dt.timedelta(hours=2):  # early in the day: the script's "today" ends before now
        day -= dt.timedelta(days=1)
    for n, s in enumerate(script()):
        queued = day - dt.timedelta(days=s.days) + dt.timedelta(minutes=n)
        with db.session() as session:
            draft = drafts.submit_draft(
                session,
                s.agent,
                seat_id=s.seat,
                kind=s.kind,
                subject="client:acme" if s.seat != "inbox" else "lead:sam",
                title=f"{s.kind} {n}",
                body=s.body,
                now=queued,
            ).draft
            made.setdefault(s.seat, []).append(draft.id)
            for _ in range(s.changes_requested):
                audit.record(session, BOGDAN.audit_name, "draft.changes_requested", f"draft:{draft.id}", note="softer")
            for who, verdict, after, text in s.steps:
                decisions.decide(
                    session,
                    who,
                    draft.id,
                    verdict,
                    reason=text if verdict == "reject" else None,
                    edited_body=text if verdict == "approve" else None,
                    now=queued + dt.timedelta(seconds=after),
                )
    return made
