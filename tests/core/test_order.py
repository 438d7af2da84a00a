"""A plan's steps in one order: phase, action, target, then their parameters."""

from hypothesis import given
from hypothesis import strategies as st

from shsync.core.actions import ACTIONS
from shsync.core.operations import Operation, in_order, sort_key

# Few targets and values, so that many steps tie on phase, action and target.
_value = st.none() | st.booleans() | st.sampled_from(["a", "b", "c@x.example"]) | st.tuples(
    st.sampled_from(["a", "b"]))
_operation = st.builds(
    Operation, st.sampled_from(sorted(ACTIONS)), st.sampled_from(["c1", "c2", "m@x.example"]),
    st.lists(st.tuples(st.sampled_from(["admin", "access", "previous"]), _value),
             max_size=3).map(tuple))


@given(st.lists(_operation, max_size=40))
def test_in_order_is_the_order_of_the_full_sort_key(operations):
    assert in_order(operations) == sorted(operations, key=sort_key)


def test_steps_that_tie_on_action_and_target_are_ordered_by_their_parameters():
    b = Operation("grant_access", "c1", (("member", "b@x.example"),))
    a = Operation("grant_access", "c1", (("member", "a@x.example"),))
    assert in_order([b, a]) == [a, b]


def test_swapping_who_supervises_whom_never_makes_a_cycle_on_the_way():
    # found by the replay property: m3 under m2 becomes m2 under m3
    from shsync.core import planner
    from shsync.core.state import Desired
    from tests.core.builders import ADMIN, live, m

    m2 = m("m2", "practitioner", "supervisor")
    m3 = m("m3", "practitioner", supervisor="m2")
    want_m2 = m("m2", "practitioner", supervisor="m3")
    want_m3 = m("m3", "practitioner", "supervisor")
    plan = planner.plan(Desired({x.email: x for x in (ADMIN, want_m2, want_m3)}, {}, {}),
                        live(ADMIN, m2, m3), practice="p", now="2026-11-26T12:00:00Z",
                        options=planner.Options(assume_accepted=True))
    assert plan.errors == ()
    moves = [(o.target, o.get("supervisor")) for o in plan.operations
             if o.action == "set_supervisor"]
    assert moves == [("m3@p.example", None), ("m2@p.example", "m3@p.example")]

