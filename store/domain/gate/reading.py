"""Reading a draft: by number, as an agent or a person may see it, and what became of it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.locks import hold_chart
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid, NotFound
from otp_bot.store.domain.gate.autonomy import POLICY
from otp_bot.store.domain.gate.follow_chart import MOVED, where_to
from otp_bot.store.domain.gate.routing import Route
from otp_bot.store.models import Draft, DraftDecision, Holder


def draft_number(draft_id: int | str) -> int:
    """The number of `12` or `#12`; Invalid for anything else."""
    try:
        return int(str(draft_id).strip().lstrip("#"))
    except ValueError:
        raise Invalid(
            f"`{str(draft_id)[:40]}` is not a draft number", hint="drafts are numbered, e.g. `draft 12`"
        ) from None


def _no_draft(number: int) -> NotFound:
    return NotFound(f"there is no draft #{number}", hint="`drafts all` lists the recent ones")


# What a decision reads of its draft, joined into one query instead of one per collection.
_DECIDING = (
    joinedload(Draft.decisions),
    joinedload(Draft.messages),
    joinedload(Draft.change_request),
    joinedload(Draft.drafter, Holder.supervisor),  # who hears of the decision
)


def get_draft(session: Session, draft_id: int | str, *, lock: bool = False) -> Draft:
    """The draft; `lock=True` for a change: its row is locked until the transaction ends
    (after the chart's share lock), and it is read afresh after the lock is taken, with its
    decisions, messages and request for changes."""
    number = draft_number(draft_id)
    # Out of the integer column's range the database raises instead of finding nothing.
    if not 0 < number < 2**31:
        raise _no_draft(number)
    if not lock:
        draft = session.get(Draft, number)
    else:
        if session.get_bind().dialect.name == "postgresql":  # SQLite's writers queue before they read
            # The chart first: a change to a draft is judged by the chart, and an import
            # brings every waiting draft in line with the new one (chart/locks.py).
            hold_chart(session)
            # Locked by a statement of its own: in READ COMMITTED a query that waited for the
            # lock returns the locked row as it is now, but the rows it joins as they were
            # when it began, so a decision committed meanwhile would not be counted.
            session.execute(select(Draft.id).where(Draft.id == number).with_for_update())
        draft = session.get(Draft, number, populate_existing=True, options=_DECIDING)
    if draft is None:
        raise _no_draft(number)
    return draft


def draft_usergroup(session: Session, draft_id: int | str) -> str | None:
    """The user group that may decide the draft, if any: one column, not the draft and what it loads with it."""
    number = draft_number(draft_id)
    found = session.execute(select(Draft.usergroup).where(Draft.id == number)).first() if 0 < number < 2**31 else None
    if found is None:
        raise _no_draft(number)
    return found[0]


def readable_draft(session: Session, actor: Actor, draft_id: int | str) -> Draft:
    """A draft as an agent reads it: an operator reads every draft, a holder the drafts of
    the seats they hold and the ones they drafted themselves (before a seat changed hands)."""
    draft = get_draft(session, draft_id)
    if actor.operator or (actor.holder_id is not None and actor.holder_id in (draft.drafted_by, draft.seat.holder_id)):
        return draft
    raise Forbidden(f"draft #{draft.id} is seat `{draft.seat_id}`'s; you can read only the drafts of seats you hold")


def draft_for_person(session: Session, actor: Actor, draft_id: int | str) -> Draft:
    """A draft as a person sees it in Slack: everyone on the chart (approvers decide from it,
    leads follow their seats' drafts); nobody who is not on the chart, since drafts are
    text meant for customers."""
    if not actor.operator and actor.holder_id is None:
        raise Forbidden(
            "drafts are shown only to people on the chart",
            hint="ask an operator to add your Slack user to the chart file",
        )
    return get_draft(session, draft_id)


def draft_from_message(session: Session, actor: Actor, draft_id: int | str, message: tuple[str, str]) -> Draft:
    """A draft read from a button on its approval message ("Show full text"): the button must
    be on that draft's own message, as for every button, and the reader on the chart, as
    for `/otp draft`. So changing a button's value opens no other draft."""
    if not actor.operator and actor.holder_id is None:
        raise Forbidden(
            "drafts are shown only to people on the chart",
            hint="ask an operator to add your Slack user to the chart file",
        )
    draft = get_draft(session, draft_id)
    check_message(session, draft, message)
    return draft


def status_of(session: Session, draft_id: int) -> str | None:
    """Just the status, for a waiter polling for a decision: one indexed read, nothing loaded."""
    return session.scalar(select(Draft.status).where(Draft.id == draft_id))


def current_text(draft: Draft) -> str:
    return draft.final_body if draft.final_body is not None else draft.body


def approvals(draft: Draft) -> list[DraftDecision]:
    """The approvals that count under the draft's route as the chart has it now. An approver
    the chart removed no longer speaks for the draft: their click stays on record (and in
    the audit log) but is not counted toward the quorum. With a user group on the route,
    membership was checked at the click, so every approval counts. A delegate's approval
    counts as the delegator's, and one person's say counts once."""
    counted: list[DraftDecision] = []
    whose: set[str] = set()
    for d in draft.decisions:
        person = d.on_behalf_of or d.holder_id
        if (
            d.verdict == "approve"
            and person not in whose
            and (draft.usergroup is not None or person in draft.approvers or person == draft.escalated_to)
        ):
            counted.append(d)
            whose.add(person)
    return counted


def approver_names(session: Session, draft: Draft) -> str:
    return _names(session, draft.approvers, draft.usergroup, draft.escalated_to)


def route_names(session: Session, route: Route, draft: Draft) -> str:
    return _names(session, route.approvers, route.usergroup, draft.escalated_to)


def _names(session: Session, approvers: list[str], usergroup: str | None, escalated_to: str | None) -> str:
    ids = [*approvers, *([escalated_to] if escalated_to else [])]
    names = list(session.scalars(select(Holder.name).where(Holder.id.in_(ids)))) if ids else []
    if usergroup:
        names.append(f"members of the user group {usergroup}")
    return ", ".join(names) or "nobody"


def outcome(session: Session, draft: Draft) -> str:
    """What happened to the draft, in one plain sentence: what the drafting agent reads."""
    last = draft.decisions[-1] if draft.decisions else None
    who = last.holder.name if last else "?"
    when = as_utc(draft.decided_at).strftime("%Y-%m-%d %H:%M UTC") if draft.decided_at else ""
    match draft.status:
        case "held":
            return f"held: {draft.hold_reason}"
        case "pending":
            got = len(approvals(draft))
            more = f"; {got} of {draft.required} approvals so far" if draft.required > 1 else ""
            return f"waiting for a decision by {approver_names(session, draft)}{more}"
        case "approved" if draft.decided_by == POLICY:
            return f"approved by policy at {when}: the seat earned autonomy for {draft.kind}"
        case "approved":
            names = ", ".join(d.holder.name for d in approvals(draft))
            return f"approved {'with edits ' if draft.edited else ''}by {names} at {when}"
        case "rejected":
            return f"rejected by {who} at {when}: {draft.reason}"
        case "expired":
            return f"expired at {when}: nobody decided it in time"
        case "withdrawn":
            return f"withdrawn at {when}: {draft.reason}" if draft.reason else f"withdrawn at {when}"
        case "changes-requested" | "revised":
            asked = draft.change_request
            said = (
                f"changes requested by {asked.holder.name} at {as_utc(asked.at).strftime('%Y-%m-%d %H:%M UTC')}: "
                f"{asked.text}"
                if asked
                else "changes requested"
            )
            if draft.status == "revised":
                return (
                    f"revised by draft #{draft.revised_by.id} after {said}"
                    if draft.revised_by
                    else f"revised after {said}"
                )
            return f"{said}; submit a revision with `revises: {draft.id}`"
    return draft.status


def check_message(session: Session, draft: Draft, message: tuple[str, str] | None) -> None:
    if message is None:
        return
    found = next((m for m in draft.messages if (m.channel, m.ts) == message), None)
    if found is None and draft.status == "revised":
        by = f"draft #{draft.revised_by.id}" if draft.revised_by else "its revision"
        raise Conflict(
            f"draft #{draft.id} was revised: this message now shows {by} in its place; nothing changed",
            hint="decide the revision from the message as it shows now",
        )
    if found is None:
        raise Conflict(
            f"that button is not on draft #{draft.id}'s approval message; nothing changed",
            hint=f"open draft #{draft.id} with `/otp draft {draft.id}`",
        )
    if found.purpose == MOVED and draft.status == "pending":
        raise Conflict(
            f"draft #{draft.id} moved to {where_to(session, draft)} when the chart's approval route "
            "changed; nothing changed here",
            hint="decide it from its new approval message",
        )
