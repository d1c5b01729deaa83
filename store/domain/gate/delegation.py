"""Out-of-office delegation: a person's approvals decided by a named person for a period.

While a delegation is in force the delegate may decide the drafts the delegator may decide
as an approver or as the person a draft escalated to (a user group is Slack's to answer
for the person asking, so it does not pass on). It does not chain: a delegate decides for
the people who delegated to them, never for whoever delegated to those. The drafter never
decides their own draft, under a delegation or not (`decisions.can_decide` says so first).
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, object_session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import Delegation, Draft, DraftDecision, Holder

MAX_DAYS = 366
MAX_REASON = 500
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def _in_force(now: dt.datetime):
    return (Delegation.starts_at <= now) & (Delegation.ends_at > now) & Delegation.ended_at.is_(None)


def find_person(session: Session, text: str) -> Holder:
    """A person as typed: a Slack mention, `@name`, a holder id or a holder's name."""
    word = text.strip()
    if found := MENTION.match(word):
        holder = session.scalar(select(Holder).where(Holder.slack_user == found.group(1)))
    else:
        word = word.removeprefix("@")
        holder = session.get(Holder, word)
        if holder is None:
            named = session.scalars(select(Holder).where(func.lower(Holder.name) == word.lower()).limit(2)).all()
            if len(named) > 1:
                raise Invalid(f"more than one person is called `{word[:60]}`", hint="mention them, e.g. @janine")
            holder = named[0] if named else None
    if holder is None:
        raise Invalid(f"`{text[:60]}` is not on the chart", hint="delegate to a person the chart names")
    return holder


def parse_day(text: str, now: dt.datetime) -> dt.datetime:
    """`2026-12-20`: the delegation holds through that whole day (UTC); the moment it ends."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(f"`{text[:40]}` is not a date", hint="give the last day, e.g. `until 2026-12-20`") from None
    if day < now.date():
        raise Invalid(f"{day.isoformat()} is in the past; a delegation must end today or later")
    if (day - now.date()).days > MAX_DAYS:
        raise Invalid(f"{day.isoformat()} is more than a year ahead; delegate for a shorter period")
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def current(session: Session, now: dt.datetime | None = None) -> list[Delegation]:
    """Every delegation in force, the soonest to end first."""
    now = now or utcnow()
    return list(session.scalars(select(Delegation).where(_in_force(now)).order_by(Delegation.ends_at)))


def _outgoing(session: Session, holder_id: str, now: dt.datetime) -> Delegation | None:
    return session.scalar(select(Delegation).where(_in_force(now), Delegation.delegator_id == holder_id).limit(1))


def standing_in_for(session: Session, holder_id: str, now: dt.datetime | None = None) -> set[str]:
    """The people whose approvals this person may decide now."""
    now = now or utcnow()
    return set(
        session.scalars(select(Delegation.delegator_id).where(_in_force(now), Delegation.delegate_id == holder_id))
    )


def delegate(
    session: Session, actor: Actor, to: str, until: str, reason: str | None = None, now: dt.datetime | None = None
) -> Delegation:
    """Hand this person's approvals to `to` through the day `until`; a delegation already in
    force from this person is replaced (and recorded as ended)."""
    now = now or utcnow()
    if actor.holder_id is None:
        raise Forbidden("only a person on the chart can delegate their approvals")
    person = find_person(session, to)
    ends = parse_day(until, now)
    if person.id == actor.holder_id:
        raise Invalid("you cannot delegate to yourself", hint="name the person who decides while you are away")
    if person.is_agent:
        raise Invalid(f"{person.name} is an agent; approvals are delegated to a person")
    reason = clean_text(reason, "the reason", multiline=False)[:MAX_REASON] or None
    if (theirs := _outgoing(session, person.id, now)) is not None:
        raise Conflict(
            f"{person.name} has delegated their own approvals to {theirs.delegate.name} until "
            f"{last_day(theirs)}; delegation does not chain",
            hint="delegate to someone who is not away",
        )
    if mine := standing_in_for(session, actor.holder_id, now):
        names = ", ".join(sorted(h.name for h in session.scalars(select(Holder).where(Holder.id.in_(mine)))))
        raise Conflict(
            f"you stand in for {names} now; delegation does not chain",
            hint="they can delegate to someone else themselves",
        )
    if (previous := _outgoing(session, actor.holder_id, now)) is not None:
        previous.ended_at = now
        audit.record(
            session, actor.audit_name, "delegation.ended", f"holder:{actor.holder_id}", to=previous.delegate_id
        )
    row = Delegation(delegator_id=actor.holder_id, delegate_id=person.id, starts_at=now, ends_at=ends, reason=reason)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor.audit_name,
        "delegation.set",
        f"holder:{actor.holder_id}",
        to=person.id,
        until=last_day(row),
        reason=reason,
    )
    return row


def end(session: Session, actor: Actor, now: dt.datetime | None = None) -> Delegation:
    """End this person's delegation in force now; they decide their approvals again."""
    now = now or utcnow()
    if actor.holder_id is None or (row := _outgoing(session, actor.holder_id, now)) is None:
        raise Invalid("you have no delegation in force; nothing changed")
    row.ended_at = now
    audit.record(session, actor.audit_name, "delegation.ended", f"holder:{actor.holder_id}", to=row.delegate_id)
    return row


def last_day(row: Delegation) -> str:
    """The last day a delegation holds, as it was given."""
    return (as_utc(row.ends_at) - dt.timedelta(days=1)).date().isoformat()


def on_behalf_of(draft: Draft, actor: Actor, approvers: list[str], now: dt.datetime | None = None) -> str | None:
    """The person this actor may decide `draft` for under a delegation in force, or None."""
    session = object_session(draft)
    if session is None or actor.holder_id is None:
        return None
    return _delegator(session, draft, actor.holder_id, approvers, now or utcnow())


def _delegator(session: Session, draft: Draft, holder_id: str, approvers: list[str], now: dt.datetime) -> str | None:
    """The delegator must be one who may decide the draft (an approver of `approvers`, or the
    person it escalated to) and not have decided it yet; never the drafter, nor for the drafter."""
    if holder_id == draft.drafted_by:
        return None
    deciders = {*approvers, *([draft.escalated_to] if draft.escalated_to else [])} - {draft.drafted_by}
    deciders -= {d.holder_id for d in draft.decisions} | {d.on_behalf_of for d in draft.decisions}
    if not deciders:
        return None
    return session.scalars(
        select(Delegation.delegator_id)
        .where(_in_force(now), Delegation.delegate_id == holder_id, Delegation.delegator_id.in_(deciders))
        .order_by(Delegation.delegator_id)
    ).first()


@event.listens_for(DraftDecision, "before_insert")
def _note_on_behalf(_mapper: object, _connection: object, decision: DraftDecision) -> None:
    """A decision made as a delegate names whom for, as it is written: `approvals` counts it as
    theirs, and the audit note (`on_behalf.decide`) reads it from the row."""
    session = object_session(decision)
    if session is None or decision.on_behalf_of is not None:
        return
    draft = session.get(Draft, decision.draft_id)  # the decision's draft, locked and loaded already
    if draft is None:
        return
    stood_in = next((d for d in draft.decisions if d.on_behalf_of == decision.holder_id), None)
    if stood_in is not None:  # one person's say counts once, whoever gave it
        raise Conflict(
            f"{stood_in.holder.name} already decided draft #{draft.id} on your behalf while you were away; "
            "nothing changed"
        )
    if decision.holder_id in draft.approvers or decision.holder_id == draft.escalated_to:
        return  # an approver in their own right decides for themselves
    decision.on_behalf_of = _delegator(session, draft, decision.holder_id, draft.approvers, utcnow())
