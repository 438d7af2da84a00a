"""`observe`: what an observation leaves unsaid, a refresh leaves as the store has it."""

from __future__ import annotations

from dataclasses import replace

from shsync.core.observe import observe
from shsync.core.state import End
from tests.conftest import NOW
from tests.core.builders import D, c, live, m

SOON = "2026-11-26T14:00:00Z"  # two hours after NOW
PASSED = "2026-11-26T10:00:00Z"


def _glass(until: str):
    """Kim's emergency access to C-1 (Sam's client), ending at `until`."""
    client = replace(c("C-1", "sam", "kim"), ends=(End("kim" + D, until, "crisis", True),))
    store = live(m("dana", "practitioner", admin=True), m("sam", "practitioner"),
                 m("kim", "practitioner"), clients=[client])
    return store, replace(store, clients={"C-1": c("C-1", "sam")})  # observed without it


def test_emergency_access_the_observation_leaves_out_is_kept_until_its_end():
    store, seen = _glass(SOON)
    assert observe(seen, store, {}, NOW) == ([], [])


def test_a_grant_with_an_end_that_is_not_an_emergency_is_revoked_as_observed():
    store, seen = _glass(SOON)
    ordinary = replace(store.clients["C-1"], ends=(End("kim" + D, SOON, "cover"),))
    store = replace(store, clients={"C-1": ordinary})
    assert [(o.action, o.get("member")) for o in observe(seen, store, {}, NOW)[0]] == [
        ("revoke_access", "kim" + D)]


def test_emergency_access_that_has_ended_is_revoked_as_observed():
    store, seen = _glass(PASSED)
    assert [o.action for o in observe(seen, store, {}, NOW)[0]] == ["revoke_access"]


def test_a_member_observed_gone_loses_emergency_access_with_the_rest():
    store, seen = _glass(SOON)
    seen = replace(seen, members={e: x for e, x in seen.members.items() if e != "kim" + D})
    assert [o.action for o in observe(seen, store, {}, NOW)[0]] == ["revoke_access",
                                                                     "remove_member"]


def test_a_status_the_observation_does_not_state_keeps_the_stores():
    store = live(m("dana", "practitioner", admin=True), m("vic", "practitioner",
                                                          status="invited"))
    seen = replace(store, members={**store.members, "vic" + D: replace(
        store.members["vic" + D], status="active")})
    assert [o.action for o in observe(seen, store, {}, NOW)[0]] == ["accept_invitation"]
    assert observe(seen, store, {}, NOW, unstated={"vic" + D}) == ([], [])
