"""A practice's fingerprint is the same bytes, whatever the version of shsync that made it.

Audit entries hold fingerprints from the day they were written, and `history --verify` replays
them: the form hashed must never change. `reference` is the form as it was first written, row by
row; the fingerprint is held to it on generated practices, with and without the fields added
later (ends of access, full clinical access that ends, the policies).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from shsync.core.state import PracticeState, fingerprint
from tests.core.test_access_lookup import with_ends

LATER = {"ends": (), "clinical_until": None, "clinical_reason": None}


def row(value):
    out = []
    for name in value.__slots__:
        item = getattr(value, name)
        if name in LATER and item == LATER[name]:
            continue
        out.append([row(e) for e in item] if name == "ends" else item)
    return out


def reference(state: PracticeState) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(state.name).encode())
    for section in (sorted(state.members.items()), sorted(state.clients.items()),
                    sorted(state.appointments, key=lambda a: a.id),
                    sorted(state.notes, key=lambda n: n.id)):
        for item in section:
            value = item[1] if isinstance(item, tuple) else item
            digest.update(json.dumps(row(value), separators=(",", ":")).encode())
            digest.update(b"\n")
        digest.update(b"\x1e")
    if state.approval_policy:
        digest.update(b"approvals" + json.dumps(state.approval_policy).encode())
    if state.break_glass_policy is not None:
        digest.update(b"break_glass" + json.dumps(state.break_glass_policy).encode())
    return "sha256:" + digest.hexdigest()


@settings(max_examples=300, deadline=None)
@given(with_ends(), st.sampled_from([None, "Practice", "Ünïcode \u2028"]),
       st.sampled_from([None, (("remove_member", 2),)]),
       st.sampled_from([None, (("a@p.example",), 60)]))
def test_the_fingerprint_hashes_the_form_it_always_hashed(state, name, approvals, glass):
    state = replace(state, name=name, approval_policy=approvals, break_glass_policy=glass)
    assert fingerprint(state) == reference(state)


def test_a_known_practice_keeps_its_known_fingerprint():
    # Pinned from shsync before the encoder was shared (a change of form breaks every log).
    assert fingerprint(PracticeState({}, {}, (), ())) == \
        "sha256:" + hashlib.sha256(b"null\x1e\x1e\x1e\x1e").hexdigest()


@settings(max_examples=50, deadline=None)
@given(with_ends())
def test_without_the_c_encoder_the_rows_are_the_same_text(state):
    import shsync.core.state as module  # noqa: PLC0415

    fast = module._encode_row
    python = module._COMPACT.encode
    for value in [*state.members.values(), *state.clients.values()]:
        row = module._row(value)
        assert fast(row) == python(row) == json.dumps(row, separators=(",", ":"))


def test_a_python_without_the_c_encoder_falls_back_to_its_own(monkeypatch):
    import shsync.core.state as module  # noqa: PLC0415

    monkeypatch.setattr(json.encoder, "c_make_encoder", None)
    assert module._row_encoder() == module._COMPACT.encode
