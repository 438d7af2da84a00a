"""What only the SQLite store does: its file, and its schema version."""

import os
import sqlite3

import pytest

from shsync.stores import open_backend
from shsync.stores.base import BackendError
from shsync.stores.sqlite import SqliteBackend


def test_the_store_file_and_its_directory_are_created_on_first_use(tmp_path):
    SqliteBackend(str(tmp_path / "deep" / "practice.db")).close()
    assert (tmp_path / "deep" / "practice.db").exists()


def test_a_newer_store_schema_is_refused(tmp_path):
    path = tmp_path / "practice.db"
    SqliteBackend(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE shsync_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(BackendError, match="newer than this shsync understands"):
        SqliteBackend(str(path))


def test_an_unknown_url_scheme_is_refused_without_its_password():
    with pytest.raises(BackendError) as info:
        open_backend("mysql://user:topsecret@host/db")
    assert "topsecret" not in str(info.value)


def _bytes(path) -> bytes:
    return path.read_bytes() if os.path.isfile(path) else b""


@pytest.mark.parametrize("kind, message", [
    ("empty", "no practice at sqlite:///{}: the file is empty"),
    ("fifo", "cannot open sqlite:///{}: it is not a regular file"),
    ("directory", "cannot open sqlite:///{}: it is not a regular file"),
    ("missing", "no practice at sqlite:///{}: the file does not exist"),
    ("too long", "cannot open sqlite:///{}: File name too long"),
])
def test_a_command_that_may_not_create_a_store_refuses_what_is_not_one(tmp_path, kind,
                                                                       message):
    path = tmp_path / ("x" * 5000 if kind == "too long" else "store.db")
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "fifo":
        os.mkfifo(path)  # opening it for reading would wait for a writer for ever
    elif kind == "directory":
        path.mkdir()
    with pytest.raises(BackendError) as info:
        open_backend(f"sqlite:///{path}", create=False)
    assert str(info.value).startswith(message.format(path)), info.value
    if kind in ("missing", "too long"):
        assert not os.path.lexists(path)  # nothing created
    elif kind == "empty":
        assert _bytes(path) == b""  # nothing written


def test_another_programs_database_is_not_switched_to_wal_by_a_read(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    before = path.read_bytes()
    with pytest.raises(BackendError, match="no practice"):
        open_backend(f"sqlite:///{path}", create=False)
    assert path.read_bytes() == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_a_store_shsync_made_is_in_wal_mode_and_stays_so(tmp_path):
    from tests.core.builders import ADMIN, live  # noqa: PLC0415

    path = tmp_path / "store.db"
    store = open_backend(f"sqlite:///{path}", create=True)
    store.seed(live(ADMIN))
    store.close()
    assert open_backend(f"sqlite:///{path}", create=False).read() == live(ADMIN)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def _clients_read_plan(path) -> str:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("EXPLAIN QUERY PLAN SELECT id, practitioner, supervisor FROM clients "
                            "WHERE practice = ?", ("default",)).fetchall()
    return " ".join(str(row[-1]) for row in rows)


def _rowid_store(path) -> None:
    """A store file with the tables as shsync made them before they went WITHOUT ROWID."""
    from shsync.stores.sql import SCHEMA  # noqa: PLC0415

    with sqlite3.connect(path) as conn:
        for statement in SCHEMA:
            conn.execute(statement)


def test_a_new_store_keeps_a_practice_in_its_primary_keys_order(tmp_path):
    path = tmp_path / "practice.db"
    SqliteBackend(str(path)).close()
    with sqlite3.connect(path) as conn:
        made = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
    rowless = {name for name, sql in made.items() if sql.endswith("WITHOUT ROWID")}
    assert rowless == {"members", "member_roles", "clients", "client_access"}
    # so a practice's clients are one range of the table, whatever the store's size
    assert _clients_read_plan(path) == "SEARCH clients USING PRIMARY KEY (practice=?)"


def test_a_store_made_before_keeps_its_tables_and_works(tmp_path):
    from tests.core.builders import ADMIN, c, live  # noqa: PLC0415

    path = tmp_path / "practice.db"
    _rowid_store(path)
    store = SqliteBackend(str(path))
    state = live(ADMIN, clients=[c(f"C-{i}", "admin") for i in range(5)])
    store.seed(state)
    assert store.read() == state
    store.close()
    with sqlite3.connect(path) as conn:
        assert not [sql for (sql,) in conn.execute("SELECT sql FROM sqlite_master")
                    if sql and sql.endswith("WITHOUT ROWID")]


def test_a_large_write_leaves_statistics_so_a_practice_is_read_in_one_scan(tmp_path):
    from tests.core.builders import ADMIN, c, live  # noqa: PLC0415

    path = tmp_path / "practice.db"
    _rowid_store(path)
    store = SqliteBackend(str(path))
    store.seed(live(ADMIN, clients=[c(f"C-{i}", "admin") for i in range(10_000)]))
    store.close()
    # Without statistics SQLite walks the primary key's index and looks each row up.
    assert _clients_read_plan(path).startswith("SCAN clients")


def test_a_small_write_gathers_no_statistics(tmp_path):
    from tests.core.builders import ADMIN, c, live  # noqa: PLC0415

    path = tmp_path / "practice.db"
    _rowid_store(path)
    store = SqliteBackend(str(path))
    store.seed(live(ADMIN, clients=[c(f"C-{i}", "admin") for i in range(50)]))
    store.close()
    assert "USING INDEX" in _clients_read_plan(path)
