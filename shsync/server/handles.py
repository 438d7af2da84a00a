"""Open store handles, one per worker thread and practice, reused across requests.

A store handle is one database connection, used by one thread at a time (SQLite's connections
must stay on the thread that opened them). Requests run on a fixed pool of worker threads, so
each thread keeps its own handle per practice; a handle whose store failed is closed and opened
again on the next request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any, cast

from shsync.stores import open_backend
from shsync.stores.base import Backend
from shsync.stores.url import with_practice
from shsync.errors import BackendError, NoPractice
from shsync.core.access import Lookup
from shsync.core.state import PracticeState
from shsync.render.access import ClientRows
from shsync.core import tokens
from shsync.core.tokens import Unauthorized



class Kept:
    """What the server has read, by kind and practice, each with the audit head (and kept
    fingerprint) it is at; and one lock per key, so that when the head moves one thread reads
    the practice again while the others wait for it (a whole practice at M is 0.2 s; fifty
    concurrent requests reading it at once took seconds each)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, tuple[Any, Any]] = {}  # key -> (audit head, value)
        self._loading: dict[str, threading.Lock] = {}

    def at(self, key: str, head: Any) -> tuple[bool, Any]:
        with self._lock:
            known = self._values.get(key)
        return (True, known[1]) if known is not None and known[0] == head else (False, None)

    def keep(self, key: str, head: Any, value: Any) -> None:
        with self._lock:
            self._values[key] = (head, value)

    def loading(self, key: str) -> threading.Lock:
        with self._lock:
            return self._loading.setdefault(key, threading.Lock())


class CachedReads:
    """A store handle whose `read` reuses the practice last read while the audit log's head is
    unchanged: every change shsync makes (seed, apply, acceptance, refresh, review) appends an
    audit entry in the same transaction, so an unchanged head is an unchanged practice. Asking
    for the head is one small query; reading a large practice is the whole store. Applies read
    the live practice again inside their own transaction, never from here, and so does
    `?verify=true` (`Handles.practice(cached=False)`): a change made outside shsync moves no
    head. The key also holds the fingerprint the store keeps, which a store forgets when it
    finds such a change (a plan refused stale), so the next plan reads the practice as it is."""

    def __init__(self, backend: Any, kept: Kept):
        self._backend, self._kept = backend, kept

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def read(self) -> PracticeState:
        return self.answers().lookup.state

    def answers(self) -> Answers:
        """The live practice with what answers its access questions, worked out once per head."""
        def load() -> tuple[Answers, Any]:
            state, head = self._backend.read_at_head()
            return Answers(Lookup(state)), head
        return cast(Answers, self._cached("state", load))

    def read_fingerprinted(self) -> Any:
        return self._cached("fingerprinted", self._backend.read_fingerprinted_at_head)

    def history(self, after: int = 0, limit: int | None = None) -> Any:
        """The audit log, likewise: entries never change, and the head names the last. A page
        of it (a SIEM's cursor) is read from the store, never all of it kept for one caller."""
        if after or limit is not None:
            return self._backend.history(after, limit)

        def entries() -> tuple[Any, Any]:
            found = self._backend.history()
            return found, ((found[-1].seq, found[-1].entry_hash) if found else None)
        return self._cached("history", entries)

    def runbook_steps(self, pending_only: bool = False) -> Any:
        """The pending steps, likewise per head: only an entry (an apply, a `done`, a refresh's
        `observed`) changes them, and every access query of a server asks for them."""
        if not pending_only:
            return self._backend.runbook_steps()
        return list(self._cached("pending-steps", lambda: (
            self._backend.runbook_steps(pending_only=True), None)))

    def _cached(self, kind: str, load: Any) -> Any:
        version = self._backend.cache_key()
        key = f"{kind}:{self._backend.practice}"
        fresh, value = self._kept.at(key, version)
        if fresh:
            return value
        with self._kept.loading(key):
            fresh, value = self._kept.at(key, version)  # read by another thread meanwhile
            if fresh:
                return value
            value, _ = load()  # the key read before it: a change between them only reads again
            self._kept.keep(key, version, value)
        return value


class Answers:
    """One practice at one audit head: its access lookup, and the JSON of a client's access
    built from it on the first access query (a server that is never asked never builds it)."""

    def __init__(self, lookup: Lookup):
        self.lookup = lookup

    @cached_property
    def client_rows(self) -> ClientRows:
        return ClientRows(self.lookup)


class Handles:
    def __init__(self, url: str, lock_timeout: float = 60.0):
        self.url = url
        self.lock_timeout = lock_timeout
        self._local = threading.local()
        self._all: list[Backend] = []
        self._lock = threading.Lock()
        self._kept = Kept()

    @contextmanager
    def practice(self, name: str, cached: bool = True) -> Iterator[Backend]:
        """The store of one practice (`cached`: its reads reused, see `CachedReads`). A
        practice the store does not know (no data, no token) is answered as an invalid token:
        nobody can hold a token for it."""
        if not tokens.PRACTICE_NAME.fullmatch(name):
            raise Unauthorized(f"the token is not valid for practice {name[:100]!r}")
        cache: dict[str, Backend] = self._local.__dict__.setdefault("handles", {})
        backend = cache.get(name)
        if backend is None:
            try:
                backend = open_backend(with_practice(self.url, name), self.lock_timeout)
            except NoPractice:
                raise Unauthorized(f"the token is not valid for practice {name!r}") from None
            # Messages name the store; a token holder is told which practice, never the
            # database's user, host or path (`shsync serve` logs those to its operator).
            backend.display_url = f"this server's store (practice {name})"
            cache[name] = backend
            with self._lock:
                self._all.append(backend)
        try:
            yield cast(Backend, CachedReads(backend, self._kept) if cached else backend)
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
