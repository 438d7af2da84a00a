"""A server killed in the middle of an apply leaves nothing half-applied: the store's
transaction commits whole or not at all. SHSYNC_TEST_KILL_AFTER_OPS makes the server process
SIGKILL itself after that many operations of an apply (shsync/stores/sql.py)."""

from __future__ import annotations

import httpx
import pytest

from tests.server.conftest import DANA, keep_plan


def test_a_server_killed_mid_apply_changes_nothing(own_server):
    server, practice = own_server({"SHSYNC_TEST_KILL_AFTER_OPS": "3"})
    store = practice.store()
    before = store.read()
    store.close()
    with practice.as_member(DANA) as dana:
        kept = keep_plan(dana)
        assert len(kept["plan"]["changes"]) > 3
        try:
            dana.post(f"/plans/{kept['id']}/apply")
            raise AssertionError("the server answered instead of dying mid-apply")
        except httpx.HTTPError:
            pass  # the connection died with the process
    assert server.process.wait(timeout=30) == -9
    store = practice.store()
    assert store.read() == before and [e.kind for e in store.history()] == ["seed"]
    store.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_server_stopped_with_sigterm_mid_apply_finishes_that_apply_first(own_server, workers):
    import signal
    import threading
    import time

    server, practice = own_server({"SHSYNC_TEST_PAUSE_APPLY": "2"}, ("--workers", str(workers)))
    answers: list[httpx.Response] = []
    with practice.as_member(DANA) as dana:
        kept = keep_plan(dana)
        applying = threading.Thread(
            target=lambda: answers.append(dana.post(f"/plans/{kept['id']}/apply")))
        applying.start()
        time.sleep(0.8)  # the apply now waits inside its transaction
        server.process.send_signal(signal.SIGTERM)
        applying.join(30)
    assert answers and answers[0].status_code == 200, answers
    # uvicorn finishes the request, then exits re-raising the signal it caught
    assert server.process.wait(timeout=30) in (0, -15)
    store = practice.store()
    entries = store.history()
    assert [e.kind for e in entries] == ["seed", "apply"]
    assert entries[-1].seq == answers[0].json()["audit_entry"]["seq"]
    store.close()
