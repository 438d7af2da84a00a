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
