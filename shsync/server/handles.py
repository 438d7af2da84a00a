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
from typing import Any, cast

from shsync.backends import open_backend
from shsync.backends.base import Backend
from shsync.backends.url import with_practice
from shsync.errors import BackendError, NoPractice
from shsync.tokens import Unauthorized

PRACTICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class CachedReads:
    """A store handle whose `read` reuses the practice last read while the audit log's head is
    unchanged: every change shsync makes (seed, apply, acceptance, refresh, review) appends an
    audit entry in the same transaction, so an unchanged head is an unchanged practice. Asking
    for the head is one small query; reading a large practice is the whole store. Applies read
    the live practice again inside their own transaction, never from here, and so does
    `?verify=true` (`Handles.practice(cached=False)`): a change made outside shsync moves no
    head. The key also holds the fingerprint the store keeps, which a store forgets when it
    finds such a change (a plan refused stale), so the next plan reads the practice as it is."""

    def __init__(self, backend: Any, states: dict[str, tuple[Any, Any]],
                 lock: threading.Lock):
        self._backend, self._states, self._lock = backend, states, lock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def read(self) -> Any:
        return self._cached("state", self._backend.read_at_head)

    def read_fingerprinted(self) -> Any:
        return self._cached("fingerprinted", self._backend.read_fingerprinted_at_head)

    def history(self) -> Any:
        """The audit log, likewise: entries never change, and the head names the last."""
        def entries() -> tuple[Any, Any]:
            found = self._backend.history()
            return found, ((found[-1].seq, found[-1].entry_hash) if found else None)
        return self._cached("history", entries)

    def _cached(self, kind: str, load: Any) -> Any:
        version = self._backend.cache_key()
        key = f"{kind}:{self._backend.practice}"
        with self._lock:
            known = self._states.get(key)
        if known is not None and known[0] == version:
            return known[1]
        value, _ = load()  # the key read before it: a change between them only reads again
        with self._lock:
            self._states[key] = (version, value)
        return value


class Handles:
    def __init__(self, url: str, lock_timeout: float = 60.0):
        self.url = url
        self.lock_timeout = lock_timeout
        self._local = threading.local()
        self._all: list[Backend] = []
        self._lock = threading.Lock()
        self._states: dict[str, tuple[Any, Any]] = {}  # kind:practice -> (audit head, value)

    @contextmanager
    def practice(self, name: str, cached: bool = True) -> Iterator[Backend]:
        """The store of one practice (`cached`: its reads reused, see `CachedReads`). A
        practice the store does not know (no data, no token) is answered as an invalid token:
        nobody can hold a token for it."""
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
            yield cast(Backend, CachedReads(backend, self._states, self._lock) if cached
                       else backend)
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
