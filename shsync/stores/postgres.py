"""PostgreSQL: one shared store for many CI runners and many practices (psycopg 3).

URL: ``postgresql://user[:password]@host[:port]/db?practice=NAME[&schema=NAME]``. ``practice``
selects one practice among many in the database (default ``default``); ``schema`` keeps shsync's
tables in their own schema (default: the connection's search_path). Every other query parameter
goes to libpq as usual, and so do libpq's environment variables (PGHOST, PGPASSWORD, ...).

Applies are serialised per practice with a transaction-level advisory lock, so a second apply
waits (up to the lock timeout) and then finds the plan stale instead of interleaving with the
first. The lock is released by the server when the transaction ends, however it ends, including
when the process applying is killed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import psycopg
from psycopg import errors, sql

from shsync import __version__
from shsync.stores.base import BackendError
from shsync.stores.url import bad_url, check_password, redact, scrub
from shsync.stores.sql import SqlBackend

DEFAULT_PRACTICE = "default"
DEFAULT_LOCK_TIMEOUT = 60.0
_SCHEMA_LOCK = 0x5348_5359_4E43  # "SHSYNC": serialises creating or migrating the schema
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def lock_key(practice: str) -> int:
    """A stable signed 64-bit advisory lock key for one practice."""
    return int.from_bytes(hashlib.sha256(f"shsync:{practice}".encode()).digest()[:8], "big",
                          signed=True)


@cache
def _dialect(statement: str) -> str:
    return statement.replace("?", "%s")


def _split_url(url: str) -> tuple[str, str, str | None]:
    """(libpq URL without shsync's own parameters, practice, schema)."""
    check_password(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise bad_url(url, f"is malformed ({scrub(str(exc), url)})") from None
    params = parse_qsl(parts.query, keep_blank_values=True)
    practice = next((v for k, v in params if k == "practice"), DEFAULT_PRACTICE)
    schema = next((v for k, v in params if k == "schema"), None)
    rest = [(k, v) for k, v in params if k not in ("practice", "schema")]
    if not practice or len(practice) > 200:
        raise bad_url(url, "needs a practice of 1-200 characters")
    if schema is not None and not _NAME.match(schema):
        raise bad_url(url, "needs a schema that is a plain SQL name")
    query = f"?{urlencode(rest)}" if rest else ""
    # Built by hand: urlunsplit drops the "//" of a URL with no host (postgresql:///db), which
    # libpq needs in order to read it as a URL and take the host from PGHOST.
    return f"{parts.scheme}://{parts.netloc}{parts.path}{query}", practice, schema


class PostgresBackend(SqlBackend):
    def __init__(self, url: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT, create: bool = True):
        self.display_url = redact(url)
        self._url = url
        conninfo, self.practice, self._schema = _split_url(url)
        self.lock_timeout = lock_timeout
        try:
            self._conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=10,
                                         application_name=f"shsync {__version__}")
        except psycopg.Error as exc:
            raise BackendError(f"cannot connect to {self.display_url}: "
                               f"{self._clean(exc)}") from None
        self._actor: str | None = None
        try:
            with self._transaction(lock=False):
                self._execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
                if self._schema and create:
                    self._execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                        sql.Identifier(self._schema)).as_string(self._conn))
                self._ensure_schema(create)
        except BaseException:
            self._conn.close()
            raise

    # --- connection plumbing ------------------------------------------------------------------
    def _clean(self, exc: BaseException) -> str:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return scrub(text, self._url)

    def _prepare(self) -> None:
        if self._schema:
            self._conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(
                sql.Identifier(self._schema)))

    @contextmanager
    def _transaction(self, lock: bool = True) -> Iterator[None]:
        """READ COMMITTED, and (for writes) the practice's advisory lock taken first: every
        statement after the lock sees what the previous holder committed."""
        if self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            yield
            return
        try:
            with self._conn.transaction():
                self._prepare()
                if lock:
                    self._take_lock()
                yield
        except BackendError:
            raise
        except psycopg.OperationalError as exc:
            raise BackendError(f"{self.display_url}: the connection failed or was lost "
                               f"({self._clean(exc)}); the transaction was not committed, so "
                               "nothing was changed") from None
        except psycopg.Error as exc:
            raise BackendError(f"{self.display_url}: {self._clean(exc)}; the transaction was "
                               "rolled back, nothing was changed") from None

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """A consistent read without the lock: one REPEATABLE READ snapshot."""
        try:
            with self._conn.transaction():
                self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                self._prepare()
                yield
        except psycopg.Error as exc:
            raise BackendError(f"{self.display_url}: {self._clean(exc)}") from None

    def _take_lock(self) -> None:
        self._conn.execute("SELECT set_config('lock_timeout', %s, true)",
                           (f"{int(self.lock_timeout * 1000)}ms",))
        if self._actor:
            self._conn.execute("SELECT set_config('application_name', %s, true)",
                               (f"shsync apply by {self._actor}"[:63],))
        try:
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(self.practice),))
        except errors.LockNotAvailable:
            holder = self._holder()
            raise BackendError(
                f"another apply to practice {self.practice!r} has held the lock for more than "
                f"{self.lock_timeout:g} s{holder}; nothing was changed. Try again, or raise "
                "--lock-timeout") from None

    def _holder(self) -> str:
        """Who holds the practice's lock, read on a separate connection (this one is aborted)."""
        key = lock_key(self.practice)
        try:
            with psycopg.connect(self._conn.info.dsn, autocommit=True, connect_timeout=5,
                                 password=self._conn.info.password or None) as other:
                row = other.execute(
                    "SELECT a.application_name, a.pid, a.xact_start FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                    "AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 1",
                    ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF)).fetchone()
        except psycopg.Error:
            return ""
        if row is None:
            return ""
        name, pid, since = row
        started = f", since {since:%Y-%m-%dT%H:%M:%SZ}" if since else ""
        return f" (held by {name or 'an unnamed client'}, server pid {pid}{started})"

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(_dialect(statement), params)

    def _executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self._conn.cursor() as cur:
                cur.executemany(_dialect(statement), rows)

    def _query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(_dialect(statement), params).fetchall()

    def _has_table(self, name: str) -> bool:
        return self._query("SELECT to_regclass(?) IS NOT NULL", (name,))[0][0]

    def _clock(self) -> str:
        return str(self._query("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                               "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")[0][0])

    def apply(self, plan: Any, *, actor: Any, now: str, progress: Any = None) -> Any:
        self._actor = actor.name
        try:
            return super().apply(plan, actor=actor, now=now, progress=progress)
        finally:
            self._actor = None

    def close(self) -> None:
        self._conn.close()
