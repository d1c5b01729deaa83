"""Failure injection for the Slack stand-in: the next calls failing (`fail_next`), slow
answers (`delay`), outages for a while or a number of calls (`outage`), and Slack's posting
limit enforced (`enforce_post_rate`)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

from tests.support.slack.calls import Reply


@dataclass
class Failure:
    status: int
    retry_after: int | None
    delay: float
    error: str | None
    why: str | None = None  # how `describe` names it, when not by its parts

    @property
    def breaks(self) -> bool:
        """Whether the call is answered with the failure instead of its normal answer."""
        return self.status != 200 or self.error is not None

    def describe(self) -> str:
        if self.why:
            return self.why
        if self.status == 0:
            return "connection dropped"
        parts = []
        if self.delay:
            parts.append(f"delay {self.delay}s")
        if self.status != 200:
            parts.append(f"http {self.status}")
        if self.error:
            parts.append(f"error {self.error}")
        return ", ".join(parts)


@dataclass
class Outage:
    methods: frozenset[str] | None  # None: every Web API method
    kind: str  # "429", a 5xx status as text, or "drop" (the connection closes without an answer)
    until: float | None  # time.monotonic() it ends at
    calls_left: int | None

    def covers(self, method: str) -> bool:
        if self.until is not None and time.monotonic() >= self.until:
            return False
        if self.calls_left is not None and self.calls_left <= 0:
            return False
        if method in ("response_url", "upload_url") or method.startswith("unknown:"):
            return False
        return self.methods is None or method in self.methods

    def failure(self) -> Failure:
        if self.calls_left is not None:
            self.calls_left -= 1
        if self.kind == "drop":
            return Failure(0, None, 0.0, None)
        status = int(self.kind)
        return Failure(status, 1 if status == 429 else None, 0.0, None)


def failure_reply(failure: Failure) -> Reply:
    if failure.status == 429:
        return Reply(
            429,
            {"ok": False, "error": failure.error or "ratelimited"},
            headers={"Retry-After": str(failure.retry_after)},
        )
    if failure.status != 200:
        return Reply(failure.status, {"ok": False, "error": failure.error or "internal_error"})
    return Reply(200, {"ok": False, "error": failure.error})


class FaultInjection:
    """The failure-injection half of `SlackAPI`: queues what `SlackAPI._handle` consults."""

    _lock: threading.RLock
    _failures: dict[str, deque[Failure]]
    _delays: dict[str, float]
    _outages: list[Outage]
    _post_rate: tuple[float, int] | None
    _post_buckets: dict[str, tuple[float, float]]

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        retry_after: int | None = None,
        delay: float = 0.0,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls to `method` fail.

        status=429: HTTP 429 with `Retry-After: retry_after` (default 1) and error ratelimited;
        status=5xx: that status; error="...": HTTP 200 with ok=false and that error;
        delay=seconds: answer that much later (normally, unless status/error is also given).
        """
        if status == 200 and error is None and not delay:
            raise ValueError("fail_next needs status, error or delay")
        if retry_after is not None and not isinstance(retry_after, int):
            # slack-sdk's RateLimitErrorRetryHandler does int(header): "1.5" would crash it.
            raise TypeError("Retry-After is whole seconds")
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            for _ in range(times):
                self._failures[method].append(Failure(status, retry_after, delay, error))

    def delay(self, method: str, seconds: float) -> None:
        """Answer every call to `method` `seconds` late (0: on time again). The work is done
        when the call arrives; only the answer waits, as when Slack is slow to respond."""
        with self._lock:
            if seconds:
                self._delays[method] = seconds
            else:
                self._delays.pop(method, None)

    def outage(
        self, *methods: str, seconds: float | None = None, calls: int | None = None, kind: str | int = 500
    ) -> None:
        """Fail calls (to `methods`, or to every Web API method) for `seconds` from now or
        for the next `calls` calls, without doing their work: kind 429 (Retry-After: 1),
        a 5xx status, or "drop" (the connection is closed without an answer)."""
        if seconds is None and calls is None:
            raise ValueError("an outage needs seconds or calls")
        kind = str(kind)
        if kind != "drop" and not (kind == "429" or kind.startswith("5")):
            raise ValueError("kind is 429, a 5xx status or 'drop'")
        until = time.monotonic() + seconds if seconds is not None else None
        with self._lock:
            self._outages.append(Outage(frozenset(methods) or None, kind, until, calls))

    def end_outage(self) -> None:
        with self._lock:
            self._outages.clear()

    def enforce_post_rate(self, per_second: float = 1.0, burst: int = 2) -> None:
        """Answer chat.postMessage as Slack's posting limit does: a channel takes `per_second`
        posts a second, with a short burst of `burst` tolerated (a token bucket per channel);
        a post beyond that is not posted and gets HTTP 429, error `ratelimited` and Retry-After
        (whole seconds until the channel takes one again). `per_second=0` stops enforcing.

        The burst of 2 is the smallest that lets posts spaced exactly 1/per_second apart
        through when the network delays one a little more than the next (Slack: "short bursts
        >1 allowed")."""
        with self._lock:
            self._post_rate = (per_second, burst) if per_second > 0 else None
            self._post_buckets.clear()

    def _over_post_rate(self, channel: str) -> Failure | None:
        """Holding the lock: None when the channel may take this post (and it is counted)."""
        if self._post_rate is None or not channel:
            return None
        rate, burst = self._post_rate
        now = time.monotonic()
        tokens, last = self._post_buckets.get(channel, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * rate)
        if tokens < 1.0:
            self._post_buckets[channel] = (tokens, now)
            return Failure(429, max(1, math.ceil((1.0 - tokens) / rate)), 0.0, None, "rate limited")
        self._post_buckets[channel] = (tokens - 1.0, now)
        return None
