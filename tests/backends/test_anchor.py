"""The practice keeps the head of its audit log (seq and hash), written in the same transaction
as every entry, so `history --verify` finds newest entries deleted even when their effects
cancel out (an emergency access and its expiry), which the replay alone cannot see. An attacker
who edits the store can edit the anchor too: only a head kept outside the store
(`--expect-head`) finds that, and these tests say so."""

from __future__ import annotations

import pytest

from shsync.app import Shsync
from shsync.backends.audit import head
from shsync.errors import AuditBroken
from shsync.reconcile.authorize import Actor
from tests.reconcile.builders import ADMIN, D, c, live, m

NOW = "2026-11-26T12:00:00Z"
OPERATOR = Actor.operator("tester")


@pytest.fixture
def store(make_store):
    """A store with a seed, an emergency access and its expiry: five entries whose last two
    cancel out."""
    backend = make_store()
    backend.seed(live(ADMIN, m("sam", "practitioner"), m("kim", "practitioner"),
                      clients=[c("C1", "sam")]))
    kim = Shsync(backend, Actor.member("kim" + D), lambda: NOW)
    kim.apply(kim.plan_break_glass("C1", "crisis", "1h"))
    later = Shsync(backend, OPERATOR, lambda: "2026-11-26T13:00:00Z")
    later.apply(later.plan_expiry())
    return backend


def cut(backend, keep: int, *, anchor: bool = False) -> None:
    """What an attacker with write access to the store does: delete the newest entries (and,
    with `anchor`, move the practice's anchor back to match)."""
    with backend._transaction():
        backend._execute("DELETE FROM audit WHERE practice = ? AND seq > ?",
                         (backend.practice, keep))
    if anchor:
        last = backend.history()[-1]
        with backend._transaction():
            backend._execute("UPDATE practices SET head_seq = ?, head_hash = ? "
                             "WHERE practice = ?", (last.seq, last.entry_hash, backend.practice))


def test_the_anchor_follows_every_entry(store):
    entries = store.history()
    assert [e.kind for e in entries] == ["seed", "break_glass", "expire"]
    assert store.anchor() == (3, entries[-1].entry_hash)
    assert Shsync(store, OPERATOR).check_log().replayed


def test_a_deleted_tail_whose_effects_cancel_out_is_found(store):
    before = head(store.history())
    cut(store, 1)  # the emergency access and its expiry are gone; the state is unchanged
    app = Shsync(store, OPERATOR)
    with pytest.raises(AuditBroken) as broken:
        app.check_log()
    assert "entry #3" in str(broken.value) and "newest entries were removed" in str(broken.value)
    with pytest.raises(AuditBroken):
        app.check_log(expect_head=before)


def test_an_attacker_who_moves_the_anchor_too_is_found_only_by_a_head_kept_elsewhere(store):
    before = head(store.history())
    cut(store, 1, anchor=True)
    app = Shsync(store, OPERATOR)
    assert app.check_log().entries == 1  # the store agrees with itself
    with pytest.raises(AuditBroken) as moved:
        app.check_log(expect_head=before)
    assert moved.value.code == "head-moved"
