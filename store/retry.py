"""The one retry policy for a person's write that met a database that was briefly away
(a PostgreSQL restart or failover, a dropped connection): try again with a short backoff,
a few seconds in all, before telling them to try again.

Only connection-level failures are retried. A refusal by the rules (`DomainError`), a
constraint, a bug: none of these changes by waiting, so they surface at once.

A failure can strike after the commit was sent and before its answer came back, so the
commit may have landed. The work is therefore told when it runs again (`again=True`) and
must recognise its own earlier success (see `decisions.decide(again=...)`): a retry never
makes a second decision.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger("otp_bot.store.retry")
T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """A lost or refused connection, not an answer: worth trying again shortly."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (OperationalError, InterfaceError))


@dataclass(frozen=True)
class Backoff:
    budget: float = 8.0  # seconds from the first attempt until we give up
    first: float = 0.1
    factor: float = 2.0
    most: float = 1.0  # the longest single wait: a restarted server is used within a second

    def run(self, work: Callable[[bool], T], *, budget: float | None = None) -> T:
        """`work(again)` until it returns or fails for a reason waiting cannot fix."""
        deadline = time.monotonic() + (self.budget if budget is None else budget)
        delay, again, attempt = self.first, False, 1
        while True:
            try:
                return work(again)
            except Exception as exc:
                left = deadline - time.monotonic()
                if not is_transient(exc) or left <= 0:
                    raise
                log.warning(
                    "database unavailable (attempt %d, %s); trying again in %.1fs",
                    attempt,
                    type(getattr(exc, "orig", None) or exc).__name__,
                    min(delay, left),
                )
                time.sleep(min(delay, left))
                delay, again, attempt = min(delay * self.factor, self.most), True, attempt + 1


CLICKS = Backoff()
