"""The fast access delta agrees with the brute-force one: every member on every client."""

from hypothesis import given, settings

from shsync.core import planner
from shsync.core.access import delta, held_on
from shsync.core.simulate import simulate
from tests.core.test_replay import NOW, scenarios


def brute(before, after):
    found = set()
    for email in set(before.members) | set(after.members):
        for cid in set(before.clients) | set(after.clients):
            was = {c for c, _ in held_on(before, email, cid)}
            now = {c for c, _ in held_on(after, email, cid)}
            found |= {(email, cid, "gain", c) for c in now - was}
            found |= {(email, cid, "lose", c) for c in was - now}
    return found


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_the_delta_matches_brute_force(scenario):
    live, desired = scenario
    plan = planner.plan(desired, live, practice="p", now=NOW,
                        options=planner.Options(allow_mass_removal=True,
                                                assume_accepted=True))
    after = simulate(live, plan.operations, NOW)
    expected = brute(live, after)
    reported = set()
    for a in delta(live, after):
        state = after if a.change == "gain" else live
        if a.capabilities == ("everything",):
            for cid in (live.clients if a.all_clients else a.clients):
                reported |= {(a.member, cid, "lose", c) for c, _ in held_on(live, a.member, cid)}
            continue
        clients = state.clients if a.all_clients else a.clients
        assert len(a.clients) == a.client_count or a.all_clients
        for cid in clients:
            for cap in a.capabilities:
                held = {c for c, _ in held_on(state, a.member, cid)}
                assert cap in held  # a reported gain is held after, a loss was held before
                reported.add((a.member, cid, a.change, cap))
    assert expected <= reported
    # Role-wide changes name every client; per-client ones are exact.
    assert {r for r in reported if r not in expected} <= {
        (a.member, cid, a.change, cap) for a in delta(live, after) if a.all_clients
        for cid in (after if a.change == "gain" else live).clients for cap in a.capabilities}


def test_the_delta_of_equal_states_is_remembered_once_and_still_right():
    from dataclasses import replace

    from shsync.core import access
    from tests.core.builders import ADMIN, c, live, m

    sam = m("sam", "practitioner")
    before = live(ADMIN, sam, clients=[c("C1", "sam")])
    after = live(ADMIN, sam, clients=[c("C1", "sam", "admin")])
    first = access.delta(before, after)
    # states read and built again, equal: the same answer, without working it out again
    again = access.delta(replace(before), replace(after))
    assert again is first
    # remembered for one further use only; a different state is worked out afresh
    other = live(ADMIN, sam, clients=[c("C1", "sam")])
    assert access.delta(before, other) == ()
    assert access.delta(before, after) == first and access.delta(before, after) is not first


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_when_invitations_were_stamped_changes_no_access(scenario):
    # the store applies with its own clock, seconds after the plan: only invited_at differs
    from shsync.core import access

    live, desired = scenario
    plan = planner.plan(desired, live, practice="p", now=NOW,
                        options=planner.Options(allow_mass_removal=True))
    stamped_now = simulate(live, plan.operations, NOW)
    stamped_later = simulate(live, plan.operations, "2026-11-26T12:00:07Z")
    assert access._delta(live, stamped_later) == access._delta(live, stamped_now)
