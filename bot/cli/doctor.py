"""`otp doctor`: a checklist of a live install, each failure with its fix; exit 1 if any failed."""

from __future__ import annotations

from typing import Annotated

import typer

from otp_bot.bot.cli.common import out, say


def doctor(
    url: Annotated[
        str | None, typer.Option("--url", help="The request URL to probe (https://host or https://host/slack/events).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The checks as JSON.")] = False,
) -> None:
    """Check the install: tokens, scopes, the bot in the chart's channels, people, the URL, the store, schedules."""
    from otp_bot.bot.ops.doctor import report, run
    from otp_bot.bot.slack.settings import SlackSettings
    from otp_bot.store.db import StoreSettings
    from otp_bot.store.domain.clock import utcnow

    slack = SlackSettings()
    checks = []
    for check in run(slack, StoreSettings().resolved_url(), url=url, now=utcnow()):
        checks.append(check)
        if not as_json:
            report.show(out, check)
    if as_json:
        say(report.as_json(checks))
    else:
        out.print(report.summary(checks))
    if any(c.failed for c in checks):
        raise typer.Exit(1)
