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
from dataclasses import replace
from typing import Any, Protocol

from shsync.audit.chain import verify_chain
from shsync.core.entry import GENESIS, AuditEntry, entry_digest, seal
from shsync.stores.url import redact
from shsync.gcpause import paused
from shsync.errors import (
    AlreadyApplied,
    ApprovalsRequired,
    BackendError,
    Forbidden,
    InvalidPlan,
    NoSuchPlan,
    NotEmpty,
    NothingToApply,
    Refused,
    StalePlan,
    WrongPractice,
    class_of,
)  # fmt: skip
from shsync.core import access
from shsync.core import approvals as two_person
from shsync.core.approvals import Approval, StoredPlan
from shsync.core.authorize import Actor
from shsync.core.operations import Operation
from shsync.core.plan import Plan, from_file
from shsync.core.state import PracticeState, fingerprint, state_to_dict
from shsync.core.verify import Verdict, verify

__all__ = ["GENESIS", "AuditEntry", "Backend", "BackendError", "EntryCheck", "Forbidden",
           "NotEmpty",
           "Progress", "Refused", "StalePlan", "Store", "WrongPractice", "entry_digest",
           "redact", "verify_chain"]

Progress = Callable[[int], None]
# What an entry that changes nothing (a review) records, decided inside the store's transaction
# from the log and the practice read there, so two such entries at once cannot both pass a
# check that only one may (two reviews of one emergency). It raises when the entry is refused.
EntryCheck = Callable[[list[AuditEntry], PracticeState], dict[str, Any]]


class Backend(Protocol):
    """What shsync needs from a store of live practices."""

    practice: str
    display_url: str

    def read(self) -> PracticeState: ...

    def read_fingerprinted(self) -> tuple[PracticeState, str]:
        """The live practice and its fingerprint, for planning: the one the store kept with
        its last change where it keeps one (a cache: an apply never trusts it, see
        `Store.apply`), else a hash of what was read."""
        ...

    def seed(self, state: PracticeState, *, actor: Actor | None = None,
             now: str | None = None) -> AuditEntry: ...

    def apply(self, plan: Plan, *, actor: Actor, now: str,
              progress: Progress | None = None) -> AuditEntry: ...

    def history(self) -> list[AuditEntry]: ...

    def anchored_history(self) -> tuple[list[AuditEntry], tuple[int, str] | None]:
        """The log, and the head (seq, hash) the store recorded beside the practice when it
        wrote the newest entry (None where it keeps none): `history --verify` compares them."""
        ...

    def record(self, kind: str, *, actor: Actor, now: str,
               details: EntryCheck) -> AuditEntry: ...

    def save_plan(self, plan: Plan, *, author: str | None, now: str) -> StoredPlan: ...

    def stored_plan(self, plan_id: str) -> StoredPlan: ...

    def stored_plans(self) -> list[StoredPlan]: ...

    def approve(self, plan_id: str, *, approver: Actor, now: str) -> StoredPlan: ...

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
    def _snapshot(self) -> AbstractContextManager[None]:
        """A consistent read that does not wait for writers."""

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
    def _kept_fingerprint(self) -> str | None:
        """The fingerprint kept with the practice's last change (None: none kept yet)."""

    @abstractmethod
    def _keep_fingerprint(self, value: str | None, *, only_if: str | None = None) -> None:
        """Keep `value` (None: forget it), in the current transaction; with `only_if`, only
        while the kept value is still that one."""

    def _read_fingerprinted(self) -> tuple[PracticeState, str]:
        live = self._read()
        return live, self._kept_fingerprint() or fingerprint(live)

    @abstractmethod
    def _held(self) -> bool:
        """Does the store already hold this practice's members or clients?"""

    @abstractmethod
    def _last_entry(self) -> tuple[int, str] | None:
        """(seq, entry_hash) of the newest audit entry, inside the current transaction."""

    @abstractmethod
    def _append(self, entry: AuditEntry, operations_json: str | None = None) -> None: ...

    @abstractmethod
    def _history(self) -> list[AuditEntry]:
        """The whole audit log, oldest first, inside the current transaction."""

    @abstractmethod
    def _entry_for_plan(self, plan_hash: str) -> int | None:
        """The seq of the entry that applied this plan, if any."""

    @abstractmethod
    def _clock(self) -> str:
        """The store's own time (UTC, ISO, Z), for when an entry was really written."""

    # stored plans and approvals, always within this practice
    @abstractmethod
    def _insert_plan(self, plan_id: str, plan_hash: str, text: str, author: str | None,
                     created_at: str) -> None: ...

    @abstractmethod
    def _plan_row(self, plan_id: str
                  ) -> tuple[str, str, str | None, str, int | None, str | None] | None:
        """(plan_hash, plan file text, author, created_at, applied_entry, refused_at) of a
        stored plan (refused_at: when a store refused to apply it as stale)."""

    @abstractmethod
    def _mark_refused(self, plan_id: str, code: str, at: str) -> None:
        """Record that this stored plan was refused (once: the first refusal stays)."""

    @abstractmethod
    def _plan_ids(self) -> list[str]:
        """Every stored plan's id, oldest first."""

    @abstractmethod
    def _plan_for_hash(self, plan_hash: str) -> str | None:
        """The id of the stored plan with this hash, if any."""

    @abstractmethod
    def _open_plans(self) -> list[tuple[str, str, str, str | None]]:
        """(id, plan_hash, plan file text, author) of each stored plan neither applied nor
        refused, oldest first."""

    @abstractmethod
    def _approvals(self, plan_id: str) -> list[Approval]: ...

    @abstractmethod
    def _insert_approval(self, plan_id: str, approver: str, at: str) -> None: ...

    @abstractmethod
    def _mark_applied(self, plan_id: str, seq: int) -> None: ...

    @abstractmethod
    def _read_policy(self) -> tuple[tuple[str, int], ...]:
        """Only the live practice's approvals policy (cheaper than `_read`)."""

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
            after = fingerprint(state)
            self._keep_fingerprint(after)
            return self._record("seed", actor=actor.name, at=now, plan_hash="",
                                before=fingerprint(PracticeState()), after=after,
                                summary={}, operations=[],
                                details={"state": state_to_dict(state)})

    def apply(self, plan: Plan, *, actor: Actor, now: str,
              progress: Progress | None = None) -> AuditEntry:
        """Check the plan inside the transaction, write it, and record one audit entry; a plan
        without steps is checked the same way and raises NothingToApply."""
        if plan.errors:
            raise Refused([f"[{e.code}] {e.message}" for e in plan.errors], "plan-has-errors")
        if plan.actor != actor.email:
            raise Forbidden(f"the plan was made for {plan.actor or 'the operator'}, not for "
                            f"{actor.email or 'the operator'}; make a new plan as yourself")
        # The check builds a whole practice twice over (the state after, the access index of
        # each side) and no reference cycles: the cyclic GC only rescans it (shsync/gcpause.py).
        with paused(), self._transaction():
            if plan.practice != self.practice:
                raise WrongPractice(f"the plan was made for practice {plan.practice!r}, not "
                                    f"{self.practice!r} at {self.display_url}")
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
                return self._apply_checked(plan, live, stored_id, actor, now, progress)
            if stored_id is not None:  # `shsync plans` shows it stale from now on
                self._mark_refused(stored_id, "stale-plan", self._clock())
            kept = self._kept_fingerprint()
            if kept is not None and kept != before and plan.fingerprint == kept:
                # The kept fingerprint no longer describes the store: forget it, so the next
                # plan hashes what it reads. The practice itself is untouched.
                self._keep_fingerprint(None, only_if=kept)
                stale = StalePlan(
                    "the live practice does not match the fingerprint shsync kept with its "
                    "last change: the store was changed outside shsync (`shsync history "
                    "--verify` shows where); nothing was applied. Make a new plan: it will "
                    "read the practice as it is.")
            else:
                stale = StalePlan("the live practice has changed since this plan was made (its "
                                  "fingerprint differs); nothing was applied. Make a new plan.")
        raise stale  # after the marks are committed; the practice and the log are untouched

    def _apply_checked(self, plan: Plan, live: PracticeState, stored_id: str | None,
                       actor: Actor, now: str, progress: Progress | None) -> AuditEntry:
        """The rest of `apply`, inside its transaction, on a plan made for this very state."""
        before = plan.fingerprint
        if stored_id is not None:
            row = self._plan_row(stored_id)
            if row is not None and row[4] is not None:
                raise AlreadyApplied(f"plan {stored_id} was already applied, as audit entry "
                                     f"#{row[4]}; nothing was applied again")
            if row is not None and row[5] is not None:
                raise StalePlan(f"plan {stored_id} was refused as stale at {row[5]}; the "
                                "practice moved on since it was made. Make a new plan.")
        given = self._approvals(stored_id) if stored_id else []
        verdict = self._checked(plan, live, actor, now, given, stored_id)
        if not plan.operations:  # checked like any plan, but nothing to record
            raise NothingToApply("no changes to apply; nothing was recorded")
        self._write(plan.operations, now, progress)
        after = fingerprint(verdict.final)
        self._keep_fingerprint(after)
        approvers = two_person.counted(given, live, actor.email)
        details: dict[str, Any] = {}
        if approvers:
            details = {"author": actor.name,
                       "approvals": [{"by": e, "at": at} for e, at in given
                                     if e in approvers]}
        entry = self._record(plan.kind, actor=actor.name, at=now, plan_hash=plan.digest(),
                             before=before, after=after,
                             summary=verdict.summary.to_dict(),
                             operations=list(plan.operation_dicts),
                             details=details, operations_json=plan.operations_json)
        if stored_id:
            self._mark_applied(stored_id, entry.seq)
        return entry

    # --- stored plans and approvals (the two-person rule) -----------------------------------
    def save_plan(self, plan: Plan, *, author: str | None, now: str) -> StoredPlan:
        """Keep a plan for approval; saving the same plan again returns the one kept."""
        if plan.errors:
            raise Refused([f"[{e.code}] {e.message}" for e in plan.errors], "plan-has-errors")
        if plan.actor != author:
            raise Forbidden(f"the plan was made for {plan.actor or 'the operator'}, not for "
                            f"{author or 'the operator'}; make a new plan as yourself")
        plan_id = two_person.plan_id(plan)
        with self._transaction():
            if plan.practice != self.practice:
                raise WrongPractice(f"the plan was made for practice {plan.practice!r}, not "
                                    f"{self.practice!r} at {self.display_url}")
            row = self._plan_row(plan_id)
            live = self._read()
            live_print = fingerprint(live)
            if row is None and (twin := self._stored_twin(plan)) is not None:
                return self._stored(twin[0], live_print)  # the same plan, made again later
            if row is None:
                if live_print != plan.fingerprint:
                    raise StalePlan("the live practice has changed since this plan was made "
                                    "(its fingerprint differs); nothing was stored. Make a new "
                                    "plan.")
                self._checked(plan, live, Actor.member(author) if author
                              else Actor.operator("operator"), now, None, None)
                self._insert_plan(plan_id, plan.digest(), plan.to_file(), author, now)
            elif row[0] != plan.digest():
                raise BackendError(f"another plan is stored as {plan_id}; make the plan again")
            return self._stored(plan_id, live_print)

    def _checked(self, plan: Plan, live: PracticeState, actor: Actor, now: str,
                 approvals: list[Approval] | None, stored_id: str | None) -> Verdict:
        """Every check of a plan against the practice this transaction read, by the code that
        planned it: the same for applying and, without the approvals (`approvals` None), for
        storing, so a stored plan's status never promises what an apply would refuse."""
        doing, done = ("apply", "applied") if approvals is not None else ("store", "stored")
        verdict = verify(plan.operations, live, actor, now, approvals=approvals,
                         kind=plan.kind, written=self._clock())
        if verdict.wrong_kind:  # the entry's kind is what reviews look for: its own code
            raise Refused([f"plan_kind {plan.kind}: {verdict.wrong_kind}"],
                          "plan-kind-mismatch")
        if verdict.forbidden:
            raise Forbidden(f"{actor.email} may not {doing} this plan; nothing was {done}: "
                            + "; ".join(verdict.forbidden))
        if verdict.problems:
            raise Refused(verdict.problems)
        if verdict.unapproved:
            raise ApprovalsRequired(_unapproved(verdict.unapproved, stored_id))
        if verdict.summary != plan.summary:
            raise Refused(["the plan's summary does not match its operations"],
                          "plan-summary-mismatch")
        if access.delta(live, verdict.final) != plan.access_changes:
            raise Refused(["the plan's access changes do not match its operations"],
                          "plan-access-mismatch")
        return verdict

    def _stored_twin(self, plan: Plan) -> tuple[str, Plan] | None:
        """A stored plan, neither applied nor refused, that is this plan in all but when it was
        made: `shsync apply org/ --auto-approve` plans again, and the plan's hash covers its
        clock, so without this a plan stored and approved earlier could never match it."""
        timeless = replace(plan, created_at="")
        for plan_id, plan_hash, text, author in self._open_plans():
            if author != plan.actor or plan.fingerprint not in text:  # cheap, before parsing
                continue
            try:
                stored = from_file(text)
            except InvalidPlan:
                continue  # a damaged stored plan is reported where it is read by its id
            if stored.digest() == plan_hash and replace(stored, created_at="") == timeless:
                return plan_id, stored
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
        plan_hash, text, author, created_at, applied, refused = row
        try:
            plan = from_file(text)
        except InvalidPlan as exc:
            raise BackendError(f"stored plan {plan_id} is damaged: {exc}", "bad-store") from None
        if plan.digest() != plan_hash or plan.practice != self.practice:
            raise BackendError(f"stored plan {plan_id} is damaged: its hash or practice does "
                               "not match", "bad-store")
        need = two_person.needed(plan.operations, self._read_policy())
        return StoredPlan(plan_id, plan, author, created_at, tuple(self._approvals(plan_id)),
                          need.count, applied, refused,
                          live is not None and applied is None and live != plan.fingerprint)

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

    def _record(self, kind: str, *, actor: str, at: str, plan_hash: str, before: str,
                after: str, summary: dict[str, int], operations: list[dict[str, Any]],
                details: dict[str, Any], operations_json: str | None = None) -> AuditEntry:
        """`operations_json`: the operations already in canonical form (a plan's), hashed and
        stored as they are."""
        last = self._last_entry()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        entry = seal(operations_json, seq=seq, at=at, actor=actor, plan_hash=plan_hash,
                     fingerprint=before, summary=summary, operations=operations,
                     prev_hash=prev, kind=kind, written_at=self._clock(), result=after,
                     details=details)
        self._append(entry, operations_json)
        return entry


def _unapproved(why: str, stored_id: str | None) -> str:
    then = (f"another administrator approves it with `shsync approve {stored_id}`, then apply "
            f"it with `shsync apply {stored_id}`" if stored_id else
            "save the plan with `shsync plan ORG --save` (or `shsync refresh FILE --save`), "
            "have another administrator run `shsync approve PLAN_ID`, then "
            "`shsync apply PLAN_ID`")
    return f"nothing was applied: {why}. Next: {then}"
