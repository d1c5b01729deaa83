"""The cyclic garbage collector paused around a build of many acyclic objects: an org-wide
briefing or scorecard, or a whole chart file read and written.

An org-wide briefing or scorecard makes hundreds of thousands of small objects (rows,
tuples, cells, lines), freed by reference counting or kept as the result; none forms a
cycle. In a process whose heap was not frozen at start (a CLI run, a worker), each young
collection they trigger also promotes what survives, and every few runs a full
collection walks every module, mapper and template loaded: measured, that was 40% of the
briefing's CPU and half the scorecard's. Paused for the build, the collector walks the
survivors once when it resumes, and the rest of the heap not at all. Parsing and applying a
10,000-seat chart file was likewise mostly the collector walking the growing heap.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()
_depth = 0  # builds under way, in any thread: the collector resumes when the last one ends
_resume = False  # whether it ran before the first of them


@contextmanager
def collector_paused() -> Iterator[None]:
    global _depth, _resume
    with _LOCK:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _LOCK:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
