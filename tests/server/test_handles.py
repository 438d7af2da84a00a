"""The server's per-head reads, without a server: one thread reads a practice when its head
moves, the others wait for that read; a moved head is read again."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from shsync.core.state import PracticeState
from shsync.server.handles import CachedReads, Kept


class Store:
    practice = "p"

    def __init__(self) -> None:
        self.at = (1, "sha256:a")
        self.reads = 0

    def cache_key(self):  # the log's head and the kept fingerprint
        return self.at, "sha256:kept"

    def read_at_head(self):
        self.reads += 1
        time.sleep(0.3)  # a large practice: long enough for the other threads to arrive
        return PracticeState(), self.at


def test_concurrent_requests_at_a_new_head_read_the_practice_once():
    store, kept = Store(), Kept()
    start = threading.Barrier(8)

    def ask(_):
        start.wait()
        return CachedReads(store, kept).answers()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert store.reads == 1
    assert all(a is answers[0] for a in answers)
    store.at = (2, "sha256:b")
    assert CachedReads(store, kept).answers() is not answers[0] and store.reads == 2
    assert CachedReads(store, kept).answers() is CachedReads(store, kept).answers()
    assert store.reads == 2
