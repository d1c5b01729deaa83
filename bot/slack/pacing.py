"""Slack's rate limits kept by design: every Web API call the bot's client makes waits its turn.

Slack limits each method per app per workspace by tier (Tier 2 about 20 calls a minute,
Tier 3 about 50, Tier 4 about 100), and `chat.postMessage` specially: about one message a
second per channel. A burst (500 drafts submitted at once, a briefing with many threads)
sent as fast as the worker can go would be answered with a storm of 429s, each one an
outbox retry. Instead each call reserves the next free slot of its lanes and waits for it:
one lane per method at its tier's rate, and for posts one lane per channel.

A lane is a GCRA (the token bucket written as a "theoretical arrival time"): `burst` calls
may go at once, then one every `interval`. Tiers are paced so that no minute holds more
than the tier's published count (the burst plus the steady rate fill exactly one minute);
posts are evenly spaced, one a second per channel, no burst.

Shared by every thread of a process: one `Pacer` per (token, API URL), from `pacer_for`.
Processes do not share it. With several processes on one bot token, give each a share of
the rate (`OTP_SLACK_PACE=0.5` for two); a 429 that still comes (another process, Slack's
unpublished workspace-wide posting limit) holds the lane it hit for the `Retry-After`
Slack asked, and the call itself is retried where it always was (slack-sdk's retry
handlers for reads and idempotent writes, the outbox for posts).

Fenced calls (the outbox's and the scheduler's) must not wait after they re-confirm their
claim, or the wait would eat into the lease that fences them: they take their `turn` first
(wait, then confirm), and the call inside the turn goes at once.

A hand-written lane rather than pyrate-limiter or limits: both answer "may I, now?" (and
block by polling), whereas a fenced call needs its slot reserved across two lanes at once
(the method's and the channel's) and to know the wait before it confirms its claim.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

# Each method's tier (docs.slack.dev/reference/methods). "Special" methods other than
# chat.postMessage are paced as Tier 4; a method not listed here as Tier 2, the most common.
TIER_OF = {
    "apps.connections.open": 1,
    "usergroups.users.list": 2,
    "users.list": 2,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.scheduleMessage": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.open": 3,
    "conversations.info": 3,
    "users.lookupByEmail": 3,
    "auth.test": 4,
    "chat.getPermalink": 4,
    "chat.postEphemeral": 4,
    "conversations.members": 4,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "views.publish": 4,
    "users.info": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
}
DEFAULT_TIER = 2
# (calls a minute Slack publishes, of which may go at once)
TIERS = {1: (1, 1), 2: (20, 4), 3: (50, 10), 4: (100, 20)}
# Paced per channel, one a second, and by no tier: Slack's special limit for posting.
PER_CHANNEL = frozenset({"chat.postMessage"})
POSTS_PER_SECOND = 1.0
MAX_LANES = 2_000  # idle lanes are forgotten past this many (an idle lane is as good as a new one)


@dataclass
class Lane:
    interval: float  # seconds between calls at the steady rate
    burst: int = 1
    tat: float = 0.0  # theoretical arrival time: when the lane has drained completely

    @property
    def tolerance(self) -> float:
        return (self.burst - 1) * self.interval

    def slot(self, now: float) -> float:
        """The earliest time a call may go."""
        return max(now, self.tat - self.tolerance)

    def take(self, at: float) -> None:
        self.tat = max(self.tat, at) + self.interval

    def hold(self, until: float) -> None:
        """No call before `until` (Slack said to wait)."""
        self.tat = max(self.tat, until + self.tolerance)


def lanes_for(method: str, channel: str | None) -> list[tuple[str, ...]]:
    """The keys of the lanes a call waits in."""
    if method in PER_CHANNEL:
        return [(method, channel or "")]
    return [(method,)]


class Pacer:
    """Reserves each call's slot in its lanes and waits for it. Thread-safe.

    `pace` scales every rate: 1 is Slack's published limits, 0.5 half of them (two processes
    on one token), 0 turns pacing off."""

    def __init__(
        self,
        pace: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if pace < 0:
            raise ValueError("pace is 0 (off) or more")
        self.pace = pace
        self._clock, self._sleep = clock, sleep
        self._lanes: dict[tuple[str, ...], Lane] = {}
        self._lock = threading.Lock()
        self._turns = threading.local()

    @property
    def enabled(self) -> bool:
        return self.pace > 0

    def _lane(self, key: tuple[str, ...]) -> Lane:
        lane = self._lanes.get(key)
        if lane is None:
            if len(self._lanes) >= MAX_LANES:
                now = self._clock()
                self._lanes = {k: v for k, v in self._lanes.items() if v.tat > now}
            if key[0] in PER_CHANNEL:
                lane = Lane(1.0 / (POSTS_PER_SECOND * self.pace))
            else:
                per_minute, burst = TIERS[TIER_OF.get(key[0], DEFAULT_TIER)]
                lane = Lane(60.0 / (max(per_minute - burst, 1) * self.pace), burst)
            self._lanes[key] = lane
        return lane

    def reserve(self, method: str, channel: str | None = None) -> float:
        """Take the next free slot in every lane of the call; returns how many seconds from now it is."""
        if not self.enabled:
            return 0.0
        with self._lock:
            now = self._clock()
            lanes = [self._lane(key) for key in lanes_for(method, channel)]
            at = max(lane.slot(now) for lane in lanes)
            for lane in lanes:
                lane.take(at)
            return at - now

    def wait(self, method: str, channel: str | None = None) -> float:
        """Wait for the call's slot, unless the thread's current `turn` already waited for it.
        Returns the seconds waited."""
        pending: list[tuple[tuple[str, ...], ...]] = getattr(self._turns, "pending", [])
        if (ticket := _ticket(method, channel)) in pending:
            pending.remove(ticket)
            return 0.0
        delay = self.reserve(method, channel)
        if delay > 0:
            self._sleep(delay)
        return delay

    @contextmanager
    def turn(self, method: str, channel: str | None = None) -> Iterator[float]:
        """Wait for the slot now; the thread's next call of `method` to `channel` inside the
        block then goes at once. For fenced calls: wait first, then confirm the claim, then call."""
        delay = self.wait(method, channel)
        pending = self._turns.__dict__.setdefault("pending", [])
        ticket = _ticket(method, channel)
        pending.append(ticket)
        try:
            yield delay
        finally:
            if ticket in pending:  # not used: the claim was lost, or the call never came
                pending.remove(ticket)

    def hold(self, method: str, channel: str | None, seconds: float) -> None:
        """Slack answered 429: nothing more in the call's lanes for `seconds`."""
        if not self.enabled:
            return
        with self._lock:
            until = self._clock() + max(seconds, 0.0)
            for key in lanes_for(method, channel):
                self._lane(key).hold(until)


def _ticket(method: str, channel: str | None) -> tuple[tuple[str, ...], ...]:
    # A turn is for the call's lanes: a turn taken without the channel of a call whose
    # lanes ignore it (chat.update) is that call's turn, not a second slot to wait for.
    return tuple(lanes_for(method, channel))


_pacers: dict[tuple[str, str], Pacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(token: str, base_url: str, pace: float) -> Pacer:
    """The process's pacer for one app in one workspace (Slack limits per token), made once."""
    key = (hashlib.sha256(token.encode()).hexdigest(), base_url)
    with _pacers_lock:
        pacer = _pacers.get(key)
        if pacer is None or pacer.pace != pace:
            pacer = _pacers[key] = Pacer(pace)
        return pacer


def turn(client: Any, method: str, channel: str | None = None) -> AbstractContextManager[Any]:
    """`client.pacer.turn(...)` for a paced client; nothing to wait for with any other."""
    pacer = getattr(client, "pacer", None)
    return pacer.turn(method, channel) if isinstance(pacer, Pacer) else nullcontext(0.0)
