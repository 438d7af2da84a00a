"""Open store handles, one per worker thread and practice, reused across requests.

A store handle is one database connection, used by one thread at a time (SQLite's connections
must stay on the thread that opened them). Requests run on a fixed pool of worker threads, so
each thread keeps its own handle per practice; a handle whose store failed is closed and opened
again on the next request.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from shsync.backends import open_backend
from shsync.backends.base import Backend
from shsync.backends.url import with_practice
from shsync.errors import BackendError, NoPractice
from shsync.tokens import Unauthorized

PRACTICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class Handles:
    def __init__(self, url: str, lock_timeout: float = 60.0):
        self.url = url
        self.lock_timeout = lock_timeout
        self._local = threading.local()
        self._all: list[Backend] = []
        self._lock = threading.Lock()

    @contextmanager
    def practice(self, name: str) -> Iterator[Backend]:
        """The store of one practice. A practice the store does not know (no data, no token)
        is answered as an invalid token: nobody can hold a token for it."""
        if not PRACTICE.match(name):
            raise Unauthorized(f"the token is not valid for practice {name[:100]!r}")
        cache: dict[str, Backend] = self._local.__dict__.setdefault("handles", {})
        backend = cache.get(name)
        if backend is None:
            try:
                backend = open_backend(with_practice(self.url, name), self.lock_timeout)
            except NoPractice:
                raise Unauthorized(f"the token is not valid for practice {name!r}") from None
            cache[name] = backend
            with self._lock:
                self._all.append(backend)
        try:
            yield backend
        except BackendError as exc:
            if type(exc) is BackendError:  # the store itself failed: open afresh next time
                cache.pop(name, None)
                _close(backend)
            raise

    def close(self) -> None:
        with self._lock:
            for backend in self._all:
                _close(backend)
            self._all.clear()


def _close(backend: Backend) -> None:
    try:
        backend.close()
    except Exception:  # noqa: BLE001 - closing a broken connection may fail; it is gone anyway
        pass
