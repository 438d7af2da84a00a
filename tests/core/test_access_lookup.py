"""The indexed access answers (`Lookup`, what a server keeps per audit head) agree with asking
every member about the client, one by one (property test)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from shsync.core.access import CAPABILITIES, REASONS, AccessIndex, Lookup, Row, held_on
from shsync.core.state import End, PracticeState
from tests.core.test_replay import practices

UNTIL = ["2026-12-01T00:00:00Z", "2027-03-01T09:30:00Z"]


@st.composite
def with_ends(draw) -> PracticeState:
    """A practice whose grants and full clinical access may end by themselves, some grants as
    emergency access."""
    state = draw(practices(live=True))
    clients = {}
    for cid, c in state.clients.items():
        ends = tuple(End(e, draw(st.sampled_from(UNTIL)), None, draw(st.booleans()))
                     for e in c.access if draw(st.booleans()))
        clients[cid] = replace(c, ends=ends)
    members = {e: replace(m, clinical_until=draw(st.sampled_from([None, *UNTIL])))
               if m.full_clinical_access else m for e, m in state.members.items()}
    return replace(state, members=members, clients=clients)


def one_by_one(state: PracticeState, client: str) -> list[Row]:
    """Every member asked about the client, in email order: the definition."""
    rows = []
    for email in sorted(state.members):
        held = sorted(held_on(state, email, client),
                      key=lambda h: (CAPABILITIES.index(h[0]), REASONS.index(h[1])))
        for cap, reason in held:
            until = None
            if reason == "full_clinical_access":
                until = state.members[email].clinical_until
            elif reason in ("granted", "break_glass"):
                end = state.clients[client].end_of(email)
                until = end.until if end else None
            rows.append(Row(email, client, cap, reason, until))
    return rows


@settings(max_examples=300, deadline=None)
@given(with_ends())
def test_a_clients_rows_match_asking_every_member(state):
    lookup = Lookup(state)
    for client in [*state.clients, "C-missing"]:
        assert lookup.client(client) == one_by_one(state, client)


@settings(max_examples=300, deadline=None)
@given(with_ends(), st.data())
def test_an_index_for_some_members_answers_for_them_as_the_whole_index(state, data):
    asked = data.draw(st.lists(st.sampled_from(sorted(state.members)), unique=True))
    whole, some = AccessIndex(state), AccessIndex(state, asked)
    for email in asked:
        assert some.profile(email) == whole.profile(email)
