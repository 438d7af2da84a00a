"""The embedded default: one SQLite file, created by the first seed or apply.

`sqlite:///path/to/practice.db[?practice=NAME]`. Read-only commands open an existing file only,
never creating it, its directory, or a practice it does not hold."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shsync.stores.base import BackendError
from shsync.errors import NoPractice
from shsync.stores.sql import SqlBackend

DEFAULT_PRACTICE = "default"


# After a write of this many rows, the planner's statistics are gathered again (ANALYZE, in the
# same transaction: 43 ms for the L practice). Without them SQLite reads a practice's 200,000
# clients through the primary key's index, a row lookup each, rather than in one scan of the
# table: 0.30 s against 0.12 s, and 0.18 s against 0.02 s for the few grants that end
# (bench/notes.md). Statistics change how a query runs, never what it returns. A store made
# since its practice tables went WITHOUT ROWID (`_table`) reads a practice as one range of each
# table either way; the statistics serve the stores made before, whose tables stay as they were.
ANALYZE_AFTER = 10_000
_ROWLESS = tuple(f"CREATE TABLE IF NOT EXISTS {t} (" for t in
                 ("members", "member_roles", "clients", "client_access"))


def _existing_store(path: str, url: str) -> None:
    """Refuse, before SQLite opens it, a store file that is missing, empty or not a file: a
    command that may not create a store reads it, and an empty file or a FIFO is no store."""
    try:
        found = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise NoPractice(f"no practice at {url}: the file does not exist (`shsync seed` or "
                         "`shsync apply` creates it)") from None
    except (OSError, ValueError) as exc:  # too long a name, no permission, a NUL byte
        raise BackendError(f"cannot open {url}: {getattr(exc, 'strerror', None) or exc}") \
            from None
    if not stat.S_ISREG(found.st_mode):
        raise BackendError(f"cannot open {url}: it is not a regular file (a directory, a FIFO "
                           "or a device)")
    if found.st_size == 0:
        raise NoPractice(f"no practice at {url}: the file is empty (`shsync seed` or "
                         "`shsync apply` makes it a store)")


# The store holds the audit log, members' emails and token hashes: a folder shsync makes for it
# keeps itself out of git, whatever the repository's own .gitignore says.
FOLDER_GITIGNORE = ("# Made by shsync: this folder holds a practice's store (its audit log, "
                    "members' emails and\n# token hashes). Keep it out of git.\n*\n")


def _make_folder(folder: Path) -> None:
    if folder.is_dir():
        return
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with open(folder / ".gitignore", "x", encoding="utf-8") as f:
            f.write(FOLDER_GITIGNORE)
    except FileExistsError:
        pass  # made at the same moment by another shsync


class SqliteBackend(SqlBackend):
    def __init__(self, path: str, practice: str = DEFAULT_PRACTICE, lock_timeout: float = 60.0,
                 create: bool = True):
        self.practice = practice
        self.display_url = f"sqlite:///{path}" + (
            f"?practice={practice}" if practice != DEFAULT_PRACTICE else "")
        if not create and path != ":memory:":
            _existing_store(path, self.display_url)
        try:
            if path != ":memory:" and create:
                _make_folder(Path(path).parent)
            # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE, which
            # takes the write lock up front so a read-check-write apply is never interleaved.
            # Without `create`, the file is opened read-write but never made (mode=rw).
            target = path if create or path == ":memory:" else (
                Path(path).absolute().as_uri() + "?mode=rw")
            self._conn = sqlite3.connect(target, isolation_level=None, timeout=lock_timeout,
                                         uri=not create and path != ":memory:")
        except (sqlite3.Error, OSError) as exc:
            raise BackendError(f"cannot open {self.display_url}: {exc}") from None
        try:
            self._conn.execute("PRAGMA schema_version")  # reads the header: is it a database?
            with self._transaction():
                self._ensure_schema(create)
            # WAL is a setting kept in the file: set once the store is found, or made, so a
            # command that may not create one leaves another program's database as it was.
            self._conn.execute("PRAGMA journal_mode = WAL")
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
        changes = self._conn.total_changes
        try:
            yield
            if self._conn.total_changes - changes >= ANALYZE_AFTER:
                self._guard(lambda: self._conn.execute("ANALYZE"))
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

    def _table(self, statement: str) -> str:
        # The practice's many small rows are kept in their primary key's order, without the
        # rowid table beside it: one b-tree per table instead of two, so an L onboarding
        # writes them faster and the file is smaller (bench/notes.md). Same SQL for both kinds,
        # so stores made before keep their tables as they are.
        if statement.startswith(_ROWLESS):
            return statement + " WITHOUT ROWID"
        return statement

    def _has_table(self, name: str) -> bool:
        return bool(self._query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                (name,)))

    def _clock(self) -> str:
        return str(self._query("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now')")[0][0])

    def close(self) -> None:
        self._conn.close()
