"""Every backend runs the same contract suite, unchanged: SQLite, and PostgreSQL."""

from __future__ import annotations

import pytest

from shsync.backends.postgres import PostgresBackend
from shsync.backends.sqlite import SqliteBackend
from tests import pg

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def make_backend(request, tmp_path):
    """A factory for handles on one fresh, empty store of one kind (one schema per test)."""
    if request.param == "postgresql":
        pg.require()
        schema = pg.new_schema(request.node.name[:20].replace("[", "_").replace("]", "").lower())
    opened = []

    def make(practice: str = "default"):
        if request.param == "sqlite":
            backend = SqliteBackend(str(tmp_path / "practice.db"), practice)
        else:
            backend = PostgresBackend(pg.fresh_url(schema, practice))
        opened.append(backend)
        return backend

    yield make
    for backend in opened:
        backend.close()


@pytest.fixture
def backend(make_backend):
    return make_backend()
