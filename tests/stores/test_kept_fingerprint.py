"""The live fingerprint a store keeps with every change (schema version 9), so a plan need not
hash the whole practice: it must always be the fingerprint of what the store holds after
shsync's own changes, on every store, and it is a cache only. An apply hashes what its
transaction read and never trusts the kept value, so a store changed outside shsync cannot make
a plan fit it; `history --verify` still finds such a change."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shsync.jobs.app import Shsync, export
from shsync.stores.sql import SCHEMA_VERSION
from shsync.errors import AuditBroken, StalePlan
from shsync.core.state import fingerprint
from tests.stores.test_contract import (
    OPERATOR, changing_plan, plan_for, seeded_state,
)  # fmt: skip
from tests.core.builders import D, NOW, want

LATER = "2026-11-26T13:00:00Z"


def kept(backend) -> str:
    return backend.read_fingerprinted()[1]


def test_the_kept_fingerprint_follows_every_change_on_every_store(backend):
    backend.seed(seeded_state())
    assert kept(backend) == fingerprint(backend.read()) == fingerprint(seeded_state())
    backend.apply(changing_plan(backend.read()), actor=OPERATOR, now=NOW)  # removals, handoffs
    assert kept(backend) == fingerprint(backend.read())
    kim = Shsync(backend, OPERATOR, lambda: NOW)
    state = backend.read()
    renamed = replace(want(*state.members.values()), name="Renamed")
    kim.apply(plan_for(renamed, state))
    assert kept(backend) == fingerprint(backend.read())
    assert kim.check_log().replayed


def test_a_plan_carries_the_kept_fingerprint(make_store, tmp_path):
    store = make_store()
    store.seed(seeded_state())
    org = tmp_path / "org.yaml"
    org.write_text(export(store.read()))
    with store._transaction():  # what a plan then reads as the practice's fingerprint
        store._keep_fingerprint("sha256:" + "1" * 64)
    assert kept(store) == "sha256:" + "1" * 64
    assert Shsync(store, OPERATOR, lambda: NOW).plan(org).plan.fingerprint == kept(store)


def test_a_store_changed_outside_shsync_refuses_the_plan_made_from_its_kept_fingerprint(
        make_store):
    store = make_store()
    store.seed(seeded_state())
    app = Shsync(store, OPERATOR, lambda: NOW)
    with store._transaction():  # changed outside shsync: the kept fingerprint is now wrong
        store._execute("UPDATE members SET last_name = 'Edited' WHERE practice = ? AND "
                       "email = ?", (store.practice, "jo" + D))
    live, wrong = store.read_fingerprinted()
    assert wrong != fingerprint(live)
    plan = replace(changing_plan(live), fingerprint=wrong)  # as `shsync plan` makes it
    with pytest.raises(StalePlan, match="changed outside shsync"):
        store.apply(plan, actor=OPERATOR, now=NOW)
    assert [e.kind for e in store.history()] == ["seed"]  # nothing was applied
    # The wrong value was forgotten: the next plan hashes what it reads, and applies.
    assert kept(store) == fingerprint(store.read())
    again = changing_plan(store.read())
    assert again.fingerprint == fingerprint(store.read())
    app.apply(again)
    assert kept(store) == fingerprint(store.read())
    with pytest.raises(AuditBroken):  # and the log still shows the change made outside
        app.check_log()


def test_a_kept_fingerprint_set_to_fit_a_plan_does_not_make_the_plan_apply(make_store):
    """Whoever edits the store can also write the kept fingerprint; the apply never uses it."""
    store = make_store()
    store.seed(seeded_state())
    plan = changing_plan(store.read())
    with store._transaction():
        store._execute("UPDATE members SET last_name = 'Edited' WHERE practice = ? AND "
                       "email = ?", (store.practice, "jo" + D))
        store._keep_fingerprint(plan.fingerprint)  # made to look unchanged
    with pytest.raises(StalePlan):
        store.apply(plan, actor=OPERATOR, now=NOW)
    assert store.read().members["jo" + D].last_name == "Edited"
    assert [e.kind for e in store.history()] == ["seed"]


def test_a_version_8_store_is_upgraded_and_keeps_a_fingerprint_from_its_next_change(
        make_store):
    store = make_store()
    store.seed(seeded_state())
    with store._transaction():  # the store as shsync 8 wrote it
        store._execute("ALTER TABLE practices DROP COLUMN fingerprint")
        store._execute("ALTER TABLE practices DROP COLUMN deadlines")  # version 10's
        store._execute("DROP TABLE runbook_steps")
        store._execute("UPDATE shsync_meta SET value = '8' WHERE key = 'schema_version'")
    store.close()
    store = make_store()
    with store._snapshot():
        assert store._query("SELECT value FROM shsync_meta WHERE key = 'schema_version'") == [
            (str(SCHEMA_VERSION),)]
        assert store._kept_fingerprint() is None
    assert kept(store) == fingerprint(seeded_state())  # hashed while none is kept
    store.apply(changing_plan(store.read()), actor=OPERATOR, now=LATER)
    with store._snapshot():
        assert store._kept_fingerprint() == fingerprint(store.read())
