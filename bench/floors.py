"""The floors every Slack ratio is measured against, each a server of its own:

    python bench/floors.py bolt-command|bolt-button|signed --host 127.0.0.1 --port N

- `bolt-command`: the app `otp serve` runs (the same FastAPI app of bot/runtime/web.py, the
  same Bolt `App` arguments, the same uvicorn options), but its `/otp` listener only acks:
  HTTP, the signature check and Bolt's dispatch, none of our work;
- `bolt-button`: the same, its button listener acks and then sends one `chat.update` of the
  clicked message: the least an Approve click can do before the person sees a change;
- `signed`: a bare Starlette endpoint that checks the Slack signature with slack_sdk's
  `SignatureVerifier` and answers `ok`: what answering a signed request costs without
  Bolt's listener runner (sync Bolt waits for an ack in 10 ms polls).

The Slack settings (token, signing secret, Web API URL) come from the environment, as for
`otp serve`.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor


def bolt_app():
    from slack_bolt import App

    from otp_bot.bot.slack.client import make_client
    from otp_bot.bot.slack.settings import SlackSettings

    settings = SlackSettings()
    settings.require("bot_token", "signing_secret")
    client = make_client(settings.secret("bot_token"), settings.base_url)
    # The arguments of bot/slack/app.py's create_app: only the listeners differ.
    app = App(
        client=client,
        signing_secret=settings.secret("signing_secret"),
        listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="otp-listener"),
        logger=logging.getLogger("otp_bot.slack"),
    )
    return app, settings.secret("signing_secret")


def bolt_command():
    from otp_bot.bot.runtime.web import create_web_app
    from otp_bot.store.db import Database

    app, secret = bolt_app()

    @app.command("/otp")
    def noop(ack) -> None:
        ack("ok")

    return create_web_app(Database(), app, signing_secret=secret)


def bolt_button():
    from otp_bot.bot.runtime.web import create_web_app
    from otp_bot.store.db import Database

    app, secret = bolt_app()

    @app.action(re.compile(".*"))
    def update(ack, body, client) -> None:
        ack()
        client.chat_update(channel=body["channel"]["id"], ts=body["container"]["message_ts"], text="decided")

    return create_web_app(Database(), app, signing_secret=secret)


def signed():
    from slack_sdk.signature import SignatureVerifier
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    verifier = SignatureVerifier(os.environ["SLACK_SIGNING_SECRET"])

    async def events(request: Request) -> PlainTextResponse:
        body = await request.body()
        if not verifier.is_valid_request(body, dict(request.headers)):
            return PlainTextResponse("invalid signature", status_code=401)
        return PlainTextResponse("ok")

    async def healthz(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"]), Route("/healthz", healthz)])


def main() -> None:
    import uvicorn

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("kind", choices=("bolt-command", "bolt-button", "signed"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    logging.basicConfig(level=os.environ.get("OTP_LOG_LEVEL", "WARNING").upper())
    app = {"bolt-command": bolt_command, "bolt-button": bolt_button, "signed": signed}[args.kind]()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
