"""The embedded default: one SQLite file, created on first use. `sqlite:///path/to/practice.db`."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shsync.backends.base import BackendError
from shsync.backends.sql import SqlBackend

DEFAULT_PRACTICE = "default"


class SqliteBackend(SqlBackend):
    def __init__(self, path: str, practice: str = DEFAULT_PRACTICE, lock_timeout: float = 60.0):
        self.practice = practice
        self.display_url = f"sqlite:///{path}"
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE, which
            # takes the write lock up front so a read-check-write apply is never interleaved.
            self._conn = sqlite3.connect(path, isolation_level=None, timeout=lock_timeout)
        except (sqlite3.Error, OSError) as exc:
            raise BackendError(f"cannot open {self.display_url}: {exc}") from None
        try:
            self._conn.execute("PRAGMA journal_mode = WAL")
            with self._transaction():
                self._ensure_schema()
        except sqlite3.Error as exc:
            self._conn.close()
            raise BackendError(f"cannot open {self.display_url}: {exc}") from None
        except BaseException:
            self._conn.close()
            raise

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        with self._begin("BEGIN"):
            yield

    def _transaction(self) -> Any:
        return self._begin("BEGIN IMMEDIATE")

    @contextmanager
    def _begin(self, statement: str) -> Iterator[None]:
        if self._conn.in_transaction:
            yield
            return
        try:
            self._conn.execute(statement)
        except sqlite3.Error as exc:
            raise BackendError(f"{self.display_url}: cannot start a transaction: {exc}") from None
        try:
            yield
        except BaseException:
            self._conn.rollback()
            raise
        try:
            self._conn.commit()
        except sqlite3.Error as exc:
            self._conn.rollback()
            raise BackendError(f"{self.display_url}: the commit failed, nothing was changed: "
                               f"{exc}") from None

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._guard(lambda: self._conn.execute(sql, params))

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._guard(lambda: self._conn.executemany(sql, rows))

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._guard(lambda: self._conn.execute(sql, params).fetchall())

    def _guard(self, call: Any) -> Any:
        try:
            return call()
        except sqlite3.Error as exc:
            raise BackendError(f"{self.display_url}: {exc}") from None

    def _has_table(self, name: str) -> bool:
        return bool(self._query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                (name,)))

    def _clock(self) -> str:
        return str(self._query("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now')")[0][0])

    def close(self) -> None:
        self._conn.close()
