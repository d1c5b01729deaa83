"""Agent drafts: submitted for a seat, held by policy or sent to approval, and the record of their approval messages.

Reading a draft, and what became of it, is in `reading`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit, outbox
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.locks import hold_chart
from otp_bot.store.domain.chart.reading import get_seat
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid
from otp_bot.store.domain.gate.autonomy import approved_by_policy
from otp_bot.store.domain.gate.callback_targets import NOTHING, Allowlist, check_url
from otp_bot.store.domain.gate.notices import notify_people, queue_message_update
from otp_bot.store.domain.gate.policies import hold_for
from otp_bot.store.domain.gate.reading import draft_number, get_draft
from otp_bot.store.domain.gate.revisions import check_revisable, take_place
from otp_bot.store.domain.gate.routing import route_for
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import Draft, DraftMessage, Holder

KIND = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
SLACK_TARGET = re.compile(r"^[CGDUW][A-Z0-9]{2,31}$")
SUBJECT = re.compile(r"^\S{1,200}$")  # as in flags: policies match drafts to flags by subject
MAX_BODY = 20_000
READS_ONLY = ("view-only", "advisory")  # authority levels whose holders never act, so never draft


@dataclass
class Submitted:
    draft: Draft
    created: bool  # False when the idempotency key had been seen: the same draft is returned


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
    hold_chart(session)  # before the seat is read: an import retiring it waits, or this waits for it
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
    lock_subject(session, subject)  # before the flags are read to hold it, below
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


def lock_subject(session: Session, subject: str) -> None:
    """The flags on `subject` and the drafts about it, one transaction at a time (PostgreSQL):
    a new draft is held or not by the flags it reads, and a flag holds or releases the drafts
    it reads, so neither may read before the other has committed. Taken after the chart and
    before any draft or the audit chain (chart/locks.py); SQLite's writers queue anyway."""
    if session.get_bind().dialect.name == "postgresql":
        # A lock of its own key space (two keys); subjects sharing a hash merely wait for each other.
        session.execute(text("SELECT pg_advisory_xact_lock(7332, hashtext(:subject))"), {"subject": subject})


def lock_subjects(session: Session, subjects: list[str]) -> None:
    """`lock_subject` for several, in the order of their keys, not of their names: two
    transactions locking overlapping sets then never hold one each of two keys."""
    if session.get_bind().dialect.name == "postgresql" and subjects:
        keys = session.scalars(
            text("SELECT DISTINCT hashtext(s) AS k FROM unnest(CAST(:subjects AS text[])) AS s ORDER BY k"),
            {"subjects": subjects},
        ).all()
        for key in keys:
            session.execute(text("SELECT pg_advisory_xact_lock(7332, :key)"), {"key": key})


def waiting_on(session: Session, subject: str, status: str) -> list[Draft]:
    """The drafts about `subject` in `status` ("pending" or "held"), locked. A flag takes them
    after `lock_subject` (so no draft about it is being submitted meanwhile) and before its
    audit entry: a decision locks its draft and then the audit chain, so a flag that took the
    chain first and then waited for the draft would wait for it in a circle."""
    return list(
        session.scalars(
            select(Draft)
            .where(Draft.subject == subject, Draft.status == status)
            .order_by(Draft.id)
            .with_for_update(of=Draft)
        )
    )


def hold_pending(session: Session, pending: list[Draft], now: dt.datetime) -> list[Draft]:
    """A flag arrived: of the `pending` drafts (`waiting_on`), those a policy now blocks are
    pulled back from approval. (Approved drafts stay approved: a person decided with the
    flags of that moment shown.)"""
    held = []
    for draft in pending:
        hold = hold_for(session, draft.kind, draft.subject, now)
        if hold is None:
            continue
        draft.status, draft.hold_reason, draft.held_by_policy = "held", hold.reason, hold.policy.name
        audit.record(session, "policy:" + hold.policy.name, "draft.held", f"draft:{draft.id}", reason=hold.reason)
        queue_message_update(session, draft, now)
        notify_people(session, draft, "held", now)
        held.append(draft)
    return held


def release_held(session: Session, waiting: list[Draft], now: dt.datetime, actor: str) -> list[Draft]:
    """Re-check the held drafts (`waiting_on`) after a flag changed: those no policy holds go to approval."""
    released = []
    for draft in waiting:
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
