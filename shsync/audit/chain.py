"""The audit log: entries chained by hash, and a replay that checks the log explains the state.

Each entry records what kind of change it was (seed, apply, accepted, refresh, break_glass,
expire, review), who made it, the
operations, the fingerprint of the practice before and after, when it was planned for (`at`)
and when it was really written (`written_at`, the store's own clock). Its hash covers all of
that and the previous entry's hash, so editing or removing an entry breaks every hash after it.
A deleted *tail* leaves the chain intact, so `replay` goes further: starting from the seed
entry's recorded state (or an empty practice), it re-applies every entry's operations with the
same code the planner uses and checks each entry's fingerprints, then compares the result with
the live practice. A log that does not explain the state is reported, never trusted.
"""

from __future__ import annotations

from collections.abc import Sequence

from shsync.core.operations import from_dict
from shsync.core.entry import GENESIS, AuditEntry, entry_digest
from shsync.core.simulate import simulate
from shsync.core.state import PracticeState, fingerprint, state_from_dict


def verify_chain(entries: Sequence[AuditEntry]) -> str | None:
    """None when the chain is intact, else what is wrong with the first broken entry."""
    prev = GENESIS
    for expected_seq, e in enumerate(entries, 1):
        if e.seq != expected_seq:
            return f"entry #{expected_seq} is missing (found #{e.seq} in its place)"
        if e.prev_hash != prev:
            return f"entry #{e.seq} does not follow entry #{e.seq - 1} (its previous hash differs)"
        if entry_digest(e.body()) != e.entry_hash:
            return f"entry #{e.seq} was changed after it was written (its hash does not match)"
        prev = e.entry_hash
    return None


def replay(entries: Sequence[AuditEntry], live: PracticeState) -> str | None:
    """None when replaying the log reproduces the live practice, else the first discrepancy."""
    state = PracticeState()
    for e in entries:
        if e.kind is None:
            return (f"entry #{e.seq} was written by an older shsync, before the log recorded "
                    "enough to be replayed; only its hash chain can be checked")
        if e.kind != "seed" and fingerprint(state) != e.fingerprint:
            return (f"entry #{e.seq} was made from a state the entries before it do not explain "
                    "(an entry is missing, or the store was changed outside shsync)")
        try:
            if e.kind == "seed":
                state = state_from_dict(e.details["state"])
            else:
                state = simulate(state, [from_dict(o) for o in e.operations], e.at)
        except Exception as exc:  # noqa: BLE001 - any failure means the log does not replay
            return f"entry #{e.seq} cannot be replayed: {type(exc).__name__}: {exc}"[:300]
        if e.result is not None and fingerprint(state) != e.result:
            return f"entry #{e.seq} does not reproduce the state it recorded"
    if fingerprint(state) != fingerprint(live):
        last = f"entry #{entries[-1].seq}" if entries else "an empty log"
        return (f"the log ends at {last} but does not explain the live practice: entries are "
                "missing from its end, or the store was changed outside shsync")
    return None


def head(entries: Sequence[AuditEntry]) -> str:
    return entries[-1].entry_hash if entries else GENESIS
