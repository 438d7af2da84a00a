"""Every backend runs the same contract suite, unchanged: SQLite, PostgreSQL, and a server
(`shsync serve`, reached through the remote backend)."""

from __future__ import annotations

import pytest

from shsync.stores.base import Backend
from shsync.stores.postgres import PostgresBackend
from shsync.stores.sqlite import SqliteBackend
from shsync.stores.remote import RemoteBackend
from tests import pg
from tests.served import start

BACKENDS = ["sqlite", "postgresql", "remote"]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One real `shsync serve` process for the session, over a SQLite store."""
    served = start(tmp_path_factory.mktemp("served"))
    yield served
    served.stop()


@pytest.fixture(params=BACKENDS)
def make_backend(request, tmp_path):
    yield from _factory(request, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def make_store(request, tmp_path):
    """The same, for what only the SQL stores keep (tokens)."""
    yield from _factory(request, tmp_path)


def _factory(request, tmp_path):
    """A factory for handles on one fresh, empty store of one kind (one schema per test); the
    remote one is a practice of its own on the session's server, through an operator token."""
    if request.param == "remote":
        served = request.getfixturevalue("server")
        served.wipe("default", "first", "second", "elsewhere")
    if request.param == "postgresql":
        pg.require()
        schema = pg.new_schema(request.node.name[:20].replace("[", "_").replace("]", "").lower())
    opened: list[Backend] = []

    def make(practice: str = "default"):
        backend: Backend
        if request.param == "sqlite":
            backend = SqliteBackend(str(tmp_path / "practice.db"), practice)
        elif request.param == "remote":
            backend = RemoteBackend(served.url(practice), token=served.token(practice))
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
