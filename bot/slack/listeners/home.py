"""App Home: published when someone opens it; its buttons open the scorecard in a modal."""

from __future__ import annotations

import re

from slack_bolt import Ack, App
from slack_sdk import WebClient

from otp_bot.bot.slack.app import Deps
from otp_bot.bot.slack.errors import friendly
from otp_bot.bot.slack.views.home import OPEN_SCORECARD, home_view
from otp_bot.commands import run
from otp_bot.commands.views.render import truncate
from otp_bot.store.domain.rhythm.overview import overview_for

MODAL_TITLE = 24


def modal(title: str, blocks: list[dict]) -> dict:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": truncate(title, MODAL_TITLE)},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks[:100],
    }


def publish(deps: Deps, client: WebClient, user: str) -> None:
    """The Home tab as this person should see it now."""
    actor = deps.identity.actor(deps.db, user)
    with deps.db.session(readonly=True) as session:
        view = home_view(overview_for(session, actor), user)
    client.views_publish(user_id=user, view=view)


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def publish_home(event: dict, client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        publish(deps, client, event["user"])

    @app.action(re.compile(rf"^{OPEN_SCORECARD}(:|$)"))
    def open_scorecard(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        # The trigger id expires in 3 seconds: open a modal first, fill it after.
        opened = client.views_open(
            trigger_id=body["trigger_id"],
            view=modal(
                "Scorecard",
                [
                    {
                        "type": "section",
                        "text": {"type": "mrkdwn", "text": ":hourglass_flowing_sand: Loading the scorecard…"},
                    }
                ],
            ),
        )
        seat_id = action.get("value") or ""
        try:
            actor = deps.identity.actor(deps.db, body["user"]["id"])
            with deps.db.session(readonly=True) as session:
                reply = run(session, actor, f"scorecard {seat_id}".strip())
        except Exception as exc:
            reply = friendly(exc)
        client.views_update(view_id=opened["view"]["id"], view=modal("Scorecard", reply.blocks))
