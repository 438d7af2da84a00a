"""An audit entry: one change to the practice as the audit log records it, a frozen value.

Its hash covers every field and the previous entry's hash (`entry_digest`), so editing or
removing an entry breaks every hash after it; `shsync.audit.chain` checks the chain and replays
it. The value lives in the core because the access review, emergency access and the stores all
read entries, and none of them needs the replay.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from shsync.core.plan import canonical, canonical_with

GENESIS = "sha256:" + "0" * 64
KINDS = ("seed", "adopt", "apply", "accepted", "refresh", "break_glass", "expire", "review",
         "done", "observed")
#: The kinds of entry that load a whole practice into an empty store: a snapshot (`seed`), or an
#: org file recorded as what Sessions Health already has (`adopt`). Each holds the whole state.
LOADS = ("seed", "adopt")


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
