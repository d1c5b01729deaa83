"""Is Slack there? Asked once when `otp serve` starts, then again in the background until it is.

`otp serve` does not need Slack to start: the agent API, MCP and /healthz work without it,
and everything bound for Slack waits in the outbox (the worker retries it). So Slack
unreachable at start is one WARNING line, not a crash, and a background watch says when
Slack answers again. Slack refusing the token is different: that is a configuration error,
and the caller stops with one line naming SLACK_BOT_TOKEN.

`Reachability` keeps the last answer for /readyz (bot/ops/health.py) and has it asked again
in the background when it is old.
"""

from __future__ import annotations

import logging
import threading
import time

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


class Reachability:
    """What Slack last answered, for /readyz: asked again in the background once the answer
    is older than `fresh_for` seconds (5 while Slack is away), so a readiness probe never
    waits on Slack and Slack sees one auth.test per period however often the probe comes."""

    AWAY_FRESH_FOR = 5.0

    def __init__(self, token: str, base_url: str, fresh_for: float = 30.0) -> None:
        self.token, self.base_url, self.fresh_for = token, base_url, fresh_for
        self._lock = threading.Lock()
        self._reason: str | None = "not asked yet"
        self._at = float("-inf")
        self._asking = False

    def record(self, reason: str | None) -> None:
        """An answer from any probe (at start, the watch, a refresh): None when Slack answered."""
        with self._lock:
            self._reason, self._at = reason, time.monotonic()

    def status(self) -> str | None:
        """None when Slack answered the last probe, else why not; a stale answer is asked again in the background."""
        with self._lock:
            reason, age = self._reason, time.monotonic() - self._at
            stale = age >= (self.fresh_for if reason is None else min(self.fresh_for, self.AWAY_FRESH_FOR))
            if stale and not self._asking:
                self._asking = True
                threading.Thread(target=self._ask, name="otp-slack-reach", daemon=True).start()
        return reason

    def _ask(self) -> None:
        reason: str | None = "the probe failed"
        try:
            reason = probe(self.token, self.base_url)
        except TokenRefused as exc:
            reason = str(exc)
        finally:
            self.record(reason)
            with self._lock:
                self._asking = False


class SlackWatch:
    """Probes Slack in the background until it answers, then logs so once and stops."""

    def __init__(self, token: str, base_url: str, reach: Reachability | None = None) -> None:
        self.token, self.base_url, self.reach = token, base_url, reach
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
                if self.reach is not None:
                    self.reach.record(str(exc))
                return
            if self.reach is not None:
                self.reach.record(reason)
            if reason is None:
                log.warning("Slack is reachable again at %s (after %d more tries)", self.base_url, attempt)
                self.reachable.set()
                return
