"""Asking for changes: an approver's third answer besides approve and reject.

The draft waits for its drafter then (`changes-requested`); the drafter answers with a
revision (`revisions.py`), which takes the draft's place on the same approval message. A
route caps the versions (`max_rounds`, default 3): asking changes of the last one rejects
it instead, with every request gathered as the reason.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents import webhooks
from otp_bot.store.domain.chart.reading import accountable_human
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.gate.decisions import MAX_REASON, Decided, finish, route_for_decider
from otp_bot.store.domain.gate.follow_chart import current_route, same_route
from otp_bot.store.domain.gate.notices import notify_people, queue_message_update
from otp_bot.store.domain.gate.reading import draft_number, get_draft
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import CHANGES_REQUESTED, Draft, DraftChangeRequest, DraftDecision


def history(draft: Draft) -> list[tuple[Draft, DraftChangeRequest]]:
    """The requests that led to this draft, oldest first: each earlier version and what was asked of it."""
    asked: list[tuple[Draft, DraftChangeRequest]] = []
    seen, version = {draft.id}, draft.previous
    while version is not None and version.id not in seen:  # a cycle cannot be stored; a read never loops anyway
        seen.add(version.id)
        if version.change_request is not None:
            asked.append((version, version.change_request))
        version = version.previous
    return asked[::-1]


def change_requests(draft: Draft) -> list[tuple[Draft, DraftChangeRequest]]:
    """Every request in the draft's line, oldest first: those of the versions before it, then its own."""
    own = [(draft, draft.change_request)] if draft.change_request is not None else []
    return history(draft) + own


def _gathered(draft: Draft, text: str, cap: int) -> str:
    asked = [cr.text for _, cr in history(draft)] + [text]
    items = [f"({n}) {t}" for n, t in enumerate(asked, 1)]
    head = f"changes were asked {len(asked)} times and the route allows {cap} round(s), so it is rejected: "
    # Too long for one reason: the earlier requests are cut, never the last one, which is on
    # record nowhere else (it became this rejection, not a request the agent can read).
    last = items[-1][: MAX_REASON - len(head)]
    room = MAX_REASON - len(head) - len(last) - 2
    earlier = "; ".join(items[:-1])
    if len(earlier) > room:
        earlier = earlier[: room - 1] + "…" if room > 1 else ""
    return head + (f"{earlier}; " if earlier else "") + last


def request_changes(
    session: Session,
    actor: Actor,
    draft_id: int | str,
    text: str | None,
    *,
    message: tuple[str, str] | None = None,
    groups: frozenset[str] = frozenset(),
    now: dt.datetime | None = None,
    again: bool = False,
    claim_update: dt.timedelta | None = None,
) -> Decided:
    """Ask the drafter to change the draft: who may is who may decide it (`check_decider`).
    On the route's last round the draft is rejected instead, with every request as the reason.

    `again` and `claim_update` as for `decisions.decide`."""
    now = now or utcnow()
    text = clean_text(text, "the request", multiline=True)
    if not text:
        raise Invalid("say what to change, so the drafter can revise the draft")
    text = text[:MAX_REASON]
    if again and actor.holder_id is not None and (landed := _recorded(session, draft_id, actor.holder_id)):
        return landed
    draft = get_draft(session, draft_id, lock=True)
    route = route_for_decider(session, actor, draft, message, groups)
    if not same_route(draft, route):
        draft.approvers, draft.usergroup, draft.required = list(route.approvers), route.usergroup, route.required
    if draft.round >= route.max_rounds:
        return _reject_at_cap(session, actor, draft, text, route.max_rounds, now, claim_update)

    session.add(DraftChangeRequest(draft_id=draft.id, holder_id=actor.holder_id, text=text, at=now))
    draft.status, draft.decided_at, draft.decided_by = CHANGES_REQUESTED, now, actor.holder_id
    session.flush()
    session.refresh(draft, ["change_request"])
    audit.record(
        session, actor.audit_name, "draft.changes_requested", f"draft:{draft.id}", request=text, round=draft.round
    )
    queued = False
    human = accountable_human(draft.drafter)
    if human is not None and human.id != actor.holder_id:
        notify_people(session, draft, "changes_requested", now, to=[human.id])
        queued = True
    queued = webhooks.queue_decision(session, draft, CHANGES_REQUESTED, now) or queued  # the agent hears at once
    update = queue_message_update(session, draft, now, claim_for=claim_update)
    return Decided(draft, None, True, update, queued=queued or update is None)


def _reject_at_cap(
    session: Session,
    actor: Actor,
    draft: Draft,
    text: str,
    cap: int,
    now: dt.datetime,
    claim_update: dt.timedelta | None,
) -> Decided:
    reason = _gathered(draft, text, cap)
    decision = DraftDecision(draft_id=draft.id, holder_id=actor.holder_id, verdict="reject", reason=reason, at=now)
    session.add(decision)
    session.flush()
    session.refresh(draft, ["decisions"])
    audit.record(
        session, actor.audit_name, "draft.reject", f"draft:{draft.id}", reason=reason, round_cap=cap, request=text
    )
    queued = finish(session, draft, actor.holder_id, now, rejected_for=reason)
    update = queue_message_update(session, draft, now, claim_for=claim_update)
    return Decided(draft, decision, True, update, queued=queued or update is None)


def _recorded(session: Session, draft_id: int | str, holder_id: str) -> Decided | None:
    """This person's request (or the rejection it became at the cap) is on record already."""
    number = draft_number(draft_id)
    asked = session.scalar(
        select(DraftChangeRequest).where(
            DraftChangeRequest.draft_id == number, DraftChangeRequest.holder_id == holder_id
        )
    )
    draft = get_draft(session, number)
    if asked is not None:
        return Decided(draft, None, True)
    capped = next((d for d in draft.decisions if d.holder_id == holder_id and d.verdict == "reject"), None)
    return Decided(draft, capped, True) if capped else None


def is_last_round(session: Session, draft_id: int) -> bool:
    """Would asking changes of this draft reject it (its route allows no further round)?"""
    draft = get_draft(session, draft_id)
    try:
        return draft.round >= current_route(session, draft).max_rounds
    except Invalid:
        return False  # nobody can decide it now: asking says so


def previous_version(draft: Draft) -> Draft:
    """The version a revision replaced; Invalid for a first draft."""
    if draft.previous is None:
        raise Invalid(f"draft #{draft.id} is a first version: it has no changes to show")
    return draft.previous
