"""What the head the practice keeps beside its audit log does and does not find.

tests/stores/test_expiry.py shows it finding a deleted tail whose effects cancel out; these
tests hold the rest of what docs/security.md ("Keeping the head outside the store") says: it
moves with every entry, and an attacker who edits the store can move it too, which only a head
kept outside the store (`--expect-head`) finds."""

from __future__ import annotations

import pytest

from shsync.jobs.app import Shsync
from shsync.audit.chain import head
from shsync.errors import AuditBroken
from shsync.core.authorize import Actor
from tests.core.builders import ADMIN, D, c, live, m

from tests.conftest import NOW
OPERATOR = Actor.operator("tester")


@pytest.fixture
def store(make_store):
    """A seed, an emergency access and its expiry: three entries, the last two cancelling."""
    backend = make_store()
    backend.seed(live(ADMIN, m("sam", "practitioner"), m("kim", "practitioner"),
                      clients=[c("C1", "sam")]))
    kim = Shsync(backend, Actor.member("kim" + D), lambda: NOW)
    kim.apply(kim.plan_break_glass("C1", "crisis", "1h"))
    later = Shsync(backend, OPERATOR, lambda: "2026-11-26T13:00:00Z")
    later.apply(later.plan_expiry())
    return backend


def test_the_anchor_follows_every_entry(store):
    entries = store.history()
    assert [e.kind for e in entries] == ["seed", "break_glass", "expire"]
    assert store.head_anchor() == (3, entries[-1].entry_hash)
    admin = Shsync(store, Actor.member("admin" + D), lambda: NOW)
    review = admin.review(2, "checked")
    assert store.head_anchor() == (review.seq, review.entry_hash)  # a review moves it too
    assert admin.check_log().replayed


def test_an_attacker_who_moves_the_anchor_too_is_found_only_by_a_head_kept_elsewhere(store):
    kept = head(store.history())  # what CI keeps in its own logs
    with store._transaction():
        store._execute("DELETE FROM audit WHERE practice = ? AND seq > 1", (store.practice,))
        # and the runbook steps those entries recorded, which the replay would miss otherwise
        store._execute("DELETE FROM runbook_steps WHERE practice = ? AND entry > 1",
                       (store.practice,))
    first = store.history()[0]
    with store._transaction():
        store._execute("UPDATE practices SET head_seq = ?, head_hash = ? WHERE practice = ?",
                       (first.seq, first.entry_hash, store.practice))
    app = Shsync(store, OPERATOR)
    assert app.check_log().entries == 1  # the store agrees with itself
    with pytest.raises(AuditBroken) as moved:
        app.check_log(expect_head=kept)
    assert moved.value.code == "head-moved"
