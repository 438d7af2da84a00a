"""Stores of live practices, chosen by URL. I/O only: they never decide what to change."""

from __future__ import annotations

from shsync.backends.base import Backend, BackendError, redact

DEFAULT_URL = "sqlite:///.shsync/practice.db"


def open_backend(url: str, lock_timeout: float = 60.0) -> Backend:
    """Open the store a URL names: `sqlite:///path` or `postgresql://...`.

    `lock_timeout` is how long an apply waits for another apply of the same practice.
    """
    if url.startswith("sqlite:///"):
        from shsync.backends.sqlite import SqliteBackend

        return SqliteBackend(url[len("sqlite:///"):], lock_timeout=lock_timeout)
    if url.startswith(("postgresql://", "postgres://")):
        from shsync.backends.postgres import PostgresBackend

        return PostgresBackend(url, lock_timeout=lock_timeout)
    raise BackendError(f"unknown backend URL {redact(url)!r}: use sqlite:///PATH or "
                       "postgresql://USER@HOST/DB")
