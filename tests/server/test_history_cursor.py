"""A SIEM pulls the audit log from `shsync serve` page by page: `GET .../history?after=SEQ&
limit=N` answers the entries after SEQ, at most N, and `next`, the `after` of the following
page (null at the log's end); the remote store follows the pages for `history --since`."""

from __future__ import annotations

from shsync.core.authorize import Actor
from shsync.jobs.app import Shsync
from tests.server.conftest import DANA, ORG
from tests.server.test_api import is_problem


def grow(practice, applies: int) -> None:
    """More entries: acceptances recorded straight in the store, as the operator."""
    store = practice.server.store(practice.name)
    try:
        app = Shsync(store, Actor.operator("test"))
        app.apply(app.plan(ORG).plan)
        invited = [m.email for m in store.read().members.values() if m.status == "invited"]
        for email in invited[:applies]:
            app.apply(app.plan_acceptance([email]))
    finally:
        store.close()


def test_pages_follow_one_another_to_the_end_of_the_log(practice):
    grow(practice, 3)
    with practice.as_member(DANA, "read") as reader:
        whole = reader.get("/history").json()["entries"]
        assert len(whole) >= 4 and reader.get("/history").json()["next"] is None
        seen, after = [], 0
        while True:
            page = reader.get("/history", params={"after": after, "limit": 2})
            assert page.status_code == 200, page.text
            body = page.json()
            assert len(body["entries"]) <= 2
            seen += body["entries"]
            if body["next"] is None:
                break
            assert body["next"] == body["entries"][-1]["seq"]
            after = body["next"]
        assert [e["entry_hash"] for e in seen] == [e["entry_hash"] for e in whole]
        assert all(e["prev_hash"] == p["entry_hash"] for p, e in zip(seen, seen[1:]))
        tail = reader.get("/history", params={"after": whole[-1]["seq"]}).json()
        assert (tail["entries"], tail["next"]) == ([], None)
        for params in ({"limit": 0}, {"limit": 1001}, {"after": -1}, {"after": "x"}):
            is_problem(reader.get("/history", params=params), 422, "invalid-request")


def test_the_remote_store_follows_the_pages(practice):
    from shsync.stores.remote import RemoteBackend

    grow(practice, 2)
    remote = RemoteBackend(practice.url, token=practice.token(DANA, "read"))
    try:
        whole = remote.history()
        assert [e.seq for e in remote.history(after=1)] == [e.seq for e in whole[1:]]
        assert [e.seq for e in remote.history(after=1, limit=2)] == [e.seq for e in whole[1:3]]
    finally:
        remote.close()
