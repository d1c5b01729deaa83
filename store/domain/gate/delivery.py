"""An approved draft's delivery: whether it may go out, its attempts and outcome, and a
retry once it used up its attempts (who may, and what it does).

A failed delivery stays failed until someone answerable for it asks again: the human
accountable for the drafting seat (the person told it failed), or an operator. The draft's
outbox item goes back to the queue with a fresh attempt budget. What earlier attempts left
is kept, so the new round still looks for an earlier post before posting: a retry never
risks a second copy. The approval message shows the retry, then the outcome.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from otp_bot.store.domain import audit, outbox
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import accountable_human
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, NotFound
from otp_bot.store.domain.gate.autonomy import POLICY
from otp_bot.store.domain.gate.notices import notify_people, queue_message_update
from otp_bot.store.domain.gate.reading import approvals, check_message, get_draft
from otp_bot.store.models import Draft, OutboxItem

SHOW_FIRST = dt.timedelta(seconds=1)


def may_retry(draft: Draft, actor: Actor) -> bool:
    human = accountable_human(draft.drafter)
    return actor.operator or (human is not None and actor.holder_id == human.id)


def retry_delivery(
    session: Session,
    actor: Actor,
    draft_id: int | str,
    *,
    message: tuple[str, str] | None = None,
    now: dt.datetime | None = None,
) -> Draft:
    """Queue a failed delivery again (from this approval message, when given)."""
    now = now or utcnow()
    draft = get_draft(session, draft_id, lock=True)
    check_message(session, draft, message)
    if not may_retry(draft, actor):
        human = accountable_human(draft.drafter)
        who = f"{human.name}, accountable for {draft.seat.title}," if human else "the seat's accountable human"
        raise Forbidden(f"only {who} or an operator can retry the delivery of draft #{draft.id}")
    if draft.delivery != "failed":
        raise Conflict(f"draft #{draft.id}'s delivery is {draft.delivery}, not failed; nothing to retry")
    deliverable(session, draft.id)  # still approved, with its approvals: checked again, as before every attempt
    item = outbox.item_for_draft(session, draft.id)
    if item is None:
        raise NotFound(f"draft #{draft.id} has no delivery queued")
    requeue(session, actor, item, now)
    return draft


def retry_item(session: Session, actor: Actor, item_id: int, now: dt.datetime | None = None) -> OutboxItem:
    """`otp outbox retry ID`: an operator re-queues a failed item; a delivery goes through
    the draft's rule above, so the draft and its message show the retry too."""
    now = now or utcnow()
    if not actor.operator:
        raise Forbidden("only an operator can retry outbox items")
    item = session.get(OutboxItem, item_id)
    if item is None:
        raise NotFound(f"there is no outbox item {item_id}", hint="`otp outbox list --failed` shows the failed ones")
    if item.kind == "deliver" and item.draft_id is not None:
        retry_delivery(session, actor, item.draft_id, now=now)
        return session.get_one(OutboxItem, item_id)
    return requeue(session, actor, item, now)


def requeue(session: Session, actor: Actor, item: OutboxItem, now: dt.datetime) -> OutboxItem:
    error = item.last_error
    item = outbox.requeue(session, item.id, now)
    if item.kind == "deliver" and item.draft_id is not None:
        draft = get_draft(session, item.draft_id)
        # The failure stays shown beside "retrying" until the new round succeeds or fails.
        draft.delivery = "pending"
        queue_message_update(session, draft, now)
        # A moment later than the message update, so the message says "retrying" first.
        item.next_attempt_at = now + SHOW_FIRST
    if item.kind == "deliver" and item.draft_id is not None:
        audit.record(
            session,
            actor.audit_name,
            "draft.delivery.retry",
            f"draft:{item.draft_id}",
            outbox=item.id,
            previous_error=error,
        )
    else:
        audit.record(
            session,
            actor.audit_name,
            "outbox.retry",
            f"outbox:{item.id}",
            kind=item.kind,
            key=item.key,
            previous_error=error,
        )
    return item


def deliverable(session: Session, draft_id: int) -> Draft:
    """The draft, if it may go out now; anything else refuses. Checked again by the worker
    right before every delivery attempt, whatever queued it."""
    draft = get_draft(session, draft_id)
    # A policy approval (earned autonomy, gate/autonomy.py) has no person's approvals; never a customer-facing one.
    by_policy = draft.decided_by == POLICY and not draft.customer_facing
    if draft.status != "approved" or (len(approvals(draft)) < draft.required and not by_policy) or not draft.final_body:
        raise Forbidden(
            f"draft #{draft.id} is {draft.status} with {len(approvals(draft))} of {draft.required} "
            "approvals; it is not delivered"
        )
    return draft


def delivery_attempted(session: Session, draft_id: int, attempt: int, destination: str) -> None:
    audit.record(
        session, "system", "draft.delivery.attempt", f"draft:{draft_id}", attempt=attempt, destination=destination
    )


def mark_delivered(session: Session, draft_id: int, detail: dict, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    draft = get_draft(session, draft_id)
    draft.delivery, draft.delivered_at, draft.delivery_error = "delivered", now, None
    audit.record(session, "system", "draft.delivered", f"draft:{draft.id}", **detail)
    queue_message_update(session, draft, now)


def mark_delivery_failed(session: Session, draft_id: int, error: str, now: dt.datetime | None = None) -> None:
    """The last retry failed: say so where people look (the approval message, a DM)."""
    now = now or utcnow()
    draft = get_draft(session, draft_id)
    draft.delivery, draft.delivery_error = "failed", error[:2000]
    audit.record(session, "system", "draft.delivery.failed", f"draft:{draft.id}", error=error[:2000])
    queue_message_update(session, draft, now)
    notify_people(session, draft, "delivery_failed", now)
