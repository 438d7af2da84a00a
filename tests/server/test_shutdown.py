"""A server killed in the middle of an apply leaves nothing half-applied: the store's
transaction commits whole or not at all. SHSYNC_TEST_KILL_AFTER_OPS makes the server process
SIGKILL itself after that many operations of an apply (shsync/backends/sql.py)."""

from __future__ import annotations

import httpx
import pytest

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


@pytest.mark.parametrize("workers", [1, 2])
def test_a_server_stopped_with_sigterm_mid_apply_finishes_that_apply_first(tmp_path, workers):
    import signal
    import threading
    import time

    server = start(tmp_path, env={"SHSYNC_TEST_PAUSE_APPLY": "2"},
                   args=("--workers", str(workers)))
    try:
        practice = Practice(server, "riverbend")
        store = server.store("riverbend")
        Shsync(store, Actor.operator("test")).seed(SNAPSHOT)
        store.close()
        answers: list[httpx.Response] = []
        with practice.as_member(DANA) as dana:
            kept = dana.post("/plans", content=org_text(),
                             headers={"Content-Type": "application/yaml"}).json()
            applying = threading.Thread(
                target=lambda: answers.append(dana.post(f"/plans/{kept['id']}/apply")))
            applying.start()
            time.sleep(0.8)  # the apply now waits inside its transaction
            server.process.send_signal(signal.SIGTERM)
            applying.join(30)
        assert answers and answers[0].status_code == 200, answers
        # uvicorn finishes the request, then exits re-raising the signal it caught
        assert server.process.wait(timeout=30) in (0, -15)
        store = server.store("riverbend")
        entries = store.history()
        assert [e.kind for e in entries] == ["seed", "apply"]
        assert entries[-1].seq == answers[0].json()["audit_entry"]["seq"]
        store.close()
    finally:
        server.stop()
