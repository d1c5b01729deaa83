"""The Share button on an ephemeral answer: post the same answer in the channel."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond

from otp_bot.bot.slack.app import Deps
from otp_bot.bot.slack.listeners.commands import answer
from otp_bot.bot.slack.reply import SHARE_ACTION, answer_payload
from otp_bot.commands.dispatch import is_read_only


def register(app: App, deps: Deps) -> None:
    @app.action(SHARE_ACTION)
    def share(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        text = action.get("value", "")
        if not is_read_only(text):
            # The button only ever carries read-only commands; anything else is forged or stale.
            respond(
                text=":warning: only answers that read the chart can be shared",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        # Asked again as the person who clicked, so nobody shares what they may not see.
        reply = answer(deps, body["user"]["id"], text)
        if reply.ok:
            respond(delete_original=True)
        respond(**answer_payload(reply, action.get("value", ""), share=reply.ok), replace_original=False)
