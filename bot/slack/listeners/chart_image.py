"""The chart as a picture in Slack: `/otp chart [seat] --image` and App Home's Org chart
image button upload it (files_upload_v2, as the weekly scorecard's image is uploaded).

An answer is the asker's alone, and a file cannot be ephemeral: the picture goes to the
asker's DM with the bot (its Messages tab), and the ephemeral answer links to it. `/otp share
chart --image` uploads it in the channel instead, where the bot must be a member.

Registered before the general /otp listener, so it takes `chart … --image` and nothing else.
The command runs as any /otp command (commands/chart.py); the picture is drawn after its
transaction, on the work pool, after the ack.
"""

from __future__ import annotations

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from otp_bot.bot.slack.app import Deps
from otp_bot.bot.slack.errors import friendly
from otp_bot.bot.slack.listeners.commands import answer
from otp_bot.bot.slack.listeners.home import modal
from otp_bot.bot.slack.views.home import OPEN_CHART_IMAGE
from otp_bot.commands.parser import split_share
from otp_bot.commands.reply import Reply
from otp_bot.commands.routing import draws_chart
from otp_bot.commands.views import blocks
from otp_bot.commands.views.render import render
from otp_bot.store.domain.errors import Invalid


def _draws_chart(body: dict) -> bool:
    return draws_chart(body.get("text") or "")


def upload_chart(
    deps: Deps, client: WebClient, user_id: str, text: str, channel: str | None
) -> tuple[Reply, str | None]:
    """Answer `text` as `user_id` and upload its picture to `channel`, or to their DM with the
    bot. The reply, and the file's permalink ("" if Slack gave none); None when nothing was
    uploaded: the reply then says why."""
    reply = answer(deps, user_id, text, read_only=True)
    if not reply.ok or reply.attachment is None:
        return reply, None
    attachment = reply.attachment
    try:
        png = attachment.render()
        target = channel or client.conversations_open(users=user_id)["channel"]["id"]
        done = client.files_upload_v2(
            channel=target,
            file=png,
            filename=attachment.filename,
            title=attachment.title,
            initial_comment=reply.text,
            alt_txt=attachment.alt_text,
        )
    except SlackApiError as exc:
        if channel and exc.response.get("error") in ("not_in_channel", "channel_not_found"):
            refused = Invalid("I cannot post in this channel", hint="invite me (`/invite @otp`), or drop `share`")
            return friendly(refused), None
        return friendly(exc), None
    except Exception as exc:
        return friendly(exc), None
    uploaded: dict = done.get("file") or {}
    return reply, str(uploaded.get("permalink") or "")


def register(app: App, deps: Deps) -> None:
    @app.command("/otp", matchers=[_draws_chart])
    def chart_image(ack: Ack, command: dict, respond: Respond, client: WebClient) -> None:
        ack(text=":hourglass_flowing_sand: Drawing the chart…", response_type="ephemeral")
        deps.work.submit(_command, deps, client, command, respond)

    @app.action(OPEN_CHART_IMAGE)
    def home_chart_image(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        # The trigger id expires in 3 seconds: open a modal first, fill it after.
        opened = client.views_open(
            trigger_id=body["trigger_id"],
            view=modal("Org chart", [blocks.section(render("chart/chart_image_drawing.j2"))]),
        )
        reply, link = upload_chart(deps, client, body["user"]["id"], "chart --image", None)
        shown = reply.blocks if link is None else [blocks.section(render("chart/chart_image_sent.j2", link=link))]
        client.views_update(view_id=opened["view"]["id"], view=modal("Org chart", shown))


def _command(deps: Deps, client: WebClient, command: dict, respond: Respond) -> None:
    text, share = split_share(command.get("text") or "")
    reply, link = upload_chart(deps, client, command["user_id"], text, command["channel_id"] if share else None)
    if link is None:
        respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)
    elif not share:  # shared, the picture in the channel is the answer
        note = render("chart/chart_image_sent.j2", link=link)
        respond(text=note, blocks=[blocks.section(note)], response_type="ephemeral", replace_original=False)
