"""The one place a failure in a Slack listener becomes a friendly reply.

Domain errors say what to fix. Anything else is logged with a short id the person can
quote, and the reply shows only that id: never a traceback or a secret.
"""

from __future__ import annotations

import logging
import uuid

from otp_bot.commands.dispatch import error_reply
from otp_bot.commands.reply import Reply
from otp_bot.store.domain.errors import DomainError

log = logging.getLogger("otp_bot.slack")


def friendly(exc: BaseException) -> Reply:
    if isinstance(exc, DomainError):
        return error_reply(exc.message, exc.hint)
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s: %s", error_id, exc, exc_info=exc)
    return error_reply(f"something went wrong on my side (error id `{error_id}`); nothing was changed",
                       "try again in a moment, or quote the error id to whoever runs OTP bot")
