"""Finding the test PostgreSQL server: skip visibly when it is absent, fail in CI."""

from __future__ import annotations

import os
import uuid
from functools import cache

import pytest

URL = os.environ.get("SHSYNC_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
RUN_ID = uuid.uuid4().hex[:8]


@cache
def unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        import psycopg

        with psycopg.connect(URL, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"; the reason is shown
        return f"PostgreSQL not reachable at {URL}: {str(exc).strip().splitlines()[0]}"


def require() -> None:
    reason = unavailable()
    if reason is None:
        return
    if os.environ.get("SHSYNC_REQUIRE_PG") == "1":
        pytest.fail(f"SHSYNC_REQUIRE_PG=1 but {reason}")
    pytest.skip(reason)


def fresh_url(schema: str, practice: str = "default") -> str:
    """A URL for a schema of its own, so tests never see each other's data."""
    separator = "&" if "?" in URL else "?"
    return f"{URL}{separator}schema={schema}&practice={practice}"


def new_schema(label: str) -> str:
    return f"shsync_t{RUN_ID}_{label}_{uuid.uuid4().hex[:6]}"


def drop_schemas() -> None:
    if unavailable():
        return
    import psycopg

    with psycopg.connect(URL, autocommit=True) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
                            (f"shsync_t{RUN_ID}_%",)).fetchall()
        for (name,) in rows:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')
