"""The store contract: what every store of a practice's record implements, and the one way in.

A store reads the practice shsync holds, seeds an empty one, applies a plan atomically, and
keeps an audit log. It never decides what to change: the planner does. And it never trusts a
plan file: `Store.apply` is the one way in, and it hands what its transaction read to
`core.admit`, the planner's own check, before anything is written, so a new store cannot forget
it. Summaries, access deltas and audit entries come from that check, never from the plan.
Driver errors never leave this package; they become `BackendError` with a redacted message.

The contract is three small protocols: `PracticeStore` (the practice and its log), `PlanStore`
(plans kept for approval) and `core.tokens.TokenStore` (API tokens, only where a store keeps
them). A new SQL-like store subclasses `Store` and fills in its hooks: `Rows` (a transaction,
the practice, the log) and `PlanRows` (stored plans and approvals, as named rows).
"""

from __future__ import annotations

from datetime import timedelta

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any, Protocol

from shsync.audit.chain import verify_chain
from shsync.core import admit as admission
from shsync.core import approvals as two_person
from shsync.core import runbook
from shsync.core.approvals import Approval, OpenPlan, PlanRow, StoredPlan
from shsync.core.authorize import Actor
from shsync.model.clock import later
from shsync.core.actions.members import applied_figures, with_figures
from shsync.core.entry import GENESIS, LOADS, AuditEntry, entry_digest, seal
from shsync.core.operations import Operation
from shsync.core.plan import Plan, from_file
from shsync.core.runbook import Step
from shsync.core.state import PracticeState, fingerprint, state_to_dict
from shsync.errors import (
    AlreadyApplied,
    BackendError,
    Forbidden,
    InvalidPlan,
    NoSuchPlan,
    NotEmpty,
    Refused,
    StalePlan,
    WrongPractice,
    class_of,
)  # fmt: skip
from shsync.gcpause import paused
from shsync.stores.url import redact

__all__ = ["GENESIS", "AuditEntry", "Backend", "BackendError", "EntryCheck", "Forbidden",
           "NotEmpty", "PlanStore", "PracticeStore", "Progress", "Refused", "StalePlan",
           "Store", "WrongPractice", "entry_digest", "redact", "verify_chain"]

Progress = Callable[[int], None]
# What an entry that changes nothing (a review) records, decided inside the store's transaction
# from the log and the practice read there, so two such entries at once cannot both pass a
# check that only one may (two reviews of one emergency). It raises when the entry is refused.
EntryCheck = Callable[[list[AuditEntry], PracticeState], dict[str, Any]]


class PracticeStore(Protocol):
    """A practice's record and its audit log."""

    practice: str
    display_url: str

    def read(self) -> PracticeState: ...

    def read_fingerprinted(self) -> tuple[PracticeState, str]:
        """The practice and its fingerprint, for planning: the one the store kept with its
        last change where it keeps one (a cache: an apply never trusts it, see `Store.apply`),
        else a hash of what was read."""
        ...

    def seed(self, state: PracticeState, *, actor: Actor | None = None,
             now: str | None = None, kind: str = "seed") -> AuditEntry: ...

    def apply(self, plan: Plan, *, actor: Actor, now: str,
              progress: Progress | None = None) -> AuditEntry: ...

    def history(self, after: int = 0, limit: int | None = None) -> list[AuditEntry]: ...

    def anchored_history(self) -> tuple[list[AuditEntry], tuple[int, str] | None]:
        """The log, and the head (seq, hash) the store recorded beside the practice when it
        wrote the newest entry (None where it keeps none): `history --verify` compares them."""
        ...

    def record(self, kind: str, *, actor: Actor, now: str,
               details: EntryCheck) -> AuditEntry: ...

    def close(self) -> None: ...


class PlanStore(Protocol):
    """Plans kept for approval (the two-person rule), always within one practice."""

    def save_plan(self, plan: Plan, *, author: str | None, now: str) -> StoredPlan: ...

    def stored_plan(self, plan_id: str) -> StoredPlan: ...

    def stored_plans(self) -> list[StoredPlan]: ...

    def approve(self, plan_id: str, *, approver: Actor, now: str) -> StoredPlan: ...


class RunbookStore(Protocol):
    """Runbook steps: what people must still do in Sessions Health (`core.runbook`)."""

    def runbook_steps(self, *, pending_only: bool = False) -> list[Step]: ...

    def confirm_steps(self, ids: Sequence[int], *, how: str, actor: Actor, now: str,
                      note: str | None = None) -> AuditEntry:
        """Record steps as carried out (`how`: done, or observed by a refresh), checked and
        recorded in one transaction with one audit entry of that kind."""
        ...


class Backend(PracticeStore, PlanStore, RunbookStore, Protocol):
    """What shsync needs from a store: every store, local or remote, is one."""


class Rows(ABC):
    """The storage hooks of a practice and its log, each inside the current transaction."""

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[None]:
        """One atomic unit, serialised against every other writer of this practice."""

    @abstractmethod
    def _snapshot(self) -> AbstractContextManager[None]:
        """A consistent read that does not wait for writers."""

    @abstractmethod
    def _read(self) -> PracticeState: ...

    @abstractmethod
    def _read_policy(self) -> tuple[tuple[str, int], ...]:
        """Only the practice's approvals policy (cheaper than `_read`)."""

    @abstractmethod
    def _write(self, operations: Sequence[Operation], now: str,
               progress: Progress | None) -> None:
        """Carry out operations `core.admit` has admitted."""

    @abstractmethod
    def _insert_state(self, state: PracticeState) -> None: ...

    @abstractmethod
    def _held(self) -> bool:
        """Does the store already hold this practice's members or clients?"""

    @abstractmethod
    def _kept_fingerprint(self) -> str | None:
        """The fingerprint kept with the practice's last change (None: none kept yet)."""

    @abstractmethod
    def _keep_fingerprint(self, value: str | None, *, only_if: str | None = None) -> None:
        """Keep `value` (None: forget it); with `only_if`, only while the kept value is
        still that one."""

    @abstractmethod
    def _last_entry(self) -> tuple[int, str] | None:
        """(seq, entry_hash) of the newest audit entry."""

    @abstractmethod
    def _append(self, entry: AuditEntry, operations_json: str | None = None) -> None: ...

    @abstractmethod
    def _history(self, after: int = 0, limit: int | None = None) -> list[AuditEntry]:
        """The audit log, oldest first: the entries after seq `after`, at most `limit`."""

    @abstractmethod
    def _entry_for_plan(self, plan_hash: str) -> int | None:
        """The seq of the entry that applied this plan, if any."""

    @abstractmethod
    def _clock(self) -> str:
        """The store's own time (UTC, ISO, Z), for when an entry was really written."""


#: How far an apply's clock may run ahead of the store's before the apply is refused: two
#: machines' clocks differ by this much (NTP keeps them within seconds).
CLOCK_SKEW = timedelta(minutes=5)


def _not_ahead(now: str, store: str, kind: str) -> None:
    """An entry is dated by the command's clock, and every end it records is judged by it: one
    ahead of the store's (SHSYNC_NOW or `plan --at` set ahead, a runner's clock running fast)
    would date the log in the future and end access early. Those only preview. Checked before
    an apply's work, and again as every entry is written (a seed, an adoption, a review, a
    step recorded done), in its transaction."""
    if now > later(store, CLOCK_SKEW):
        applies = kind not in (*LOADS, "review", "done", "observed")
        raise Refused([f"this {'apply' if applies else 'command'}'s clock says {now}, the "
                       f"store's {store}: SHSYNC_NOW and `plan --at` only preview what will be "
                       f"so; {'apply' if applies else 'run it'} when that time comes, or fix "
                       "this machine's clock"], "clock-ahead",
                      lead="nothing was applied" if applies else "nothing was recorded")


class PlanRows(ABC):
    """The storage hooks of stored plans and their approvals, always within this practice."""

    @abstractmethod
    def _insert_plan(self, plan_id: str, plan_hash: str, text: str, author: str | None,
                     created_at: str) -> None: ...

    @abstractmethod
    def _plan_row(self, plan_id: str) -> PlanRow | None: ...

    @abstractmethod
    def _plan_ids(self) -> list[str]:
        """Every stored plan's id, oldest first."""

    @abstractmethod
    def _plan_for_hash(self, plan_hash: str) -> str | None:
        """The id of the stored plan with this hash, if any."""

    @abstractmethod
    def _open_plans(self) -> list[OpenPlan]:
        """Each stored plan neither applied nor refused, oldest first."""

    @abstractmethod
    def _approvals(self, plan_id: str) -> list[Approval]: ...

    @abstractmethod
    def _insert_approval(self, plan_id: str, approver: str, at: str) -> None: ...

    @abstractmethod
    def _mark_applied(self, plan_id: str, seq: int) -> None: ...

    @abstractmethod
    def _mark_refused(self, plan_id: str, code: str, at: str) -> None:
        """Record that this stored plan was refused (once: the first refusal stays)."""


class StepRows(ABC):
    """The storage hooks of runbook steps, always within this practice."""

    @abstractmethod
    def _insert_steps(self, steps: Sequence[Step]) -> None: ...

    @abstractmethod
    def _last_step_id(self) -> int:
        """The highest step id this practice has used (0: none)."""

    @abstractmethod
    def _steps(self, ids: Sequence[int] | None = None, *,
               pending_only: bool = False) -> list[Step]:
        """Steps by id (every step when `ids` is None), oldest first."""

    @abstractmethod
    def _mark_steps(self, ids: Sequence[int], *, how: str, by: str, at: str,
                    note: str | None, entry: int) -> None: ...


class Store(Rows, PlanRows, StepRows):
    """The shared half of every local store: checking and recording. Subclasses store."""

    practice: str
    display_url: str

    def _read_fingerprinted(self) -> tuple[PracticeState, str]:
        live = self._read()
        return live, self._kept_fingerprint() or fingerprint(live)

    # --- the contract ---------------------------------------------------------------------
    def seed(self, state: PracticeState, *, actor: Actor | None = None,
             now: str | None = None, kind: str = "seed") -> AuditEntry:
        """Load an empty store; the first audit entry (`kind`: seed or adopt, core.entry.LOADS)
        records the whole state loaded."""
        if kind not in LOADS:
            raise ValueError(f"a store is loaded by {LOADS}, not {kind!r}")
        actor = actor or Actor.operator("operator")
        with self._transaction():
            now = now or self._clock()
            if self._held():
                raise NotEmpty(f"{self.display_url} already holds practice {self.practice!r}; "
                               f"{kind} only loads an empty one")
            self._insert_state(state)
            after = fingerprint(state)
            self._keep_fingerprint(after)
            return self._record(kind, actor=actor.name, at=now, plan_hash="",
                                before=fingerprint(PracticeState()), after=after,
                                summary={}, operations=[],
                                details={"state": state_to_dict(state)})

    def apply(self, plan: Plan, *, actor: Actor, now: str,
              progress: Progress | None = None) -> AuditEntry:
        """Admit the plan inside the transaction (`core.admit`), write it, and record one
        audit entry; a plan without steps is checked the same way and raises NothingToApply."""
        admission.for_actor(plan, actor.email)
        # The check builds a whole practice twice over (the state after, the access index of
        # each side) and no reference cycles: the cyclic GC only rescans it (shsync/gcpause.py).
        with paused(), self._transaction():
            admission.for_practice(plan, self.practice, self.display_url)
            _not_ahead(now, self._clock(), plan.kind)
            live = self._read()
            # The authority is always a hash of what this transaction read, never the kept
            # fingerprint: a store edited outside shsync cannot make a plan fit it.
            before = fingerprint(live)
            stored_id = self._plan_for_hash(plan.digest())
            if stored_id is None and (twin := self._stored_twin(plan)) is not None:
                stored_id, plan = twin  # `apply org/` of a plan stored (and approved) before
            # A plan applies once, even when the practice has come back to the state it was
            # made for (its approvals were for that one apply).
            seq = self._entry_for_plan(plan.digest())
            if seq is not None:
                raise AlreadyApplied(f"this plan was already applied, as audit entry #{seq}; "
                                     "nothing was applied again")
            if before == plan.fingerprint:
                given = self._approvals(stored_id) if stored_id else []
                admitted = admission.admit(
                    plan, live, actor, now, written=self._clock(), approvals=given,
                    stored=self._plan_row(stored_id) if stored_id else None,
                    stored_id=stored_id)
                self._write(plan.operations, now, progress)
                self._keep_fingerprint(admitted.after)
                # What time alone changed since the plan was made (appointments that have
                # passed since): recorded as applied, and what the runbook says.
                figures = applied_figures(plan.operations, live, now)
                # The runbook steps, in this transaction: a kill leaves both or neither.
                written = self._clock()
                last = self._last_entry()
                steps = runbook.derive(with_figures(plan.operations, figures), live,
                                       admitted.verdict.final,
                                       entry=last[0] + 1 if last else 1,
                                       first_id=self._last_step_id() + 1, recorded_at=written,
                                       kind=plan.kind, deadlines=live.deadline_policy)
                details = admitted.details
                if figures:
                    details = {**details, "as_applied": {"cancel_appointments": figures}}
                if steps:
                    details = {**details, "runbook": {"first": steps[0].id,
                                                      "count": len(steps)}}
                entry = self._record(plan.kind, actor=actor.name, at=now,
                                     plan_hash=plan.digest(), before=admitted.before,
                                     after=admitted.after,
                                     summary=admitted.verdict.summary.to_dict(),
                                     operations=list(plan.operation_dicts),
                                     details=details, operations_json=plan.operations_json,
                                     written_at=written)
                self._insert_steps(steps)
                if stored_id:
                    self._mark_applied(stored_id, entry.seq)
                return entry
            if stored_id is not None:  # `shsync plans` shows it stale from now on
                self._mark_refused(stored_id, "stale-plan", self._clock())
            kept = self._kept_fingerprint()
            stale, forget = admission.stale(plan, before, kept)
            if forget:  # the practice itself is untouched
                self._keep_fingerprint(None, only_if=kept)
        raise stale  # after the marks are committed; the practice and the log are untouched

    # --- stored plans and approvals (the two-person rule) -----------------------------------
    def save_plan(self, plan: Plan, *, author: str | None, now: str) -> StoredPlan:
        """Keep a plan for approval; saving the same plan again returns the one kept."""
        admission.for_actor(plan, author)
        plan_id = two_person.plan_id(plan)
        with self._transaction():
            admission.for_practice(plan, self.practice, self.display_url)
            row = self._plan_row(plan_id)
            live = self._read()
            live_print = fingerprint(live)
            if row is None and (twin := self._stored_twin(plan)) is not None:
                return self._stored(twin[0], live_print)  # the same plan, made again later
            if row is None:
                if live_print != plan.fingerprint:
                    raise StalePlan("the practice in shsync's store has changed since this "
                                    "plan was made (its fingerprint differs); nothing was "
                                    "stored. Make a new plan.")
                admission.check(plan, live, Actor.member(author) if author
                                else Actor.operator("operator"), now, written=self._clock(),
                                approvals=None, stored_id=None)
                self._insert_plan(plan_id, plan.digest(), plan.to_file(), author, now)
            elif row.plan_hash != plan.digest():
                raise BackendError(f"another plan is stored as {plan_id}; make the plan again")
            return self._stored(plan_id, live_print)

    def _stored_twin(self, plan: Plan) -> tuple[str, Plan] | None:
        """A stored plan, neither applied nor refused, that is this plan in all but when it was
        made: `shsync apply org/ --auto-approve` plans again, and the plan's hash covers its
        clock, so without this a plan stored and approved earlier could never match it."""
        timeless = replace(plan, created_at="")
        for open_plan in self._open_plans():
            if open_plan.author != plan.actor or plan.fingerprint not in open_plan.text:
                continue  # cheap, before parsing
            try:
                stored = from_file(open_plan.text)
            except InvalidPlan:
                continue  # a damaged stored plan is reported where it is read by its id
            if (stored.digest() == open_plan.plan_hash
                    and replace(stored, created_at="") == timeless):
                return open_plan.id, stored
        return None

    def stored_plan(self, plan_id: str) -> StoredPlan:
        with self._snapshot():
            return self._stored(plan_id, fingerprint(self._read()))

    def stored_plans(self) -> list[StoredPlan]:
        """Every stored plan, each marked stale when the live practice has moved on since it
        was made (so the store would refuse it), read in one snapshot."""
        with self._snapshot():
            ids = self._plan_ids()
            live = fingerprint(self._read()) if ids else None
            return [self._stored(i, live) for i in ids]

    def approve(self, plan_id: str, *, approver: Actor, now: str) -> StoredPlan:
        """One administrator's approval, checked and recorded in one transaction, so two
        approvals (or an approval and an apply) at once cannot both count wrongly."""
        with self._transaction():
            stored = self._stored(plan_id)
            refused = two_person.refusal(stored, self._read(), approver)
            if refused is not None:
                code, message = refused
                raise class_of(code, BackendError)(f"not approved: {message}", code)
            assert approver.email is not None  # refusal() refuses the operator
            self._insert_approval(plan_id, approver.email, now)
            return self._stored(plan_id)

    def _stored(self, plan_id: str, live: str | None = None) -> StoredPlan:
        """The stored plan; with `live` (the practice's fingerprint now), whether it is stale."""
        row = self._plan_row(plan_id) if two_person.is_plan_id(plan_id) else None
        if row is None:
            raise NoSuchPlan(f"no stored plan {plan_id[:40]!r} in practice {self.practice!r} "
                             "(`shsync plans` lists them)")
        try:
            plan = from_file(row.text)
        except InvalidPlan as exc:
            raise BackendError(f"stored plan {plan_id} is damaged: {exc}", "bad-store") from None
        if plan.digest() != row.plan_hash or plan.practice != self.practice:
            raise BackendError(f"stored plan {plan_id} is damaged: its hash or practice does "
                               "not match", "bad-store")
        need = two_person.needed(plan.operations, self._read_policy())
        return StoredPlan(plan_id, plan, row.author, row.created_at,
                          tuple(self._approvals(plan_id)), need.count, row.applied_entry,
                          row.refused_at, (live is not None and row.applied_entry is None
                                           and live != plan.fingerprint))

    def record(self, kind: str, *, actor: Actor, now: str,
               details: EntryCheck) -> AuditEntry:
        """An audit entry that changes nothing (a review): chained and replayed like any. Its
        details are checked and made inside this transaction (see `EntryCheck`)."""
        with self._transaction():
            live = self._read()
            found = details(self._history(), live)
            state = fingerprint(live)
            return self._record(kind, actor=actor.name, at=now, plan_hash="", before=state,
                                after=state, summary={}, operations=[], details=found)

    # --- runbook steps ----------------------------------------------------------------------
    def runbook_steps(self, *, pending_only: bool = False) -> list[Step]:
        with self._snapshot():
            return self._steps(pending_only=pending_only)

    def confirm_steps(self, ids: Sequence[int], *, how: str, actor: Actor, now: str,
                      note: str | None = None) -> AuditEntry:
        if how not in ("done", "observed"):
            raise ValueError(f"steps are confirmed done or observed, not {how!r}")
        if not ids:
            raise Refused(["name at least one runbook step (R-17)"], "no-such-step",
                          lead="nothing was recorded")
        with self._transaction():
            live = self._read()
            found = {s.id: s for s in self._steps(sorted(set(ids)))}
            problems = runbook.confirmation(found, list(ids), actor, live, note)
            if problems and any(i not in found for i in ids):
                raise Refused(problems, "no-such-step", lead="nothing was recorded")
            if problems and any(found[i].state != "pending" for i in ids):
                raise Refused(problems, "step-not-pending", lead="nothing was recorded")
            if problems:
                raise Refused(problems, "step-refused", lead="nothing was recorded")
            state = fingerprint(live)
            written = self._clock()
            details: dict[str, Any] = {"steps": [runbook.label(i) for i in ids]}
            if note:
                details["note"] = note
            entry = self._record(how, actor=actor.name, at=now, plan_hash="", before=state,
                                 after=state, summary={}, operations=[], details=details,
                                 written_at=written)
            self._mark_steps(list(ids), how=how, by=actor.name, at=written, note=note,
                             entry=entry.seq)
            return entry

    def _record(self, kind: str, *, actor: str, at: str, plan_hash: str, before: str,
                after: str, summary: dict[str, int], operations: list[dict[str, Any]],
                details: dict[str, Any], operations_json: str | None = None,
                written_at: str | None = None) -> AuditEntry:
        """`operations_json`: the operations already in canonical form (a plan's), hashed and
        stored as they are."""
        _not_ahead(at, self._clock(), kind)
        last = self._last_entry()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        entry = seal(operations_json, seq=seq, at=at, actor=actor, plan_hash=plan_hash,
                     fingerprint=before, summary=summary, operations=operations,
                     prev_hash=prev, kind=kind, written_at=written_at or self._clock(),
                     result=after,
                     details=details)
        self._append(entry, operations_json)
        return entry

