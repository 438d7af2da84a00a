"""The backend contract: one small interface every store of a live practice implements.

A backend reads the live practice, seeds an empty one, applies a plan atomically (refusing a
stale one), and keeps an audit log. It never decides what to change: the planner does.
Driver errors never leave this package; they become `BackendError` with a redacted message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from shsync.reconcile.authorize import Actor
from shsync.reconcile.plan import Plan, canonical
from shsync.reconcile.state import PracticeState

Progress = Callable[[int], None]
GENESIS = "sha256:" + "0" * 64


class BackendError(Exception):
    """The store failed or refused; the message is safe to print (no secrets, no PHI)."""

    code = "backend"


class StalePlan(BackendError):
    """The live practice changed since the plan was made."""

    code = "stale-plan"


class WrongPractice(BackendError):
    """The plan was made for another practice."""

    code = "wrong-practice"


class NotEmpty(BackendError):
    """Seeding a backend that already holds a practice."""

    code = "not-empty"


class Forbidden(BackendError):
    """The actor may not make some change in the plan."""

    code = "forbidden"


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    plan_hash: str
    fingerprint: str
    summary: dict[str, int]
    operations: list[dict[str, Any]]
    prev_hash: str
    entry_hash: str
    outcome: str = "applied"

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "actor": self.actor, "plan_hash": self.plan_hash,
                "fingerprint": self.fingerprint, "summary": self.summary,
                "operations": self.operations, "outcome": self.outcome,
                "prev_hash": self.prev_hash, "entry_hash": self.entry_hash}


def entry_digest(body: dict[str, Any]) -> str:
    """The hash of an audit entry: over every field but its own hash, including the previous
    entry's hash, so changing or removing any entry breaks every hash after it."""
    return "sha256:" + hashlib.sha256(canonical(body).encode()).hexdigest()


def verify_chain(entries: Sequence[AuditEntry]) -> str | None:
    """None when the chain is intact, else what is wrong with the first broken entry."""
    prev = GENESIS
    for expected_seq, e in enumerate(entries, 1):
        if e.seq != expected_seq:
            return f"entry #{expected_seq} is missing (found #{e.seq} in its place)"
        if e.prev_hash != prev:
            return f"entry #{e.seq} does not follow entry #{e.seq - 1} (its previous hash differs)"
        body = {k: v for k, v in e.to_dict().items() if k != "entry_hash"}
        if entry_digest(body) != e.entry_hash:
            return f"entry #{e.seq} was changed after it was written (its hash does not match)"
        prev = e.entry_hash
    return None


class Backend(Protocol):
    """What shsync needs from a store of live practices."""

    practice: str
    display_url: str

    def read(self) -> PracticeState: ...

    def seed(self, state: PracticeState) -> None: ...

    def apply(self, plan: Plan, *, actor: Actor, now: str,
              progress: Progress | None = None) -> AuditEntry: ...

    def history(self) -> list[AuditEntry]: ...

    def close(self) -> None: ...


def redact(url: str) -> str:
    """The URL with any password replaced, safe for every message."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//[^@/]*@", "//***@", url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[1]}"))
