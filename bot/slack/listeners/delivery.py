"""The approval message's **Retry delivery** button (shown when a delivery failed).

The rule (who may retry, what it re-queues) is the domain's: `draft_delivery.retry_delivery`.
The message itself is updated by the outbox worker: retrying…, then delivered or failed.
"""

from __future__ import annotations

from slack_bolt import Ack, App, Respond

from otp_bot.bot.slack.app import Deps
from otp_bot.bot.slack.errors import friendly
from otp_bot.bot.slack.views import approval_message as messages
from otp_bot.store.domain.gate.delivery import retry_delivery


def register(app: App, deps: Deps) -> None:
    @app.action(messages.RETRY_DELIVERY)
    def retry(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        container = body.get("container") or {}
        where = (container.get("channel_id", ""), container.get("message_ts", ""))
        try:
            actor = deps.identity.actor(deps.db, body["user"]["id"])
            with deps.db.session() as session:
                draft = retry_delivery(session, actor, action.get("value", ""), message=where)
                said = f"Retrying the delivery of draft #{draft.id}; this message shows how it goes."
        except Exception as exc:
            reply = friendly(exc)
            respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)
            return
        deps.kick()
        respond(text=said, response_type="ephemeral", replace_original=False)
