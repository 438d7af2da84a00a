"""The backend contract: one small interface every store of a live practice implements.

A backend reads the live practice, seeds an empty one, applies a plan atomically (refusing a
stale one), and keeps an audit log. It never decides what to change: the planner does.
Driver errors never leave this package; they become `BackendError` with a redacted message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from shsync.reconcile.authorize import Actor
from shsync.reconcile.plan import Plan
from shsync.reconcile.state import PracticeState

Progress = Callable[[int], None]


class BackendError(Exception):
    """The store failed or refused; the message is safe to print (no secrets, no PHI)."""


class StalePlan(BackendError):
    """The live practice changed since the plan was made."""


class WrongPractice(BackendError):
    """The plan was made for another practice."""


class NotEmpty(BackendError):
    """Seeding a backend that already holds a practice."""


class Forbidden(BackendError):
    """The actor may not make some change in the plan."""


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

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "actor": self.actor, "plan_hash": self.plan_hash,
                "fingerprint": self.fingerprint, "summary": self.summary,
                "operations": self.operations, "prev_hash": self.prev_hash,
                "entry_hash": self.entry_hash}


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
