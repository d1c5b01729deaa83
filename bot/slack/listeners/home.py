"""App Home: published when someone opens it; its buttons open the scorecard in a modal,
mark a to-do done, and confirm or decline a rock's track an agent proposed.

The review's buttons ask the domain (`todos.complete`, `rocks.confirm_track`), which judges
the click as it would any other request: a refusal is shown in a small modal and nothing
changes; a change republishes the Home."""

from __future__ import annotations

import re
from collections.abc import Callable

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from otp_bot.bot.slack.app import Deps
from otp_bot.bot.slack.errors import friendly
from otp_bot.bot.slack.views.home import OPEN_SCORECARD, home_view
from otp_bot.bot.slack.views.home_review import ROCK_CONFIRM, ROCK_DECLINE, TODO_DONE
from otp_bot.commands import run
from otp_bot.commands.views.render import truncate
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.errors import DomainError
from otp_bot.store.domain.review import rocks, todos
from otp_bot.store.domain.rhythm.overview import overview_for

MODAL_TITLE = 24


def modal(title: str, blocks: list[dict]) -> dict:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": truncate(title, MODAL_TITLE)},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks[:100],
    }


def notice(title: str, text: str) -> dict:
    return modal(title, [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2_900]}}])


def _decide(
    deps: Deps, client: WebClient, body: dict, action: dict, title: str, change: Callable[[Session, Actor, int], None]
) -> None:
    """Run `change(session, actor, item_id)` for the clicked item; a refusal shows in a modal."""
    user = body["user"]["id"]
    try:
        item_id = int(action.get("value") or "")
    except ValueError:
        return  # not a button of ours
    try:
        actor = deps.identity.actor(deps.db, user)
        with deps.db.session() as session:
            change(session, actor, item_id)
    except DomainError as exc:
        client.views_open(trigger_id=body["trigger_id"], view=notice(title, friendly(exc).text))
        return
    publish(deps, client, user)


def _done(session: Session, actor: Actor, todo_id: int) -> None:
    todos.complete(session, actor, todo_id)


def _confirm(session: Session, actor: Actor, rock_id: int) -> None:
    rocks.confirm_track(session, actor, rock_id)


def _decline(session: Session, actor: Actor, rock_id: int) -> None:
    rocks.confirm_track(session, actor, rock_id, accept=False)


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

    @app.action(re.compile(rf"^{TODO_DONE}(:|$)"))
    def todo_done(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        _decide(deps, client, body, action, "To-do", _done)

    @app.action(re.compile(rf"^({ROCK_CONFIRM}|{ROCK_DECLINE})(:|$)"))
    def rock_track(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        accept = action["action_id"].startswith(ROCK_CONFIRM)
        _decide(deps, client, body, action, "Rock", _confirm if accept else _decline)

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
