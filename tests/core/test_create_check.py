"""A new client's check finds exactly the problem the rules name, first one first."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shsync.core.actions import create_problem, precondition
from shsync.core.operations import op
from shsync.core.state import ClientState, MemberState, PracticeState
from shsync.core.working import Working
from tests.conftest import NOW

POOL = [f"m{i}@p.example" for i in range(5)]


def rules(w: Working, o) -> str | None:
    """The check as the rules state it, every message built."""
    if o.target in w.clients:
        return f"client {o.target} already exists"
    return create_problem(w, o)


@st.composite
def cases(draw):
    members = {e: MemberState(e, "A", "B", draw(st.sampled_from(
        [("practitioner",), ("practitioner", "supervisor"), ("supervisor",), ("scheduler",)])),
        admin=draw(st.booleans()))
        for e in draw(st.lists(st.sampled_from(POOL), unique=True, max_size=5))}
    clients = {"C0": ClientState("C0", POOL[0])}
    step = op("create_client", draw(st.sampled_from(["C0", "C1"])),
              practitioner=draw(st.sampled_from(POOL)),
              access=tuple(draw(st.lists(st.sampled_from(POOL), unique=True, max_size=3))),
              supervisor=draw(st.sampled_from([None, *POOL])))
    return Working(PracticeState(members, clients, (), ()), NOW), step


@settings(max_examples=400, deadline=None)
@given(cases())
def test_the_check_of_a_new_client_is_the_rules_check(case):
    working, step = case
    assert precondition(working, step) == rules(working, step)
