"""Is Slack there? Asked once when `otp serve` starts, then again in the background until it is.

`otp serve` does not need Slack to start: the agent API, MCP and /healthz work without it,
and everything bound for Slack waits in the outbox (the worker retries it). So Slack
unreachable at start is one WARNING line, not a crash, and a background watch says when
Slack answers again. Slack refusing the token is different: that is a configuration error,
and the caller stops with one line naming SLACK_BOT_TOKEN.
"""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger("otp_bot.slack")
_quiet = logging.getLogger("otp_bot.slack.probe")  # slack-sdk logs each failed call at ERROR: one line is ours
_quiet.setLevel(logging.CRITICAL)

TOKEN_REFUSED = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type"}
)
PROBE_TIMEOUT = 5  # seconds; an unroutable address must not hold the start up for long
BACKOFF = (2, 5, 10, 30, 60)  # seconds between background probes; the last repeats


class TokenRefused(Exception):
    pass


def probe(token: str, base_url: str) -> str | None:
    """None when Slack answers auth.test for this token; otherwise why it could not be reached.
    Raises TokenRefused when Slack answered and refused the token."""
    client = WebClient(
        token=token, base_url=base_url, timeout=PROBE_TIMEOUT, logger=_quiet, retry_handlers=[]
    )  # one try: the watch is the retry
    try:
        client.auth_test()
        return None
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        if error in TOKEN_REFUSED:
            raise TokenRefused(f"Slack refused SLACK_BOT_TOKEN ({error}): check the bot token") from None
        return f"Slack answered HTTP {exc.response.status_code}" + (f" ({error})" if error else "")
    except Exception as exc:
        reason = getattr(exc, "reason", None) or exc
        return str(getattr(reason, "strerror", None) or reason)[:200]


class SlackWatch:
    """Probes Slack in the background until it answers, then logs so once and stops."""

    def __init__(self, token: str, base_url: str) -> None:
        self.token, self.base_url = token, base_url
        self._stop = threading.Event()
        self.reachable = threading.Event()
        self._thread = threading.Thread(target=self._run, name="otp-slack-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        attempt = 0
        while not self._stop.wait(BACKOFF[min(attempt, len(BACKOFF) - 1)]):
            attempt += 1
            try:
                reason = probe(self.token, self.base_url)
            except TokenRefused as exc:
                log.error("%s; Slack requests will fail until it is fixed", exc)
                return
            if reason is None:
                log.warning("Slack is reachable again at %s (after %d more tries)", self.base_url, attempt)
                self.reachable.set()
                return
