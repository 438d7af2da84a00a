"""The API's access answer for a client, encoded from pieces kept per practice (`ClientRows`),
is exactly the rows' JSON, whatever the ids and emails hold (while no runbook step is pending:
tests/server/test_runbook_api.py has the answer beside a pending runbook)."""

from __future__ import annotations

import json

from hypothesis import given, settings

from shsync.core.access import Lookup
from shsync.core.state import ClientState, MemberState, PracticeState
from shsync.render.access import CARRIED_OUT, ClientRows, as_dicts, rows_document
from tests.core.test_access_lookup import with_ends
from tests.render.test_hostile_names import HOSTILE


def expected(lookup: Lookup, client: str) -> dict[str, object]:
    """The rows, each also in Sessions Health (no runbook step is pending)."""
    return {"rows": [{**row, **CARRIED_OUT} for row in as_dicts(lookup.client(client))]}


@settings(max_examples=200, deadline=None)
@given(with_ends())
def test_every_clients_document_is_its_rows(state):
    lookup = Lookup(state)
    encoder = ClientRows(lookup)
    for client in [*state.clients, "C-missing"]:
        assert json.loads(encoder.document(client)) == expected(lookup, client)
        assert json.loads(rows_document(lookup.client(client))) == expected(lookup, client)


def test_hostile_ids_and_emails_stay_values():
    emails = [f'{i}"{h}@x.example' for i, h in enumerate(HOSTILE)]
    members = {e: MemberState(e, "A", "B", ("practitioner", "supervisor"), admin=i % 2 == 0)
               for i, e in enumerate(emails)}
    forge = '"},{"member":"forged'  # a client id that tries to close its row and open another
    ids = ["C" + h + forge for h in HOSTILE]
    clients = {cid: ClientState(cid, emails[i], (emails[i - 1],), emails[i - 2])
               for i, cid in enumerate(ids)}
    lookup = Lookup(PracticeState(members, clients))
    encoder = ClientRows(lookup)
    for client in clients:
        found = json.loads(encoder.document(client))
        assert found == expected(lookup, client)
        assert {r["client"] for r in found["rows"]} == {client}
        assert "forged" not in {r["member"] for r in found["rows"]}
