"""`otp doctor`: checks a live install and says what to fix.

`check` (one line of the checklist: ok, fail or skip, with the fix), `slack_checks` (the
tokens, the scopes granted against manifest.yml's, the bot in each channel the chart posts in,
each person a Slack user), `store_checks` (the database and its migrations, the chart, the
schedules' next runs), `request_url` (a signed URL verification, as Slack sends), `report`
(the checklist for people, or JSON). `run` puts them in order: a check whose ground failed
(no token, no database) is skipped, saying why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from otp_bot.bot.ops.doctor import request_url, slack_checks, store_checks
from otp_bot.bot.ops.doctor.check import Check, skip
from otp_bot.bot.slack.settings import ConfigError, SlackSettings
from otp_bot.store.domain.chart import slack_refs

__all__ = ["Check", "run"]


def run(slack: SlackSettings, database_url: str, *, url: str | None = None, now: dt.datetime) -> Iterator[Check]:
    """Every check, in the checklist's order, each as soon as it is done."""
    from otp_bot.bot.slack.client import make_client

    client, problem = None, None
    try:
        slack.require("bot_token")
        client = make_client(slack.secret("bot_token"), slack.base_url, slack.timeout_seconds)
    except ConfigError as exc:
        problem = str(exc)
    token, install = slack_checks.bot_token(client, problem, slack.base_url)
    yield token
    if client is not None and (app := slack_checks.app_token(client, slack.secret("app_token"))) is not None:
        yield app
    yield slack_checks.scopes(install)

    found, db = store_checks.database(database_url)
    yield found
    if db is None:
        for name, title in (
            ("chart", "Chart"),
            ("channels", "Channels"),
            ("people", "People"),
            ("schedules", "Schedules"),
        ):
            yield skip(name, title, "the database check failed")
    else:
        try:
            with db.session(readonly=True) as session:
                chart = store_checks.chart(session)
                channels, people = slack_refs.channels_in_use(session), slack_refs.people(session)
                schedules = store_checks.schedules(session, now) if not chart.failed else None
            yield chart
            if client is None or install is None:
                yield skip("channels", "Channels", "the bot token did not work")
                yield skip("people", "People", "the bot token did not work")
            else:
                if not channels and not chart.failed:
                    yield skip("channels", "Channels", "the chart names no channel")
                for use in channels:
                    yield slack_checks.channel(client, use, install.bot_name)
                if people:
                    yield slack_checks.people(client, people)
                elif not chart.failed:
                    yield skip("people", "People", "the chart names no person")
            yield schedules or skip("schedules", "Schedules", "there is no chart")
        finally:
            db.dispose()

    if url:
        yield request_url.request_url(url, slack.secret("signing_secret") or None)
    else:
        yield skip("request-url", "Request URL", "give it with --url (Socket Mode needs none)")
