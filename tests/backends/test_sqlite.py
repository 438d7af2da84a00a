"""What only the SQLite store does: its file, and its schema version."""

import sqlite3

import pytest

from shsync.backends import open_backend
from shsync.backends.base import BackendError
from shsync.backends.sqlite import SqliteBackend


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


def _clients_read_plan(path) -> str:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("EXPLAIN QUERY PLAN SELECT id, practitioner, supervisor FROM clients "
                            "WHERE practice = ?", ("default",)).fetchall()
    return " ".join(str(row[-1]) for row in rows)


def _rowid_store(path) -> None:
    """A store file with the tables as shsync made them before they went WITHOUT ROWID."""
    from shsync.backends.sql import SCHEMA  # noqa: PLC0415

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
    from tests.reconcile.builders import ADMIN, c, live  # noqa: PLC0415

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
    from tests.reconcile.builders import ADMIN, c, live  # noqa: PLC0415

    path = tmp_path / "practice.db"
    _rowid_store(path)
    store = SqliteBackend(str(path))
    store.seed(live(ADMIN, clients=[c(f"C-{i}", "admin") for i in range(10_000)]))
    store.close()
    # Without statistics SQLite walks the primary key's index and looks each row up.
    assert _clients_read_plan(path).startswith("SCAN clients")


def test_a_small_write_gathers_no_statistics(tmp_path):
    from tests.reconcile.builders import ADMIN, c, live  # noqa: PLC0415

    path = tmp_path / "practice.db"
    _rowid_store(path)
    store = SqliteBackend(str(path))
    store.seed(live(ADMIN, clients=[c(f"C-{i}", "admin") for i in range(50)]))
    store.close()
    assert "USING INDEX" in _clients_read_plan(path)
