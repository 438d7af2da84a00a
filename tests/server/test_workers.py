"""`shsync serve --workers 2`: two processes share the port, each with its own copy of what it
has read; every answer is still the live practice's, and applies stay one store transaction."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shsync.jobs.app import Shsync
from shsync.core.authorize import Actor
from tests.server.conftest import DANA, SNAPSHOT, Practice, org_text
from tests.served import start

OMAR = "omar.haddad@riverbend.example"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = start(tmp_path_factory.mktemp("workers"), args=("--workers", "2"))
    yield server
    server.stop()


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def practice(server, name: str) -> Practice:
    store = server.store(name)
    try:
        Shsync(store, Actor.operator("test")).seed(SNAPSHOT)
    finally:
        store.close()
    return Practice(server, name)


def test_two_processes_answer_and_each_sees_a_change_at_once(served):
    assert len(children(served.process.pid)) >= 2  # the workers (and uvicorn's helper)
    riverbend = practice(served, "seen")
    with riverbend.as_member(DANA, "read") as dana:
        def taken() -> list[bool]:
            # a connection each, so that either worker may take it
            answers = [dana.get("/access", params={"client": "C-1001"},
                                headers={"Connection": "close"}) for _ in range(12)]
            assert {a.status_code for a in answers} == {200}
            return [(OMAR, "break_glass") in {(r["member"], r["reason"])
                                              for r in a.json()["rows"]} for a in answers]

        assert not any(taken())  # both workers have now read the practice, and keep it
        store = riverbend.store()
        try:
            taker = Shsync(store, Actor.member(OMAR))
            taker.apply(taker.plan_break_glass("C-1001", "crisis", "1h"))
        finally:
            store.close()
        assert all(taken())


def test_concurrent_applies_across_workers_have_one_winner(served):
    riverbend = practice(served, "raced")
    with riverbend.as_member(DANA) as dana:
        kept = dana.post("/plans", content=org_text(),
                         headers={"Content-Type": "application/yaml"}).json()

    def attempt(_):
        with riverbend.client(riverbend.token()) as client:
            return client.post(f"/plans/{kept['id']}/apply")

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(a.status_code for a in pool.map(attempt, range(8)))
    assert statuses == [200] + [409] * 7
