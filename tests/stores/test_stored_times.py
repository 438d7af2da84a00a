"""Times a SQL store holds are trusted no more than anything else in it: an access end, the end
of full clinical access or an invitation time changed outside shsync (not a time, a year `1`, an
offset, a day that does not exist) is `bad-store` when the practice is read, never an end that
compares as text and so never comes (access kept for ever), nor an export that fails `validate`.
"""

from __future__ import annotations

import pytest

from shsync.errors import BackendError
from tests.stores.test_contract import OPERATOR, seeded_state
from tests.core.builders import NOW

DAMAGED = ["garbage", "1-01-01T00:00:00Z", "9999-12-31T23:00:00-05:00", "2026-02-30T10:00:00Z",
           "2026-11-26T12:00:00Z\n", "2026-11-26 12:00:00"]


def seeded(make_store):
    store = make_store()
    store.seed(seeded_state(), actor=OPERATOR, now=NOW)
    return store


def outside_shsync(store, statement: str, params=()):
    """Change the store as someone with its credentials but not shsync would (inside a
    transaction, so PostgreSQL's search_path is the test's own schema)."""
    with store._transaction():
        store._execute(statement, params)


@pytest.mark.parametrize("value", DAMAGED)
def test_a_damaged_access_end_is_bad_store(make_store, value):
    store = seeded(make_store)
    client, member = "C1", "sam@p.example"
    outside_shsync(store, "UPDATE client_access SET ends_at = ?, end_reason = 'cover' WHERE "
                   "practice = ? AND client = ? AND member = ?",
                   (value, store.practice, client, member))
    with pytest.raises(BackendError) as raised:
        store.read()
    assert raised.value.code == "bad-store"
    assert str(raised.value) == (f"{store.display_url}: the end of {member}'s access to client "
                                 f"{client} is {value!r}, not a time shsync writes (like "
                                 "2026-11-26T12:00:00Z); it was not written by shsync")


@pytest.mark.parametrize("column, named", [
    ("clinical_ends_at", "the end of sam@p.example's full clinical access"),
    ("invited_at", "sam@p.example's invited_at")])
def test_a_damaged_member_time_is_bad_store(make_store, column, named):
    store = seeded(make_store)
    outside_shsync(store, f"UPDATE members SET {column} = 'soon' WHERE practice = ? AND "
                   "email = 'sam@p.example'", (store.practice,))
    with pytest.raises(BackendError) as raised:
        store.read()
    assert (raised.value.code, str(raised.value)) == (
        "bad-store", f"{store.display_url}: {named} is 'soon', not a time shsync writes (like "
                     "2026-11-26T12:00:00Z); it was not written by shsync")


def test_times_shsync_wrote_read_back(make_store):
    store = seeded(make_store)
    outside_shsync(store, "UPDATE client_access SET ends_at = '2027-01-31T06:00:00Z', "
                   "end_reason = 'x' WHERE practice = ?", (store.practice,))
    ends = [e.until for client in store.read().clients.values() for e in client.ends]
    assert ends and set(ends) == {"2027-01-31T06:00:00Z"}
