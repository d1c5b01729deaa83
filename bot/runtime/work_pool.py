"""A thread pool that can say whether it has work in hand: listeners run their slow part
(the work after the ack) on one, and `otp shell` waits for it before its next prompt.

Work runs in the context it was handed over in (`contextvars`), so its log lines still name
the request it belongs to (bot/ops/context.py)."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class WorkPool(ThreadPoolExecutor):
    def __init__(self, max_workers: int, thread_name_prefix: str) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._in_hand = 0
        self._count = threading.Lock()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._count:
            self._in_hand += 1
        try:
            context = contextvars.copy_context()
            future = super().submit(lambda: context.run(fn, *args, **kwargs))
        except BaseException:
            self._done(None)
            raise
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any] | None) -> None:
        with self._count:
            self._in_hand -= 1

    def idle(self) -> bool:
        """Nothing queued or running (a task it starts from inside counts until it ends)."""
        with self._count:
            return self._in_hand == 0
