"""The approval message's buttons and modals: Approve, Edit & approve, Reject, Show full text.

Each button carries its draft's id, and the click counts only on a message recorded for
that draft. Every rule is the domain's (`drafts.decide`); the message itself is updated
by the outbox worker, which this listener wakes after the decision commits.
"""

from __future__ import annotations

import json

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from otp_bot.bot import approval_message as messages
from otp_bot.bot.app import Deps
from otp_bot.bot.errors import friendly
from otp_bot.store.domain import drafts
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.errors import DomainError
from otp_bot.store.models import Draft


def _where(body: dict) -> tuple[str, str]:
    container = body.get("container") or {}
    return container.get("channel_id", ""), container.get("message_ts", "")


def _caller(deps: Deps, user_id: str, draft_id: str) -> tuple[Actor, frozenset[str]]:
    """Who clicked, and which of the draft's user groups they are in (asked of Slack only when it has one)."""
    actor = deps.identity.actor(deps.db, user_id)
    with deps.db.session(readonly=True) as session:
        usergroup = drafts.get_draft(session, draft_id).usergroup
    return actor, deps.identity.groups(user_id, {usergroup}) if usergroup else frozenset()


def _say(respond: Respond, exc: BaseException) -> None:
    reply = friendly(exc)
    respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)


def _decide(deps: Deps, user_id: str, draft_id: str, verdict: str, where: tuple[str, str], **kw) -> None:
    actor, groups = _caller(deps, user_id, draft_id)
    with deps.db.session() as session:
        drafts.decide(session, actor, draft_id, verdict, message=where, groups=groups, **kw)
    deps.kick()


def _checked(deps: Deps, user_id: str, draft_id: str, where: tuple[str, str]) -> Draft:
    actor, groups = _caller(deps, user_id, draft_id)
    with deps.db.session(readonly=True) as session:
        return drafts.check_decider(session, actor, drafts.get_draft(session, draft_id), where, groups)


def register(app: App, deps: Deps) -> None:
    @app.action(messages.APPROVE)
    def approve(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        try:
            _decide(deps, body["user"]["id"], action.get("value", ""), "approve", _where(body))
        except Exception as exc:  # noqa: BLE001 - the person sees why, nothing changed
            _say(respond, exc)

    def opens(modal):
        def open_modal(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
            ack()
            where = _where(body)
            try:
                draft = _checked(deps, body["user"]["id"], action.get("value", ""), where)
            except Exception as exc:  # noqa: BLE001
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
                draft = drafts.draft_from_message(session, actor, action.get("value", ""), _where(body))
                view = messages.full_text_modal(draft)
        except DomainError as exc:
            _say(respond, exc)
            return
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def submits(verdict: str, field: str):
        def on_submit(ack: Ack, body: dict, view: dict) -> None:
            meta = json.loads(view.get("private_metadata") or "{}")
            value = view["state"]["values"].get(field, {}).get(field, {}).get("value") or ""
            extra = {"edited_body": value} if verdict == "approve" else {"reason": value}
            try:
                _decide(deps, body["user"]["id"], str(meta.get("draft", "")), verdict,
                        (meta.get("channel", ""), meta.get("ts", "")), **extra)
            except DomainError as exc:
                # Shown under the field; the modal stays open and nothing changed.
                ack(response_action="errors", errors={field: exc.message[:150]})
                return
            ack()
        return on_submit

    app.view(messages.EDIT_VIEW)(submits("approve", "text"))
    app.view(messages.REJECT_VIEW)(submits("reject", "reason"))
