"""The hearing form in Slack: `/otp retire <seat>` opens it at once (a slash command
carries a trigger_id, good for 3 seconds), the button on the `retire` answer opens it
again, and a submission is validated by the domain with each error under its field.

Registered before the general /otp listener, so it takes `retire <seat>` and nothing else;
hire, assign, vacate and history are plain commands (commands/lifecycle.py).
"""

from __future__ import annotations

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy import select

from otp_bot.bot.slack.app import Deps
from otp_bot.bot.slack.errors import SLACK_FAILURES, friendly
from otp_bot.bot.slack.listeners.commands import answer
from otp_bot.bot.slack.views import hearing_form
from otp_bot.commands.lifecycle import HEARING_OPEN
from otp_bot.commands.routing import retire_seat
from otp_bot.store.domain.errors import DomainError
from otp_bot.store.domain.lifecycle import hearing_input, hearings
from otp_bot.store.models import Seat


def _form(deps: Deps, user_id: str, seat_id: str) -> dict:
    actor = deps.identity.actor(deps.db, user_id)
    with deps.db.session(readonly=True) as session:
        return hearing_form.hearing_modal(hearings.hearing_form(session, actor, seat_id))


def _ephemeral(exc: BaseException) -> dict:
    reply = friendly(exc)
    return {"text": reply.text, "blocks": reply.blocks, "response_type": "ephemeral"}


def register(app: App, deps: Deps) -> None:
    @app.command("/otp", matchers=[lambda body: retire_seat(body.get("text") or "") is not None])
    def retire_command(ack: Ack, command: dict, client: WebClient, respond: Respond) -> None:
        seat_id = retire_seat(command.get("text") or "") or ""
        try:
            view = _form(deps, command["user_id"], seat_id)
        except Exception as exc:
            ack(**_ephemeral(exc))
            return
        ack()  # the form is the answer
        try:
            client.views_open(trigger_id=command["trigger_id"], view=view)
        except SLACK_FAILURES:
            # The trigger expired (a slow moment) or Slack said no: the answer with the
            # button opens the form on a fresh trigger.
            reply = answer(deps, command["user_id"], f"retire {seat_id}")
            respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral")

    @app.action(HEARING_OPEN)
    def open_hearing(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        ack()
        try:
            view = _form(deps, body["user"]["id"], action.get("value", ""))
        except Exception as exc:
            respond(**_ephemeral(exc), replace_original=False)
            return
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(hearing_form.HEARING_VIEW)
    def on_submit(ack: Ack, body: dict, view: dict) -> None:
        seat_id, given = hearing_form.submitted(view)
        try:
            actor = deps.identity.actor(deps.db, body["user"]["id"])
            with deps.db.session() as session:
                result = hearings.retire(session, actor, seat_id, given)
                titles = dict(
                    session.execute(
                        select(Seat.id, Seat.title).where(Seat.id.in_([to for _, to in result.moves if to]))
                    ).all()
                )
                done = hearing_form.done_modal(result, titles)
        except hearing_input.HearingErrors as exc:
            # Under each field; the form stays open and nothing changed.
            ack(response_action="errors", errors=hearing_form.field_errors(view, exc.by_field()))
            return
        except DomainError as exc:
            ack(response_action="errors", errors=hearing_form.field_errors(view, {"decision": exc.message}))
            return
        except Exception as exc:
            ack(
                response_action="errors",
                errors=hearing_form.field_errors(view, {"decision": friendly(exc).text.removeprefix(":warning: ")}),
            )
            return
        ack(response_action="update", view=done)
