"""The operating rhythm in Slack: `/otp scorecard --post` posts the weekly scorecard (with
its chart image) in the channel it is typed in, and the Raise issue button on an off-track
row turns that miss into an issue and updates the post in place.

Registered before the general /otp listener, so it takes `scorecard … --post` and nothing
else; `/otp briefing` and `/otp scorecard` are plain commands (commands/).
"""

from __future__ import annotations

import re

from slack_bolt import Ack, App, Respond

from otp_bot.bot.runtime.rhythm_posts import RhythmPoster
from otp_bot.bot.slack.app import Deps
from otp_bot.bot.slack.errors import friendly
from otp_bot.commands.parser import tokenize
from otp_bot.commands.routing import posts_scorecard
from otp_bot.commands.views.scorecard_post import RAISE_ACTION, parse_raise_value
from otp_bot.store.domain.errors import Forbidden, Invalid
from otp_bot.store.domain.review.metric_issues import raise_from_metric
from otp_bot.store.domain.rhythm import manual_runs, run_history


def _posts_scorecard(body: dict) -> bool:
    return posts_scorecard(body.get("text") or "")


def _say(respond: Respond, exc: BaseException) -> None:
    reply = friendly(exc)
    respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)


def register(app: App, deps: Deps) -> None:
    poster = RhythmPoster(deps.db, deps.client)

    @app.command("/otp", matchers=[_posts_scorecard])
    def post_scorecard(ack: Ack, command: dict, respond: Respond) -> None:
        tokens = tokenize(command.get("text") or "")
        if len(tokens) != 2:
            ack(
                text="`/otp scorecard --post` posts the whole scorecard here; it takes no seat or options",
                response_type="ephemeral",
            )
            return
        ack(text=":hourglass_flowing_sand: Posting the scorecard in this channel…", response_type="ephemeral")
        deps.work.submit(_post, deps, poster, command, respond)

    @app.action(re.compile(f"^{RAISE_ACTION}_\\d+$"))
    def raise_issue(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        try:
            _raise_issue(deps, poster, body, action)
        except Exception as exc:
            _say(respond, exc)


def _post(deps: Deps, poster: RhythmPoster, command: dict, respond: Respond) -> None:
    try:
        actor = deps.identity.actor(deps.db, command["user_id"])
        if not actor.operator and actor.holder_id is None:
            raise Forbidden(
                "only people on the chart post the scorecard in a channel",
                hint="`/otp scorecard` shows it to you alone",
            )
        with deps.db.session() as session:
            claim = manual_runs.on_demand(session, "scorecard", command["channel_id"], started_by=actor.audit_name)
        outcome = poster.perform(claim)
        if outcome.status != "posted":
            raise Invalid(
                f"the scorecard was not posted: {outcome.note}",
                hint="invite me to this channel (`/invite @otp`)" if "not_in_channel" in (outcome.note or "") else None,
            )
    except Exception as exc:
        _say(respond, exc)


def _raise_issue(deps: Deps, poster: RhythmPoster, body: dict, action: dict) -> None:
    container = body.get("container") or {}
    channel, ts = container.get("channel_id", ""), container.get("message_ts", "")
    run_named, metric_id = parse_raise_value(action.get("value", ""))
    actor = deps.identity.actor(deps.db, body["user"]["id"])
    with deps.db.session() as session:
        # The click counts only on a scorecard post this bot made, and names that post's run (a
        # forged value names another, or none).
        run = run_history.run_for_message(session, channel, ts)
        if run is None or run.post != "scorecard":
            raise Invalid("this button is not on a scorecard post I know; post a new one with `/otp scorecard --post`")
        if run_named != run.id or not metric_id:
            raise Invalid(
                "this button does not belong to this scorecard post; nothing was raised",
                hint="click a row's own Raise issue button, or `/otp scorecard` for the numbers now",
            )
        raise_from_metric(session, actor, metric_id, run_id=run.id)
        run_id = run.id
    poster.refresh_scorecard(run_id)
