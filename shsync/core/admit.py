"""Whether a store may write a plan: every check of a plan file against the practice a store's
transaction read, in one place, by the code that planned it.

A store hands in what it read inside its transaction (the practice, the plan's approvals, the
stored plan's row) and writes only what `admit` returns; it decides nothing itself. Summaries,
access deltas, fingerprints and the approvals that count come from here, never from the plan
file, so a forged, edited or stale plan cannot make a store record what the planner would not
have allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shsync.core import access
from shsync.core import approvals as two_person
from shsync.core.approvals import Approval
from shsync.core.authorize import Actor
from shsync.core.plan import Plan
from shsync.core.state import PracticeState, fingerprint
from shsync.core.verify import Verdict, verify
from shsync.errors import (
    AlreadyApplied,
    ApprovalsRequired,
    Forbidden,
    NothingToApply,
    Refused,
    StalePlan,
    WrongPractice,
)  # fmt: skip

__all__ = ["Admitted", "admit", "check", "for_actor", "for_practice", "stale"]


@dataclass(frozen=True)
class Admitted:
    """What a store writes and records for a plan it may apply."""

    verdict: Verdict
    before: str  # the fingerprint of the practice the transaction read
    after: str  # the fingerprint of the practice once the plan is written
    details: dict[str, Any]  # the audit entry's details: the approvals that counted


def for_actor(plan: Plan, email: str | None) -> None:
    """Before any transaction: a plan with errors, or one made for someone else, is refused."""
    if plan.errors:
        raise Refused([f"[{e.code}] {e.message}" for e in plan.errors], "plan-has-errors")
    if plan.actor != email:
        raise Forbidden(f"the plan was made for {plan.actor or 'the operator'}, not for "
                        f"{email or 'the operator'}; make a new plan as yourself")


def for_practice(plan: Plan, practice: str, where: str) -> None:
    if plan.practice != practice:
        raise WrongPractice(f"the plan was made for practice {plan.practice!r}, not "
                            f"{practice!r} at {where}")


def check(plan: Plan, live: PracticeState, actor: Actor, now: str, *, written: str,
          approvals: list[Approval] | None, stored_id: str | None) -> Verdict:
    """Every check of a plan against the practice a transaction read: the same for applying
    and, without the approvals (`approvals` None), for storing, so a stored plan's status never
    promises what an apply would refuse. `written`: the store's own clock."""
    doing, done = ("apply", "applied") if approvals is not None else ("store", "stored")
    verdict = verify(plan.operations, live, actor, now, approvals=approvals,
                     kind=plan.kind, written=written)
    if verdict.wrong_kind:  # the entry's kind is what reviews look for: its own code
        raise Refused([f"plan_kind {plan.kind}: {verdict.wrong_kind}"], "plan-kind-mismatch")
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


def admit(plan: Plan, live: PracticeState, actor: Actor, now: str, *, written: str,
          approvals: list[Approval], stored: two_person.PlanRow | None,
          stored_id: str | None) -> Admitted:
    """May this plan, made for exactly `live`, be applied now? Raises why not."""
    if stored is not None and stored.applied_entry is not None:
        raise AlreadyApplied(f"plan {stored_id} was already applied, as audit entry "
                             f"#{stored.applied_entry}; nothing was applied again")
    if stored is not None and stored.refused_at is not None:
        raise StalePlan(f"plan {stored_id} was refused as stale at {stored.refused_at}; the "
                        "practice moved on since it was made. Make a new plan.")
    verdict = check(plan, live, actor, now, written=written, approvals=approvals,
                    stored_id=stored_id)
    if not plan.operations:  # checked like any plan, but nothing to record
        raise NothingToApply("no changes to apply; nothing was recorded")
    approvers = two_person.counted(approvals, live, actor.email)
    details: dict[str, Any] = {}
    if approvers:
        details = {"author": actor.name,
                   "approvals": [{"by": e, "at": at} for e, at in approvals if e in approvers]}
    return Admitted(verdict, plan.fingerprint, fingerprint(verdict.final), details)


def stale(plan: Plan, before: str, kept: str | None) -> tuple[StalePlan, bool]:
    """Why a plan made for another state is refused, and whether the store's kept fingerprint
    should be forgotten: it no longer describes the store (edited outside shsync), so the next
    plan must hash what it reads."""
    if kept is not None and kept != before and plan.fingerprint == kept:
        return StalePlan(
            "the practice in shsync's store does not match the fingerprint shsync kept with "
            "its last change: the store was changed outside shsync (`shsync history --verify` "
            "shows where); nothing was applied. Make a new plan: it will read the store as it "
            "is."), True
    return StalePlan("the practice in shsync's store has changed since this plan was made (its "
                     "fingerprint differs); nothing was applied. Make a new plan."), False


def _unapproved(why: str, stored_id: str | None) -> str:
    then = (f"another administrator approves it with `shsync approve {stored_id}`, then apply "
            f"it with `shsync apply {stored_id}`" if stored_id else
            "save the plan with `shsync plan ORG --save` (or `shsync refresh FILE --save`), "
            "have another administrator run `shsync approve PLAN_ID`, then "
            "`shsync apply PLAN_ID`")
    return f"nothing was applied: {why}. Next: {then}"
