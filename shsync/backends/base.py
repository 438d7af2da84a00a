"""The backend contract: one small interface every store of a live practice implements.

A store reads the live practice, seeds an empty one, applies a plan atomically, and keeps an
audit log. It never decides what to change: the planner does. And it never trusts a plan file:
`Store.apply` is the one way in, and it runs the planner's own check (`reconcile.verify`) on
the live state inside the store's transaction before anything is written, so a new store
cannot forget it. Summaries, access deltas and audit entries come from that check, never from
the plan. Driver errors never leave this package; they become `BackendError` with a redacted
message.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from shsync.backends.audit import GENESIS, AuditEntry, entry_digest, seal, verify_chain
from shsync.backends.url import redact
from shsync.errors import (
    AlreadyApplied,
    BackendError,
    Forbidden,
    NotEmpty,
    Refused,
    StalePlan,
    WrongPractice,
)  # fmt: skip
from shsync.reconcile import access
from shsync.reconcile.authorize import Actor
from shsync.reconcile.operations import Operation
from shsync.reconcile.plan import Plan
from shsync.reconcile.state import PracticeState, fingerprint, state_to_dict
from shsync.reconcile.verify import verify

__all__ = ["GENESIS", "AuditEntry", "Backend", "BackendError", "Forbidden", "NotEmpty",
           "Progress", "Refused", "StalePlan", "Store", "WrongPractice", "entry_digest",
           "redact", "verify_chain"]

Progress = Callable[[int], None]


class Backend(Protocol):
    """What shsync needs from a store of live practices."""

    practice: str
    display_url: str

    def read(self) -> PracticeState: ...

    def seed(self, state: PracticeState, *, actor: Actor | None = None,
             now: str | None = None) -> AuditEntry: ...

    def apply(self, plan: Plan, *, actor: Actor, now: str,
              progress: Progress | None = None) -> AuditEntry: ...

    def history(self) -> list[AuditEntry]: ...

    def record(self, kind: str, *, actor: Actor, now: str,
               details: dict[str, Any]) -> AuditEntry: ...

    def close(self) -> None: ...


class Store(ABC):
    """The shared half of every store: checking and recording. Subclasses store."""

    practice: str
    display_url: str

    # --- what a subclass provides ---------------------------------------------------------
    @abstractmethod
    def _transaction(self) -> AbstractContextManager[None]:
        """One atomic unit, serialised against every other writer of this practice."""

    @abstractmethod
    def _read(self) -> PracticeState:
        """The live practice, inside the current transaction."""

    @abstractmethod
    def _write(self, operations: Sequence[Operation], now: str,
               progress: Progress | None) -> None:
        """Carry out operations that have been verified, inside the current transaction."""

    @abstractmethod
    def _insert_state(self, state: PracticeState) -> None: ...

    @abstractmethod
    def _held(self) -> bool:
        """Does the store already hold this practice's members or clients?"""

    @abstractmethod
    def _last_entry(self) -> tuple[int, str] | None:
        """(seq, entry_hash) of the newest audit entry, inside the current transaction."""

    @abstractmethod
    def _append(self, entry: AuditEntry) -> None: ...

    @abstractmethod
    def _entry_for_plan(self, plan_hash: str) -> int | None:
        """The seq of the entry that applied this plan, if any."""

    @abstractmethod
    def _clock(self) -> str:
        """The store's own time (UTC, ISO, Z), for when an entry was really written."""

    # --- the contract ---------------------------------------------------------------------
    def seed(self, state: PracticeState, *, actor: Actor | None = None,
             now: str | None = None) -> AuditEntry:
        """Load an empty store; the first audit entry records the whole state loaded."""
        actor = actor or Actor.operator("operator")
        with self._transaction():
            now = now or self._clock()
            if self._held():
                raise NotEmpty(f"{self.display_url} already holds practice {self.practice!r}; "
                               "seed only loads an empty one")
            self._insert_state(state)
            return self._record("seed", actor=actor.name, at=now, plan_hash="",
                                before=fingerprint(PracticeState()), after=fingerprint(state),
                                summary={}, operations=[],
                                details={"state": state_to_dict(state)})

    def apply(self, plan: Plan, *, actor: Actor, now: str,
              progress: Progress | None = None) -> AuditEntry:
        if plan.errors:
            raise Refused([f"[{e.code}] {e.message}" for e in plan.errors], "plan-has-errors")
        if plan.actor != actor.email:
            raise Forbidden(f"the plan was made for {plan.actor or 'the operator'}, not for "
                            f"{actor.email or 'the operator'}; make a new plan as yourself")
        with self._transaction():
            if plan.practice != self.practice:
                raise WrongPractice(f"the plan was made for practice {plan.practice!r}, not "
                                    f"{self.practice!r} at {self.display_url}")
            live = self._read()
            before = fingerprint(live)
            if before != plan.fingerprint:
                seq = self._entry_for_plan(plan.digest())
                if seq is not None:
                    raise AlreadyApplied(f"this plan was already applied, as audit entry #{seq}; "
                                         "nothing was applied again")
                raise StalePlan("the live practice has changed since this plan was made (its "
                                "fingerprint differs); nothing was applied. Make a new plan.")
            verdict = verify(plan.operations, live, actor, now)
            if verdict.forbidden:
                raise Forbidden(f"{actor.email} may not apply this plan; nothing was applied: "
                                + "; ".join(verdict.forbidden))
            if verdict.problems:
                raise Refused(verdict.problems)
            if verdict.summary != plan.summary:
                raise Refused(["the plan's summary does not match its operations"],
                              "plan-summary-mismatch")
            if access.delta(live, verdict.final) != plan.access_changes:
                raise Refused(["the plan's access changes do not match its operations"],
                              "plan-access-mismatch")
            self._write(plan.operations, now, progress)
            return self._record(plan.kind, actor=actor.name, at=now, plan_hash=plan.digest(),
                                before=before, after=fingerprint(verdict.final),
                                summary=verdict.summary.to_dict(),
                                operations=[o.to_dict() for o in plan.operations], details={})

    def record(self, kind: str, *, actor: Actor, now: str,
               details: dict[str, Any]) -> AuditEntry:
        """An audit entry that changes nothing (a review): chained and replayed like any."""
        with self._transaction():
            state = fingerprint(self._read())
            return self._record(kind, actor=actor.name, at=now, plan_hash="", before=state,
                                after=state, summary={}, operations=[], details=details)

    def _record(self, kind: str, *, actor: str, at: str, plan_hash: str, before: str,
                after: str, summary: dict[str, int], operations: list[dict[str, Any]],
                details: dict[str, Any]) -> AuditEntry:
        last = self._last_entry()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        entry = seal(seq=seq, at=at, actor=actor, plan_hash=plan_hash, fingerprint=before,
                     summary=summary, operations=operations, prev_hash=prev, kind=kind,
                     written_at=self._clock(), result=after, details=details)
        self._append(entry)
        return entry
