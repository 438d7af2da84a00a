"""The invariants' check names every client that breaks one, exactly as the plain rules say."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shsync.core.simulate import client_problems, violations
from shsync.core.state import ClientState, MemberState, PracticeState
from tests.conftest import NOW

POOL = [f"m{i}@p.example" for i in range(6)]  # some of them are not members
ROLES = st.sampled_from([("practitioner",), ("practitioner", "supervisor"), ("supervisor",),
                         ("scheduler",), ()])


def client_rules(state: PracticeState) -> list[str]:
    """The rules for clients, asked of every client one at a time, the quick check left out."""
    return [p for c in state.clients.values() for p in client_problems(state.members, c)]


@st.composite
def practices(draw) -> PracticeState:
    members = {e: MemberState(e, "A", "B", draw(ROLES), admin=True,
                              status=draw(st.sampled_from(["active", "invited"])))
               for e in draw(st.lists(st.sampled_from(POOL), unique=True, max_size=5))}
    clients = {}
    for i in range(draw(st.integers(0, 8))):
        access = tuple(sorted(draw(st.lists(st.sampled_from(POOL), unique=True, max_size=3))))
        clients[f"C{i}"] = ClientState(f"C{i}", draw(st.sampled_from(POOL)), access,
                                       draw(st.sampled_from([None, *POOL])))
    return PracticeState(members, clients, (), ())


@settings(max_examples=400, deadline=None)
@given(practices())
def test_every_broken_client_is_named_in_order(state):
    client_lines = [v for v in violations(state, NOW) if v.startswith("client ")]
    assert client_lines == client_rules(state)


def test_a_client_of_an_invited_practitioner_is_named():
    state = PracticeState({"a@p.example": MemberState("a@p.example", "A", "B", ("practitioner",),
                                                      admin=True, status="invited")},
                          {"C1": ClientState("C1", "a@p.example")}, (), ())
    assert "client C1 is assigned to a@p.example, who has not accepted their invitation" in \
        violations(state, NOW)
