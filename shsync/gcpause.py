"""Pause the cyclic garbage collector while large, acyclic structures are built.

Loading and planning an org create millions of small objects (dicts, strings, tuples) and no
reference cycles that need collecting. Every 700 allocations CPython's cyclic collector still
runs, and each older-generation pass rescans everything built so far: at L (10,000 members,
200,000 clients) that was 4.2 s of a 12 s plan in 5,000 collections. Reference counting still
frees everything as usual; only the cycle search waits until the block ends (bench/notes.md).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Disable the cyclic GC for the block; nested blocks leave it to the outermost one, and a
    collector that was already off stays off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
