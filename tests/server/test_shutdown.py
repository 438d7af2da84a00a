"""A server killed in the middle of an apply leaves nothing half-applied: the store's
transaction commits whole or not at all. SHSYNC_TEST_KILL_AFTER_OPS makes the server process
SIGKILL itself after that many operations of an apply (shsync/backends/sql.py)."""

from __future__ import annotations

import httpx

from shsync.app import Shsync
from shsync.reconcile.authorize import Actor
from tests.server.conftest import DANA, SNAPSHOT, Practice, org_text
from tests.served import start


def test_a_server_killed_mid_apply_changes_nothing(tmp_path):
    server = start(tmp_path, env={"SHSYNC_TEST_KILL_AFTER_OPS": "3"})
    try:
        practice = Practice(server, "riverbend")
        store = server.store("riverbend")
        Shsync(store, Actor.operator("test")).seed(SNAPSHOT)
        before = store.read()
        store.close()
        with practice.as_member(DANA) as dana:
            kept = dana.post("/plans", content=org_text(),
                             headers={"Content-Type": "application/yaml"}).json()
            assert len(kept["plan"]["changes"]) > 3
            try:
                dana.post(f"/plans/{kept['id']}/apply")
                raise AssertionError("the server answered instead of dying mid-apply")
            except httpx.HTTPError:
                pass  # the connection died with the process
        assert server.process.wait(timeout=30) == -9
        store = server.store("riverbend")
        assert store.read() == before and [e.kind for e in store.history()] == ["seed"]
        store.close()
    finally:
        server.stop()
