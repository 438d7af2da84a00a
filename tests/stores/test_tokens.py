"""API tokens in every SQL store (a server keeps them in its own store: tests/server): only the hash is kept, and a token stands for one identity in
one practice until it is revoked or expires."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shsync.core import tokens
from shsync.stores.sql import SCHEMA_VERSION
from shsync.stores.sqlite import SqliteBackend
from shsync.errors import UserError
from shsync.core.tokens import InsufficientScope, Unauthorized
from tests.core.builders import ADMIN, D, live, m

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def make(store, actor="admin" + D, *, operator=False, scope="plan", expires="90d"):
    return tokens.create(store, actor=actor, operator=operator, scope=scope, expires=expires,
                         created_by="operator:test", now=NOW)


@pytest.fixture
def store(make_store):
    backend = make_store()
    backend.seed(live(ADMIN, m("sam", "practitioner"),
                      m("rosa", "scheduler", status="invited", invited_at="2026-11-01T00:00:00Z")))
    return backend


def test_a_token_stands_for_its_member_with_its_scope(store):
    text, record = make(store, "Admin" + D, scope="apply")
    who = tokens.authenticate(store, text, NOW)
    assert (who.actor.email, who.actor.name, who.scope, who.token_id) == (
        "admin" + D, "admin" + D, "apply", record.id)
    assert who.allows("plan") and who.allows("apply") and not who.allows("admin")


def test_the_store_keeps_the_hash_never_the_secret(store):
    text, record = make(store)
    (kept,) = store.tokens()
    assert kept == record and kept.secret_hash.startswith("sha256:")
    secret = text.split("_", 2)[2]
    assert secret not in repr(kept) and text not in repr(kept)
    assert "secret_hash" not in kept.public(tokens.iso(NOW))


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # a wrong (or non-canonical) secret
    lambda t: t[:30] + ("A" if t[30] != "A" else "B") + t[31:],  # a wrong secret
    lambda t: t[:4] + "0123456789abcdef" + t[20:],  # an unknown id
    lambda t: "",
    lambda t: "Bearer " + t,
    lambda t: "shs_" + "x" * 60,
])
def test_a_wrong_or_malformed_token_is_refused(store, mangle):
    text, _ = make(store)
    with pytest.raises(Unauthorized):
        tokens.authenticate(store, mangle(text), NOW)


def test_a_revoked_token_fails_at_once(store):
    text, record = make(store)
    assert store.revoke_token(record.id, "2026-11-26T12:00:01Z")
    with pytest.raises(Unauthorized, match="revoked"):
        tokens.authenticate(store, text, NOW)
    assert store.revoke_token(record.id, "2027-01-01T00:00:00Z")  # again: the first time stays
    assert store.tokens()[0].revoked_at == "2026-11-26T12:00:01Z"
    assert not store.revoke_token("0123456789abcdef", "2026-11-26T12:00:01Z")


def test_an_expired_token_fails_from_the_instant_it_ends(store):
    text, _ = make(store, expires="1h")
    assert tokens.authenticate(store, text, NOW + timedelta(minutes=59, seconds=59))
    with pytest.raises(Unauthorized, match="expired"):
        tokens.authenticate(store, text, NOW + timedelta(hours=1))


def test_a_token_works_only_in_its_own_practice(make_store):
    first, second = make_store("first"), make_store("second")
    first.seed(live(ADMIN))
    second.seed(live(ADMIN))
    text, _ = make(first)
    assert tokens.authenticate(first, text, NOW)
    with pytest.raises(Unauthorized, match="not valid for practice 'second'"):
        tokens.authenticate(second, text, NOW)


def planted(store, actor):
    """A member's token written straight into the store, as `token create` never makes it for
    someone who is not a member: what authentication meets in a store changed outside shsync."""
    text, token_id, raw = tokens.new_secret()
    store.add_token(tokens.TokenRecord(token_id, store.practice, actor, False, "plan",
                                       tokens.digest(raw), tokens.iso(NOW), "test", None))
    return text


@pytest.mark.parametrize("who", ["rosa", "nobody"])
def test_a_token_of_someone_not_an_active_member_is_refused(store, who):
    text = make(store, who + D)[0] if who == "rosa" else planted(store, who + D)
    with pytest.raises(Unauthorized, match="not an active member"):
        tokens.authenticate(store, text, NOW)


def test_a_member_s_token_is_made_only_for_a_member(store):
    with pytest.raises(UserError, match="is not a member of practice") as refused:
        make(store, "nobody" + D)
    assert refused.value.code == "not-a-member" and store.tokens() == []


def test_an_operator_token_has_the_operators_rights_under_its_name(store):
    text, _ = make(store, "ci-deploy", operator=True, scope="admin")
    who = tokens.authenticate(store, text, NOW)
    assert (who.actor.email, who.actor.name) == (None, "ci-deploy")


def test_scope_is_a_ladder():
    reader = tokens.Identity("x", tokens.Actor.member("a" + D), "read")
    reader.require("read", "reading")
    with pytest.raises(InsufficientScope, match="scope is read; applying needs scope apply"):
        reader.require("apply", "applying")


@pytest.mark.parametrize("expires, error", [("0d", "between"), ("99999d", "between"),
                                            ("3 days", "not like"), ("-1h", "not like")])
def test_expiry_is_checked(store, expires, error):
    with pytest.raises(tokens.UserError, match=error):
        make(store, expires=expires)


def test_expiry_never_means_no_end(store):
    _, record = make(store, expires="never")
    assert record.expires_at is None and record.status("9999-01-01T00:00:00Z") == "valid"


def test_tokens_are_listed_per_practice(make_store):
    first, second = make_store("first"), make_store("second")
    _, one = make(first, "ci", operator=True)
    assert [t.id for t in first.tokens()] == [one.id] and second.tokens() == []


def test_a_version_3_store_is_upgraded_to_keep_tokens(tmp_path):
    path = tmp_path / "old.db"
    SqliteBackend(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE tokens")  # and what version 4 added (the two-person rule)
        conn.execute("DROP TABLE stored_plans")
        conn.execute("DROP TABLE plan_approvals")
        conn.execute("ALTER TABLE practices DROP COLUMN approvals")
        conn.execute("ALTER TABLE practices DROP COLUMN break_glass")  # and version 6's
        conn.execute("ALTER TABLE practices DROP COLUMN head_seq")  # and version 7's
        conn.execute("ALTER TABLE practices DROP COLUMN head_hash")
        conn.execute("ALTER TABLE practices DROP COLUMN fingerprint")  # and version 9's
        conn.execute("ALTER TABLE practices DROP COLUMN deadlines")  # and version 10's
        conn.execute("DROP TABLE runbook_steps")
        conn.execute("UPDATE shsync_meta SET value = '3' WHERE key = 'schema_version'")
    store = SqliteBackend(str(path))
    _, record = make(store, "ci", operator=True)
    assert store.tokens() == [record]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM shsync_meta").fetchone() == (str(SCHEMA_VERSION),)
    store.close()


def test_a_token_record_never_shows_its_hash_in_public_form(store):
    _, record = make(store)
    assert set(record.public("2026-01-01T00:00:00Z")) == {
        "id", "practice", "actor", "operator", "scope", "created_at", "created_by",
        "expires_at", "revoked_at", "revoked_reason", "status"}
    assert replace(record, revoked_at="x").status("2026-01-01T00:00:00Z") == "revoked"


def test_removing_a_member_revokes_their_tokens_in_the_same_apply(store):
    # A member removed and later added again must not find their old token working again.
    from shsync.core import planner
    from shsync.core.authorize import Actor
    from tests.core.builders import NOW as PLAN_NOW, want

    sam_token, sam = make(store, "sam" + D, scope="apply")
    _, admin = make(store, "admin" + D)
    _, service = make(store, "sam" + D, operator=True)  # a service named like him: not his
    state = store.read()
    rosa = state.members["rosa" + D]
    leave = planner.plan(want(state.members["admin" + D], rosa), state, practice="default",
                         now=PLAN_NOW, options=planner.Options(allow_mass_removal=True))
    assert [o.action for o in leave.operations] == ["remove_member"], leave.errors
    entry = store.apply(leave, actor=Actor.operator("op"), now=PLAN_NOW)
    found = {t.id: t for t in store.tokens()}
    assert found[sam.id].status(PLAN_NOW) == "revoked" and found[sam.id].revoked_at
    assert found[sam.id].revoked_reason == "the member was removed from the practice"
    assert found[admin.id].revoked_at is None and found[service.id].revoked_at is None
    back = planner.plan(want(state.members["admin" + D], rosa, state.members["sam" + D]),
                        store.read(), practice="default", now=PLAN_NOW,
                        options=planner.Options(assume_accepted=True))
    store.apply(back, actor=Actor.operator("op"), now=PLAN_NOW)
    assert store.read().members["sam" + D].status == "active"
    with pytest.raises(Unauthorized, match="revoked"):
        tokens.authenticate(store, sam_token, NOW)
    assert entry.kind == "apply"


def test_a_refused_removal_revokes_nothing(store):
    from shsync.errors import Refused
    from shsync.core.authorize import Actor
    from shsync.core.operations import op
    from shsync.core.plan import Plan, Summary
    from shsync.core.state import fingerprint

    _, sam = make(store, "sam" + D)
    state = store.read()
    # Removing the only administrator breaks the practice: refused, and the token stays.
    plan = Plan("default", fingerprint(state), (op("remove_member", "sam" + D,
                                                   cancel_appointments=0),
                                                op("remove_member", "admin" + D,
                                                   cancel_appointments=0)), Summary())
    with pytest.raises(Refused):
        store.apply(plan, actor=Actor.operator("op"), now="2026-11-26T12:00:00Z")
    assert [t.revoked_at for t in store.tokens()] == [None]


def test_a_member_removed_before_the_upgrade_does_not_find_their_token_working_again(
        make_store):
    # Before store schema 8 a removal left its member's tokens valid (a removed member's token
    # failed only while they stayed removed). The upgrade revokes them, so re-adding the member
    # after it never brings an old token back, as docs/server.md promises.
    from shsync.core import planner
    from shsync.core.authorize import Actor
    from tests.core.builders import NOW as PLAN_NOW, want

    store = make_store()
    store.seed(live(ADMIN, m("sam", "practitioner")))
    sam_token, sam = make(store, "sam" + D, scope="apply")
    _, admin = make(store, "admin" + D)
    state = store.read()
    leave = planner.plan(want(state.members["admin" + D]), state, practice="default",
                         now=PLAN_NOW, options=planner.Options(allow_mass_removal=True))
    store.apply(leave, actor=Actor.operator("op"), now=PLAN_NOW)
    with store._transaction():  # the store as shsync 7 left it: the removal revoked nothing
        store._execute("UPDATE tokens SET revoked_at = NULL, revoked_reason = NULL")
        store._execute("ALTER TABLE tokens DROP COLUMN revoked_reason")
        store._execute("ALTER TABLE stored_plans DROP COLUMN refused_at")
        store._execute("ALTER TABLE stored_plans DROP COLUMN refused_code")
        store._execute("ALTER TABLE practices DROP COLUMN fingerprint")
        store._execute("ALTER TABLE practices DROP COLUMN deadlines")  # version 10's
        store._execute("DROP TABLE runbook_steps")
        store._execute("UPDATE shsync_meta SET value = '7' WHERE key = 'schema_version'")
    store.close()
    store = make_store()
    found = {t.id: t for t in store.tokens()}
    assert found[sam.id].revoked_at is not None
    assert found[sam.id].revoked_reason == "the member was removed from the practice"
    assert found[admin.id].revoked_at is None
    back = planner.plan(want(state.members["admin" + D], state.members["sam" + D]),
                        store.read(), practice="default", now=PLAN_NOW,
                        options=planner.Options(assume_accepted=True))
    store.apply(back, actor=Actor.operator("op"), now=PLAN_NOW)
    assert store.read().members["sam" + D].status == "active"
    with pytest.raises(Unauthorized, match="revoked"):
        tokens.authenticate(store, sam_token, NOW)
