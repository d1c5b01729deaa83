"""The one place a failure in a Slack listener becomes a friendly reply.

Domain errors say what to fix. Anything else is logged with a short id the person can
quote, and the reply shows only that id: never a traceback or a secret.
"""

from __future__ import annotations

import logging
import uuid
from urllib.error import URLError

from slack_sdk.errors import SlackApiError

from otp_bot.commands.dispatch import error_reply
from otp_bot.commands.reply import Reply
from otp_bot.store.domain.errors import DomainError
from otp_bot.store.retry import is_transient

log = logging.getLogger("otp_bot.slack")
SLACK_FAILURES = (SlackApiError, URLError, TimeoutError, ConnectionError)


def friendly(exc: BaseException) -> Reply:
    if isinstance(exc, DomainError):
        return error_reply(exc.message, exc.hint)
    error_id = uuid.uuid4().hex[:8]
    if is_transient(exc):
        # The database was away for longer than the retries wait (a restart, a failover).
        log.warning("database unavailable %s: %s", error_id, type(getattr(exc, "orig", None) or exc).__name__)
        return error_reply(
            f"the database did not answer for several seconds (error id `{error_id}`), so this was "
            "perhaps not recorded",
            "try again in a moment; a decision is never recorded twice",
        )
    if isinstance(exc, SLACK_FAILURES):
        # Slack failing (or unreachable) is not our bug: no traceback, but an id to match the log.
        what = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        log.warning("Slack call failed %s: %s", error_id, what)
        return error_reply(
            f"Slack did not accept that just now ({what}; error id `{error_id}`); nothing was changed",
            "try again in a moment",
        )
    log.error("unexpected error %s: %s", error_id, exc, exc_info=exc)
    return error_reply(
        f"something went wrong on my side (error id `{error_id}`); nothing was changed",
        "try again in a moment, or quote the error id to whoever runs OTP bot",
    )
