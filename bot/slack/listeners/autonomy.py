"""The review message of a policy approval: **Looks right**, **Should not have gone** (a modal
asks why) — every rule is the domain's (`autonomy_grants.review`). The message's update and
anything else are queued with the review and sent by the outbox worker, woken here."""

from __future__ import annotations

import json

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from otp_bot.bot.slack.app import Deps
from otp_bot.bot.slack.errors import friendly
from otp_bot.bot.slack.views import autonomy_review as views
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.errors import DomainError
from otp_bot.store.domain.gate import reading
from otp_bot.store.domain.gate.autonomy_grants import review, reviewable


def _where(body: dict) -> tuple[str, str]:
    container = body.get("container") or {}
    return container.get("channel_id", ""), container.get("message_ts", "")


def register(app: App, deps: Deps) -> None:
    def caller(user_id: str, draft_id: str) -> tuple[Actor, frozenset[str]]:
        """Who clicked, and which of the draft's user groups they are in (Slack asked outside any transaction)."""
        actor = deps.identity.actor(deps.db, user_id)
        with deps.db.session(readonly=True) as session:
            usergroup = reading.draft_usergroup(session, draft_id)
        return actor, deps.identity.groups(user_id, {usergroup}) if usergroup else frozenset()

    def reviewed(user_id: str, draft_id: str, verdict: str, where: tuple[str, str], reason: str | None = None) -> None:
        actor, groups = caller(user_id, draft_id)
        with deps.db.session() as session:
            review(session, actor, draft_id, verdict, reason=reason, message=where, groups=groups)
        deps.kick()

    @app.action(views.LOOKS_RIGHT)
    def looks_right(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        deps.work.submit(_right, body["user"]["id"], action.get("value", ""), _where(body), respond)

    def _right(user_id: str, draft_id: str, where: tuple[str, str], respond: Respond) -> None:
        try:
            reviewed(user_id, draft_id, "right", where)
        except Exception as exc:
            reply = friendly(exc)
            respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)

    @app.action(views.SHOULD_NOT)
    def should_not(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        ack()
        channel, ts = _where(body)
        user_id, draft_id = body["user"]["id"], action.get("value", "")
        try:  # refused before the modal opens: nobody writes a reason only to be told they may not
            actor, groups = caller(user_id, draft_id)
            with deps.db.session(readonly=True) as session:
                draft = reviewable(session, actor, draft_id, (channel, ts), groups)
                view = views.should_not_modal(draft, channel, ts)
        except DomainError as exc:
            reply = friendly(exc)
            respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)
            return
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(views.SHOULD_NOT_VIEW)
    def should_not_submitted(ack: Ack, body: dict, view: dict) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        reason = view["state"]["values"].get("reason", {}).get("reason", {}).get("value") or ""
        where = (meta.get("channel", ""), meta.get("ts", ""))
        try:
            reviewed(body["user"]["id"], str(meta.get("draft", "")), "wrong", where, reason)
        except DomainError as exc:
            ack(response_action="errors", errors={"reason": exc.message[:150]})
            return
        ack()
