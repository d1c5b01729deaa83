"""Pausing Python's cyclic garbage collector while a whole chart is read or written."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Reading or writing a big chart allocates millions of objects that reference counting
    alone frees; the cyclic collector, run every few hundred allocations, walked the whole
    growing heap again and again (most of the time of parsing a 10,000-seat file). The
    collector is left as it was found, so a caller that paused it keeps it paused."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
