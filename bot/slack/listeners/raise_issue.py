"""Raising issues from Slack, besides the weekly post's button (bot/slack/listeners/rhythm.py):

- the *Raise issue* buttons under `/otp scorecard`'s off-track rows: the reply is the
  asker's alone, so the answer goes to them alone too, through the click's response URL;
- the *Raise as issue* message shortcut: a form with the message's text as the title, the
  seat that owns it and a detail; the issue keeps the message's permalink. A submission
  with a problem gets it under the field, and nothing is raised.
"""

from __future__ import annotations

import re

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from otp_bot.bot.slack.app import Deps
from otp_bot.bot.slack.errors import friendly
from otp_bot.bot.slack.views import raise_issue_form
from otp_bot.commands.scorecard import RAISE_FROM_REPLY
from otp_bot.commands.views.render import render
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.errors import DomainError, Invalid
from otp_bot.store.domain.review import message_issues
from otp_bot.store.domain.review.metric_issues import raise_from_metric, raiser_name
from otp_bot.store.models import Issue

METRIC_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def _say(respond: Respond, text: str, blocks: list | None = None) -> None:
    respond(text=text, blocks=blocks or [], response_type="ephemeral", replace_original=False)


def _raised(session, actor: Actor, issue: Issue) -> str:
    again = issue.raised_by != actor.audit_name
    return render("review/issue_raised.j2", issue=issue, again=again, raiser=raiser_name(session, issue))


def register(app: App, deps: Deps) -> None:
    @app.action(re.compile(f"^{RAISE_FROM_REPLY}_\\d+$"))
    def raise_from_reply(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        try:
            metric_id = action.get("value") or ""
            # The value is all the click says: a forged one names no metric, or one not off track.
            if not METRIC_ID.match(metric_id):
                raise Invalid(
                    "this button names no metric of the scorecard; nothing was raised",
                    hint="`/otp scorecard` shows the numbers now, with a button on each miss",
                )
            actor = deps.identity.actor(deps.db, body["user"]["id"])
            with deps.db.session() as session:
                issue = raise_from_metric(session, actor, metric_id)
                text = _raised(session, actor, issue)
            _say(respond, text)
        except Exception as exc:
            reply = friendly(exc)
            _say(respond, reply.text, reply.blocks)

    @app.shortcut(raise_issue_form.SHORTCUT)
    def raise_from_message(ack: Ack, shortcut: dict, client: WebClient, respond: Respond) -> None:
        ack()
        try:
            message = shortcut.get("message") or {}
            channel = (shortcut.get("channel") or {}).get("id", "")
            ts = shortcut.get("message_ts") or message.get("ts") or ""
            actor = deps.identity.actor(deps.db, shortcut["user"]["id"])
            with deps.db.session(readonly=True) as session:
                choices = message_issues.seat_choices(session, actor)
            link = client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"]
            view = raise_issue_form.raise_modal(message.get("text") or "", link, choices)
            client.views_open(trigger_id=shortcut["trigger_id"], view=view)
        except Exception as exc:
            reply = friendly(exc)
            if shortcut.get("response_url"):
                _say(respond, reply.text, reply.blocks)

    @app.view(raise_issue_form.RAISE_VIEW)
    def on_submit(ack: Ack, body: dict, view: dict) -> None:
        title, seat_id, detail, ref = raise_issue_form.submitted(view)
        try:
            actor = deps.identity.actor(deps.db, body["user"]["id"])
            with deps.db.session() as session:
                issue = message_issues.raise_from_message(session, actor, title, seat_id, detail, ref)
                text = _raised(session, actor, issue)
        except message_issues.FieldErrors as exc:
            ack(response_action="errors", errors=raise_issue_form.field_errors(exc.problems))
            return
        except DomainError as exc:
            ack(response_action="errors", errors=raise_issue_form.field_errors({"title": exc.message}))
            return
        except Exception as exc:
            text = friendly(exc).text.removeprefix(":warning: ")
            ack(response_action="errors", errors=raise_issue_form.field_errors({"title": text}))
            return
        ack(response_action="update", view=raise_issue_form.done_modal(text))
