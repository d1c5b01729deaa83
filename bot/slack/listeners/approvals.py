"""The approval message's buttons and modals: Approve, Edit & approve, Request changes,
Reject, Show full text, and a revision's Show changes.

Each button carries its draft's id, and the click counts only on a message recorded for
that draft. Every rule is the domain's (`decisions.decide`). The message's update is
queued claimed with the decision, and sent by the thread that decided the moment the
decision commits (`OutboxWorker.perform`): no poll, no transaction of its own to claim it.
Whatever else the decision queued (a DM, a delivery) the outbox worker, woken then, does.

A decision that meets the database briefly away (a restart) is tried again by the one
retry policy, `store.retry.CLICKS`, so nobody has to click twice. A button is acked first
and decided on the work pool, retried for the whole budget. A modal must be answered
within Slack's 3 seconds: it is retried for `MODAL_BUDGET`, and if the database is still
away the modal turns into "saving…", the retry goes on, and the modal shows the result.
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import AbstractContextManager, nullcontext
from typing import TypedDict, Unpack

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from otp_bot.bot.ops.context import note
from otp_bot.bot.slack.app import Deps
from otp_bot.bot.slack.errors import friendly
from otp_bot.bot.slack.views import approval_message as messages
from otp_bot.commands.views.render import Mrkdwn, escape
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.errors import DomainError
from otp_bot.store.domain.gate import changes, decisions, on_behalf, reading
from otp_bot.store.domain.gate.queries import DraftContext, context_for
from otp_bot.store.models import Draft
from otp_bot.store.retry import CLICKS, is_transient

log = logging.getLogger("otp_bot.slack")
CHANGES = "changes"  # the "verdict" of a request for changes: the draft waits for its revision
MODAL_BUDGET = 1.8  # seconds of retrying before a modal must answer (Slack waits 3 s in all)


class Written(TypedDict, total=False):
    """What a modal adds to a decision: the edited text of an approval, or the reason for a rejection."""

    edited_body: str
    reason: str


def _where(body: dict) -> tuple[str, str]:
    container = body.get("container") or {}
    return container.get("channel_id", ""), container.get("message_ts", "")


def _caller(deps: Deps, user_id: str, draft_id: str) -> tuple[Actor, frozenset[str]]:
    """Who clicked, and which of the draft's user groups they are in (asked of Slack only when it has one)."""
    note(draft_id=draft_id)  # every decision and check comes through here: its log lines name the draft
    with deps.db.session(readonly=True) as session:  # one read for both, in the usual case
        actor = deps.identity.actor_in(session, user_id)
        usergroup = reading.draft_usergroup(session, draft_id)
    if actor is None:  # only Slack knows who this is: asked outside any transaction
        actor = deps.identity.actor(deps.db, user_id)
    return actor, deps.identity.groups(user_id, {usergroup}) if usergroup else frozenset()


def _say(respond: Respond, exc: BaseException) -> None:
    reply = friendly(exc)
    respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)


def _decide(
    deps: Deps,
    user_id: str,
    draft_id: str,
    verdict: str,
    where: tuple[str, str],
    *,
    budget: float | None = None,
    again: bool = False,
    update_here: bool = True,
    **kw: Unpack[Written],
) -> decisions.Decided:
    """Decide, trying again while the database is briefly away; a retry that finds this
    person's decision already recorded (the earlier commit landed) counts as done.

    The message's update is sent on this thread once the decision commits, showing the
    draft as the decision's transaction left it; with `update_here=False` (a modal, which
    must answer first) it is sent on the work pool, read afresh there."""
    note(draft_id=draft_id)
    began = time.monotonic()
    shown: list[DraftContext] = []

    def decide_in(session: Session, actor: Actor, groups: frozenset[str], retrying: bool) -> decisions.Decided:
        if verdict == CHANGES:
            decided = changes.request_changes(
                session,
                actor,
                draft_id,
                kw.get("reason"),
                message=where,
                groups=groups,
                again=again or retrying,
                claim_update=deps.worker.lease,
            )
        else:
            decided = on_behalf.decide(  # a delegate's decision says for whom
                session,
                actor,
                draft_id,
                verdict,
                message=where,
                groups=groups,
                again=again or retrying,
                claim_update=deps.worker.lease,
                **kw,
            )
        if update_here and decided.update is not None:
            shown.append(context_for(session, decided.draft))  # one read of the draft, not a second
        return decided

    def attempt(retrying: bool) -> decisions.Decided:
        shown.clear()
        with deps.db.session() as session:
            # Usually the chart knows who clicked and the draft names no user group: nothing
            # to ask Slack, so who it is is read in the decision's own transaction.
            actor = deps.identity.actor_in(session, user_id)
            if actor is not None and reading.draft_usergroup(session, draft_id) is None:
                return decide_in(session, actor, frozenset(), retrying)
        actor, groups = _caller(deps, user_id, draft_id)  # Slack asked outside any transaction
        with deps.db.session() as session:
            return decide_in(session, actor, groups, retrying)

    # Held from before the decision until its update is sent: an update of this draft read
    # meanwhile by another thread of this process waits, so it cannot land before this one.
    with _update_lock(deps, draft_id) if update_here else nullcontext():
        decided = CLICKS.run(attempt, budget=budget)
        if decided.update is not None and update_here:
            deps.worker.perform(decided.update, began, shown[0] if shown else None)
    if decided.update is not None and not update_here:
        deps.work.submit(deps.worker.perform, decided.update, began)
    if decided.queued:
        deps.kick()  # what else it queued goes out now too; woken for nothing, the worker would claim nothing
    return decided


def _update_lock(deps: Deps, draft_id: str) -> AbstractContextManager[object]:
    try:
        return deps.worker.updating(reading.draft_number(draft_id))
    except DomainError:
        return nullcontext()  # not a draft number: the decision refuses it, there is nothing to send


def _checked(deps: Deps, user_id: str, draft_id: str, where: tuple[str, str]) -> Draft:
    def attempt(_again: bool) -> Draft:  # a read: trying again is always safe
        actor, groups = _caller(deps, user_id, draft_id)
        with deps.db.session(readonly=True) as session:
            return decisions.check_decider(session, actor, reading.get_draft(session, draft_id), where, groups)

    return CLICKS.run(attempt, budget=MODAL_BUDGET)  # the modal must open within Slack's 3 seconds


def register(app: App, deps: Deps) -> None:
    @app.action(messages.APPROVE)
    def approve(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        # Decided on the work pool: a click retrying through a database restart must not
        # hold a listener thread, or the clicks behind it would not be acked in time.
        deps.work.submit(_approve, body["user"]["id"], action.get("value", ""), _where(body), respond)

    @app.action(messages.REQUEST_CHANGES)
    def request_changes(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        ack()
        where = _where(body)
        try:
            draft = _checked(deps, body["user"]["id"], action.get("value", ""), where)
            with deps.db.session(readonly=True) as session:
                last = changes.is_last_round(session, draft.id)
        except Exception as exc:
            _say(respond, exc)
            return
        client.views_open(trigger_id=body["trigger_id"], view=messages.changes_modal(draft, *where, last_round=last))

    @app.action(messages.SHOW_CHANGES)
    def show_changes(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        ack()
        try:
            actor = deps.identity.actor(deps.db, body["user"]["id"])
            with deps.db.session(readonly=True) as session:
                draft = reading.draft_from_message(session, actor, action.get("value", ""), _where(body))
                view = messages.show_changes_modal(draft, changes.previous_version(draft))
        except DomainError as exc:
            _say(respond, exc)
            return
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def _approve(user_id: str, draft_id: str, where: tuple[str, str], respond: Respond) -> None:
        try:
            _decide(deps, user_id, draft_id, "approve", where)
        except Exception as exc:
            _say(respond, exc)

    def opens(modal):
        def open_modal(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
            ack()
            where = _where(body)
            try:
                draft = _checked(deps, body["user"]["id"], action.get("value", ""), where)
            except Exception as exc:
                _say(respond, exc)
                return
            client.views_open(trigger_id=body["trigger_id"], view=modal(draft, *where))

        return open_modal

    app.action(messages.EDIT)(opens(messages.edit_modal))
    app.action(messages.REJECT)(opens(messages.reject_modal))

    @app.action(messages.FULL_TEXT)
    def full_text(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        ack()
        try:
            actor = deps.identity.actor(deps.db, body["user"]["id"])
            with deps.db.session(readonly=True) as session:
                draft = reading.draft_from_message(session, actor, action.get("value", ""), _where(body))
                view = messages.full_text_modal(draft)
        except DomainError as exc:
            _say(respond, exc)
            return
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def submits(verdict: str, field: str):
        def on_submit(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
            meta = json.loads(view.get("private_metadata") or "{}")
            value = view["state"]["values"].get(field, {}).get(field, {}).get("value") or ""
            extra: Written = {"edited_body": value} if verdict == "approve" else {"reason": value}
            draft_id, where = str(meta.get("draft", "")), (meta.get("channel", ""), meta.get("ts", ""))
            try:
                _decide(
                    deps, body["user"]["id"], draft_id, verdict, where, budget=MODAL_BUDGET, update_here=False, **extra
                )
            except DomainError as exc:
                # Shown under the field; the modal stays open and nothing changed.
                ack(response_action="errors", errors={field: exc.message[:150]})
                return
            except Exception as exc:
                if not is_transient(exc):
                    raise
                # Slack's 3 seconds are nearly up and the database is still away: answer now,
                # keep trying, and show the result in the same modal.
                ack(
                    response_action="update",
                    view=messages.notice_modal(
                        draft_id,
                        f"Saving your decision on draft #{draft_id}… the database is restarting; "
                        "this window shows the result in a few seconds.",
                    ),
                )
                _finish_later(client, body["view"]["id"], body["user"]["id"], draft_id, verdict, where, value, extra)
                return
            ack()

        def _finish_later(
            client: WebClient,
            view_id: str,
            user_id: str,
            draft_id: str,
            verdict: str,
            where: tuple[str, str],
            value: str,
            extra: Written,
        ) -> None:
            try:
                decided = _decide(
                    deps,
                    user_id,
                    draft_id,
                    verdict,
                    where,
                    budget=CLICKS.budget - MODAL_BUDGET,
                    again=True,
                    update_here=False,
                    **extra,
                )
                text = f"Recorded: draft #{draft_id} is {decided.draft.status}."
            except Exception as exc:
                text = Mrkdwn(f"{friendly(exc).text}\n\nWhat you wrote, so nothing is lost:\n{escape(value)}")
            try:
                client.views_update(view_id=view_id, view=messages.notice_modal(draft_id, text))
            except Exception as exc:
                log.warning("could not show the result of a decision on draft #%s: %s", draft_id, type(exc).__name__)

        return on_submit

    app.view(messages.EDIT_VIEW)(submits("approve", "text"))
    app.view(messages.REJECT_VIEW)(submits("reject", "reason"))
    app.view(messages.CHANGES_VIEW)(submits(CHANGES, "changes"))
