"""The Bolt app factory: wiring only. Listeners live in bot/slack/listeners, one module a feature.

Sync Bolt, not AsyncApp: the domain layer is synchronous SQLAlchemy, and sync Bolt runs
each listener in its own thread pool after the request is acknowledged, so a slow
listener never blocks the others or the HTTP server's event loop (which hands each
request to a worker thread; see bot/runtime/web.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from otp_bot.bot.ops.requests import slack_scope
from otp_bot.bot.runtime.work_pool import WorkPool
from otp_bot.bot.runtime.worker import OutboxWorker
from otp_bot.bot.slack.client import make_client
from otp_bot.bot.slack.errors import friendly
from otp_bot.bot.slack.identity import IdentityResolver
from otp_bot.bot.slack.settings import SlackSettings
from otp_bot.store.db import Database
from otp_bot.store.domain.inbound import first_delivery

log = logging.getLogger("otp_bot.slack")


class _QuietTokenWarning(logging.Filter):
    # Bolt reads SLACK_BOT_TOKEN itself and warns that our client's token wins; it is the same token.
    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


log.addFilter(_QuietTokenWarning())


class _NoRequestBodies(logging.Filter):
    # Bolt's own signature check logs a failing request's whole body. Ours runs first
    # (bot/slack/ingress.py) and logs one bounded line; Bolt's, kept as a second check, never
    # writes a body to the log.
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Invalid request signature detected")


logging.getLogger("slack_bolt.RequestVerification").addFilter(_NoRequestBodies())


@dataclass
class Deps:
    """What listeners need, handed to each `register(app, deps)`; nothing global."""

    db: Database
    client: WebClient
    identity: IdentityResolver
    worker: OutboxWorker
    # The work after an ack (a decision, a post, a slow answer); Bolt's listener pool beside it.
    work: WorkPool = field(default_factory=lambda: WorkPool(max_workers=16, thread_name_prefix="otp-work"))
    listeners: WorkPool = field(default_factory=lambda: WorkPool(max_workers=32, thread_name_prefix="otp-listener"))

    def idle(self) -> bool:
        """No listener still running after its ack, and no work handed on by one."""
        return self.listeners.idle() and self.work.idle()

    def kick(self) -> None:
        """Something was queued for Slack: send it now, not at the next poll."""
        self.worker.kick()


def create_app(
    db: Database, settings: SlackSettings, *, client: WebClient | None = None, verify_token: bool = True
) -> tuple[App, Deps]:
    """Build the app. Raises ConfigError when the bot token or signing secret is missing."""
    settings.require("bot_token", "signing_secret")
    client = client or make_client(settings.secret("bot_token"), settings.base_url, settings.timeout_seconds)
    deps = Deps(db=db, client=client, identity=IdentityResolver(client), worker=OutboxWorker(db, client))
    app = App(
        client=client,
        signing_secret=settings.secret("signing_secret"),
        token_verification_enabled=verify_token,
        listener_executor=deps.listeners,
        logger=log,
    )

    app.use(slack_scope)  # the kind of request, for its log lines and /metrics

    @app.middleware
    def store(context, next):
        # Listeners open their own unit of work from this; a session cannot outlive the
        # request here, because the listener keeps running after the ack.
        context["db"] = db
        return next()

    @app.middleware
    def once_per_event(body, next):
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            with db.session() as session:
                if not first_delivery(session, event_id):
                    log.info("event %s delivered again (a Slack retry); already handled", event_id)
                    return BoltResponse(status=200, body="")
        return next()

    @app.error
    def on_error(error, body, respond, logger):
        reply = friendly(error)
        if body.get("response_url"):
            respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)

    from otp_bot.bot.slack.listeners import (
        approvals,
        autonomy,
        chart_image,
        commands,
        delivery,
        home,
        lifecycle,
        queue,
        raise_issue,
        review,
        rhythm,
        share,
    )

    # lifecycle before commands: it takes `/otp retire <seat>` (to open the hearing form at once);
    # rhythm too: it takes `/otp scorecard --post` (to post in the channel); chart_image takes
    # `/otp chart --image` (to upload the picture).
    for feature in (
        approvals,
        autonomy,
        delivery,
        lifecycle,
        rhythm,
        raise_issue,
        chart_image,
        commands,
        home,
        queue,
        review,
        share,
    ):
        feature.register(app, deps)
    return app, deps
