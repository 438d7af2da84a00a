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

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shsync.core.operations import from_dict
from shsync.core.plan import canonical, canonical_with
from shsync.core.simulate import simulate
from shsync.core.state import PracticeState, fingerprint, state_from_dict

GENESIS = "sha256:" + "0" * 64
KINDS = ("seed", "apply", "accepted", "refresh", "break_glass", "expire", "review")


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str  # the time the change was planned for
    actor: str
    plan_hash: str
    fingerprint: str  # the practice before
    summary: dict[str, int]
    operations: list[dict[str, Any]]
    prev_hash: str
    entry_hash: str
    outcome: str = "applied"
    kind: str | None = None  # None: written by shsync 0.1, before entries had kinds
    written_at: str | None = None  # the store's clock when the entry was written
    result: str | None = None  # the practice's fingerprint after
    details: dict[str, Any] = field(default_factory=dict)  # seed: the state it loaded

    def body(self) -> dict[str, Any]:
        """Every field the hash covers."""
        out = {"seq": self.seq, "at": self.at, "actor": self.actor,
               "plan_hash": self.plan_hash, "fingerprint": self.fingerprint,
               "summary": self.summary, "operations": self.operations, "outcome": self.outcome,
               "prev_hash": self.prev_hash}
        if self.kind is not None:
            out.update(kind=self.kind, written_at=self.written_at, result=self.result,
                       details=self.details)
        return out

    def to_dict(self, *, with_details: bool = False) -> dict[str, Any]:
        out = {**self.body(), "entry_hash": self.entry_hash}
        if not with_details and "details" in out:
            out["details"] = {k: v for k, v in self.details.items() if k != "state"}
        return out


def entry_digest(body: dict[str, Any], operations_json: str | None = None) -> str:
    """The hash over an entry's body; `operations_json`, when given, is its operations already
    in canonical form (a plan's `operations_json`), so they are not serialised again."""
    text = (canonical(body) if operations_json is None
            else canonical_with(body, {"operations": operations_json}))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def seal(operations_json: str | None = None, **fields: Any) -> AuditEntry:
    """A new entry with its hash."""
    draft = AuditEntry(entry_hash="", **fields)
    return AuditEntry(**{**draft.__dict__,
                         "entry_hash": entry_digest(draft.body(), operations_json)})


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
