"""Stores of live practices, chosen by URL. I/O only: they never decide what to change."""

from __future__ import annotations

from shsync.stores import faults
from shsync.stores.base import Backend, BackendError
from shsync.stores.url import bad_url, parse_sqlite, redact


def open_backend(url: str, lock_timeout: float = 60.0, *, create: bool = False) -> Backend:
    """Open the store a URL names: `sqlite:///path[?practice=NAME]`, `postgresql://...`, or a
    server's practice, `https://HOST/practices/NAME` (with SHSYNC_TOKEN).

    `lock_timeout` is how long an apply waits for another apply of the same practice. Only
    commands that write (seed, apply) pass `create`: without it a missing store, or a practice
    the store does not hold, is `NoPractice` and nothing is created.
    """
    if url.startswith("sqlite:"):
        if not url.startswith("sqlite:///"):
            raise bad_url(url, "is not sqlite:///PATH")
        from shsync.stores.sqlite import SqliteBackend

        parsed = parse_sqlite(url)
        return faults.arm(SqliteBackend(parsed.path, parsed.practice,
                                        lock_timeout=lock_timeout, create=create))
    if url.startswith(("postgresql://", "postgres://")):
        from shsync.stores.postgres import PostgresBackend

        return faults.arm(PostgresBackend(url, lock_timeout=lock_timeout, create=create))
    if url.startswith(("https://", "http://")):
        from shsync.stores.remote import RemoteBackend

        return RemoteBackend(url, create=create)
    raise BackendError(f"unknown backend URL {redact(url)!r}: use sqlite:///PATH, "
                       "postgresql://USER@HOST/DB or https://HOST/practices/NAME (a server)",
                       "bad-backend-url")
