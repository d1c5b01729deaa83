"""Agent drafts: submitted for a seat, read by agents and people, held by policy or sent to approval."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from otp_bot.store.domain import audit, outbox
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_seat
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid, NotFound
from otp_bot.store.domain.gate.autonomy import POLICY, approved_by_policy
from otp_bot.store.domain.gate.callback_targets import NOTHING, Allowlist, check_url
from otp_bot.store.domain.gate.follow_chart import MOVED, where_to
from otp_bot.store.domain.gate.notices import notify_people, queue_message_update
from otp_bot.store.domain.gate.policies import hold_for
from otp_bot.store.domain.gate.revisions import check_revisable, take_place
from otp_bot.store.domain.gate.routing import Route, route_for
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import Draft, DraftDecision, DraftMessage, Holder

KIND = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
SLACK_TARGET = re.compile(r"^[CGDUW][A-Z0-9]{2,31}$")
SUBJECT = re.compile(r"^\S{1,200}$")  # as in flags: policies match drafts to flags by subject
MAX_BODY = 20_000
READS_ONLY = ("view-only", "advisory")  # authority levels whose holders never act, so never draft


@dataclass
class Submitted:
    draft: Draft
    created: bool  # False when the idempotency key had been seen: the same draft is returned


# ------------------------------------------------------------------------- reading


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
    """The draft; `lock=True` for a change: its row is locked until the transaction ends,
    and it is read afresh after the lock is taken, with its decisions, messages and request
    for changes."""
    number = draft_number(draft_id)
    # Out of the integer column's range the database raises instead of finding nothing.
    if not 0 < number < 2**31:
        raise _no_draft(number)
    if not lock:
        draft = session.get(Draft, number)
    else:
        if session.get_bind().dialect.name == "postgresql":  # SQLite's writers queue before they read
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


# ------------------------------------------------------------------------- submitting


def parse_destination(text: str | None, callback_allow: Allowlist = NOTHING) -> str | None:
    """A Slack channel or user id, or an http(s) callback URL; None for no destination. A URL
    whose host is a non-public address (or `localhost`) is refused unless `callback_allow`
    (OTP_CALLBACK_ALLOW) covers it; names are checked when delivered (callback_targets.py)."""
    text = (text or "").strip()
    if not text:
        return None
    if text.lower().startswith(("https://", "http://")) and len(text) <= 500 and " " not in text:
        check_url(text, callback_allow)
        return text
    slack_id = text.removeprefix("slack:").lstrip("#@").upper()
    if SLACK_TARGET.match(slack_id):
        return slack_id
    raise Invalid(
        f"`{text[:60]}` is not a destination I can deliver to",
        hint="give a Slack channel or user id (C0123ABC, U0123ABC) or an https:// callback URL",
    )


def required_text(value: str | None, name: str, limit: int, *, multiline: bool = False) -> str:
    """Titles and subjects are one line; bodies and edits may span lines (text_rules)."""
    value = clean_text(value, f"the {name}", multiline=multiline, limit=limit)
    if not value:
        raise Invalid(f"the draft needs a {name}")
    return value


def submit_draft(
    session: Session,
    actor: Actor,
    *,
    seat_id: str,
    kind: str,
    subject: str,
    title: str,
    body: str,
    customer_facing: bool = True,
    destination: str | None = None,
    key: str | None = None,
    now: dt.datetime | None = None,
    callback_allow: Allowlist = NOTHING,
    revises: int | str | None = None,
) -> Submitted:
    """A new draft, or with `revises` the revision of a draft whose changes were requested:
    it takes that draft's place on its approval message (revisions.py)."""
    now = now or utcnow()
    seat = get_seat(session, seat_id)
    if not actor.operator and (actor.holder_id is None or seat.holder_id != actor.holder_id):
        raise Forbidden(
            f"you can submit drafts only for seats you hold; `{seat.id}` is held by "
            f"{seat.holder.name if seat.holder else 'nobody'}"
        )
    if seat.status != "active" or seat.holder is None:
        raise Invalid(f"seat `{seat.id}` is {seat.status}; only an active seat's holder drafts")
    if seat.authority in READS_ONLY:
        raise Forbidden(
            f"seat `{seat.id}` is {seat.authority}: it reads and reports, it does not draft",
            hint="give the seat another authority level in the chart file if it should draft",
        )
    kind = (kind or "").strip().lower()
    if not KIND.match(kind):
        raise Invalid(f"`{kind[:40]}` is not a draft kind", hint="a kind is a short word like retention-outreach")
    subject = required_text(subject, "subject", 200).lower()
    if not SUBJECT.match(subject):  # flags are one word: a subject with spaces could never be held
        raise Invalid("name the subject in one word, like client:acme")
    title, body = required_text(title, "title", 200), required_text(body, "body", MAX_BODY, multiline=True)
    destination = parse_destination(destination, callback_allow)
    key = (key or "").strip()[:200] or None
    if key:
        existing = session.scalar(select(Draft).where(Draft.seat_id == seat.id, Draft.idem_key == key))
        if existing is not None:
            revising = draft_number(revises) if revises is not None and str(revises).strip() else None
            same = (
                existing.kind,
                existing.subject,
                existing.title,
                existing.body,
                existing.destination,
                existing.revises,
            ) == (kind, subject, title, body, destination, revising)
            if not same:
                raise Conflict(
                    f"key `{key}` was used for draft #{existing.id}, with different content",
                    hint="use a new key for a new draft",
                )
            return Submitted(existing, False)
    route = route_for(session, seat, kind, seat.holder)  # fail now, not later, when nobody could decide it
    original = None
    if revises is not None and str(revises).strip():
        original = get_draft(session, revises, lock=True)
        check_revisable(original, seat, kind, subject)
    draft = Draft(
        seat_id=seat.id,
        drafted_by=seat.holder_id,
        submitted_by=actor.audit_name,
        kind=kind,
        subject=subject,
        customer_facing=customer_facing,
        title=title,
        body=body,
        destination=destination,
        idem_key=key,
        status="held",
        route_channel="",
        approvers=[],
        required=1,
        edited=False,
        created_at=now,
        delivery="none",
        revises=original.id if original else None,
        round=original.round + 1 if original else 1,
    )
    session.add(draft)
    session.flush()
    audit.record(
        session,
        actor.audit_name,
        "draft.submitted",
        f"draft:{draft.id}",
        seat=seat.id,
        kind=kind,
        about=subject,
        title=title,
        destination=destination,
        customer_facing=customer_facing,
        revises=f"draft:{original.id}" if original else None,
    )
    if original is not None:
        take_place(session, actor.audit_name, original, draft, route, now)
    hold = hold_for(session, kind, subject, now)
    if hold is not None:
        draft.hold_reason, draft.held_by_policy = hold.reason, hold.policy.name
        audit.record(session, "policy:" + hold.policy.name, "draft.held", f"draft:{draft.id}", reason=hold.reason)
        notify_people(session, draft, "held", now)
    elif not approved_by_policy(session, draft, now):  # autonomy earned on the record (gate/autonomy.py)
        _queue(session, draft, now)
    if draft.messages:  # a revision on its original's message: shown there in the original's place
        queue_message_update(session, draft, now)
    return Submitted(draft, True)


def _targets(session: Session, draft: Draft) -> list[str]:
    if draft.route_channel:
        return [draft.route_channel]
    people = session.scalars(select(Holder.slack_user).where(Holder.id.in_(draft.approvers))).all()
    return [p for p in people if p]


def _queue(session: Session, draft: Draft, now: dt.datetime) -> None:
    """Send a draft to approval: fix its route and timers, queue the approval message(s)."""
    route = route_for(session, draft.seat, draft.kind, draft.drafter)
    draft.status, draft.hold_reason, draft.held_by_policy = "pending", None, None
    draft.route_channel, draft.approvers, draft.usergroup, draft.required = (
        route.channel,
        route.approvers,
        route.usergroup,
        route.required,
    )
    draft.queued_at = now
    draft.remind_at = now + dt.timedelta(minutes=route.remind_after)
    draft.escalate_at = now + dt.timedelta(minutes=route.escalate_after)
    draft.expires_at = now + dt.timedelta(minutes=route.expires_after)
    if draft.messages:  # posted already (held after it was, or a revision on its original's message)
        return
    for target in _targets(session, draft):
        outbox.enqueue(
            session,
            "approval_post",
            f"draft:{draft.id}:post:{target}",
            {"channel": target, "purpose": "approval"},
            draft_id=draft.id,
            now=now,
        )


# ------------------------------------------------------------------------- holding


def hold_pending(session: Session, subject: str, now: dt.datetime) -> list[Draft]:
    """A flag arrived: pending drafts a policy now blocks are pulled back from approval.
    (Approved drafts stay approved: a person decided with the flags of that moment shown.)"""
    held = []
    for draft in session.scalars(
        select(Draft).where(Draft.subject == subject, Draft.status == "pending").with_for_update(of=Draft)
    ):
        hold = hold_for(session, draft.kind, draft.subject, now)
        if hold is None:
            continue
        draft.status, draft.hold_reason, draft.held_by_policy = "held", hold.reason, hold.policy.name
        audit.record(session, "policy:" + hold.policy.name, "draft.held", f"draft:{draft.id}", reason=hold.reason)
        queue_message_update(session, draft, now)
        notify_people(session, draft, "held", now)
        held.append(draft)
    return held


def release_held(session: Session, subject: str, now: dt.datetime, actor: str) -> list[Draft]:
    """Re-check held drafts about `subject` after a flag changed: those no policy holds go to approval."""
    released = []
    for draft in session.scalars(select(Draft).where(Draft.subject == subject, Draft.status == "held")):
        hold = hold_for(session, draft.kind, draft.subject, now)
        if hold is not None:
            draft.hold_reason, draft.held_by_policy = hold.reason, hold.policy.name
            continue
        audit.record(session, actor, "draft.released", f"draft:{draft.id}", was=draft.hold_reason)
        _queue(session, draft, now)
        if draft.messages:  # held after it was posted: its message shows the buttons again
            queue_message_update(session, draft, now)
        notify_people(session, draft, "released", now)
        released.append(draft)
    return released


# ------------------------------------------------------------------------- the message record


def record_message(session: Session, draft_id: int, channel: str, ts: str, purpose: str = "approval") -> None:
    """The approval message was posted: from now on, clicks on it count."""
    exists = session.scalar(select(DraftMessage.id).where(DraftMessage.channel == channel, DraftMessage.ts == ts))
    if exists is None:
        session.add(DraftMessage(draft_id=draft_id, channel=channel, ts=ts, purpose=purpose))
        session.flush()


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
