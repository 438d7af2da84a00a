"""Every backend runs the same contract suite. PostgreSQL joins when a server answers."""

from __future__ import annotations

import os

import pytest

from shsync.backends.sqlite import SqliteBackend

BACKENDS = ["sqlite"]


@pytest.fixture(params=BACKENDS)
def make_backend(request, tmp_path):
    """A factory for fresh, empty backends of one kind; each call is a new handle on one store."""
    opened = []

    def make(practice: str = "default"):
        backend = SqliteBackend(str(tmp_path / "practice.db"), practice)
        opened.append(backend)
        return backend

    yield make
    for backend in opened:
        backend.close()


@pytest.fixture
def backend(make_backend):
    return make_backend()


NOW = os.environ.get("SHSYNC_TEST_NOW", "2026-11-26T12:00:00Z")
