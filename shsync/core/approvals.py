"""The two-person rule: stored plans, their approvals, and how many a plan needs. Pure.

A practice may keep a rule (`policy.approvals` in the org file, applied by a `set_policy` step
and then held by the live practice): a plan with a step that widens access, or that removes a
member, is applied only once that many administrators other than its author have approved it.
The rule that counts is always the one the LIVE practice holds, never one a plan carries, so a
forged plan cannot drop it, and a plan that changes the rule itself is judged by the rule it
replaces (nobody lowers the bar and uses the lowered bar in one plan).

`needed` says what a plan needs, `missing` whether the approvals given are enough (run by
`verify`, inside every store's apply transaction, on the approvals the store read in that same
transaction), and `refusal` whether a member may approve a stored plan now.

Steps that do not count: `break_glass` (emergency access has its own policy and is reviewed
after the fact) and `accept_invitation` (it records the member's own act; whatever access it
unblocks comes in later plans, which the rule covers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from shsync.core.actions import widens
from shsync.core.authorize import Actor
from shsync.core.operations import Operation
from shsync.core.plan import Plan
from shsync.core.state import PracticeState, fingerprint

EXEMPT = frozenset({"break_glass", "accept_invitation"})
PLAN_ID = re.compile(r"^p-[0-9a-f]{12}$")

Approval = tuple[str, str]  # (the approver's email, when)


class PlanRow(NamedTuple):
    """A stored plan as a store keeps it, before it is parsed and checked."""

    plan_hash: str
    text: str  # the plan file
    author: str | None
    created_at: str
    applied_entry: int | None  # the audit entry that applied it
    refused_at: str | None  # when a store refused to apply it as stale


class OpenPlan(NamedTuple):
    """A stored plan neither applied nor refused (`Store._stored_twin` looks among them)."""

    id: str
    plan_hash: str
    text: str
    author: str | None


def plan_id(plan: Plan) -> str:
    """A stored plan's id: from its hash, and looked up only within its own practice."""
    return "p-" + plan.digest().removeprefix("sha256:")[:12]


def is_plan_id(text: str) -> bool:
    return bool(PLAN_ID.match(text))


@dataclass(frozen=True)
class StoredPlan:
    """A plan kept in the store, with who made it and who approved it."""

    id: str
    plan: Plan
    author: str | None  # the member it was made by (and for); None: the operator
    created_at: str
    approvals: tuple[Approval, ...] = ()
    required: int = 0  # approvals its steps need under the live practice's rule
    applied_entry: int | None = None  # the audit entry that applied it
    refused: str | None = None  # when a store refused to apply it as stale (then never applied)
    stale: bool = False  # the live practice has moved on since it was made

    @property
    def approvers(self) -> tuple[str, ...]:
        return tuple(email for email, _ in self.approvals)

    @property
    def status(self) -> str:
        """applied, stale (the store will refuse it), ready, or awaiting approval."""
        if self.applied_entry is not None:
            return "applied"
        if self.stale or self.refused is not None:
            return "stale"
        if len(self.approvals) >= self.required:
            return "ready"
        return "awaiting approval"

    def to_dict(self) -> dict[str, Any]:
        return {"plan_id": self.id, "plan_hash": self.plan.digest(), "author": self.author,
                "created_at": self.created_at, "status": self.status,
                "approvals": [{"by": e, "at": at} for e, at in self.approvals],
                "required": self.required, "applied_entry": self.applied_entry,
                "refused_at": self.refused, "summary": self.plan.summary.to_dict()}


@dataclass(frozen=True)
class Need:
    """How many approvals a plan needs, and why (each reason names its steps)."""

    count: int = 0
    reasons: tuple[str, ...] = ()

    def text(self) -> str:
        return "; ".join(self.reasons)


def _steps(operations: Sequence[Operation], limit: int = 3) -> str:
    shown = ", ".join(f"{o.action} {o.target}" for o in operations[:limit])
    return shown + (f" and {len(operations) - limit} more" if len(operations) > limit else "")


def needed(operations: Sequence[Operation], policy: Iterable[tuple[str, int]]) -> Need:
    """What the rule `policy` (the live practice's) asks of these operations."""
    rule = dict(policy)
    if not rule:
        return Need()
    counts, reasons = [], []
    groups = (
        ("widens_access", "widens access",
         [o for o in operations if widens(o) and o.action not in EXEMPT])
        , ("removes_members", "removes members",
           [o for o in operations if o.action == "remove_member"]))
    for kind, what, steps in groups:
        if steps and rule.get(kind, 0) > 0:
            counts.append(rule[kind])
            reasons.append(f"it {what} ({_steps(steps)}): approvals.{kind} is {rule[kind]}")
    changing = [o for o in operations if o.action == "set_policy"]
    if changing:
        counts.append(max(rule.values()))
        reasons.append(f"it changes the approvals policy itself, which needs what the current "
                       f"policy's highest count asks: {max(rule.values())}")
    return Need(max(counts, default=0), tuple(reasons))


def notice(need: Need) -> str:
    """The plan's warning when the live rule asks for approvals."""
    return (f"the practice's two-person rule: this plan is applied only once {need.count} "
            f"administrator(s) other than its author approve it; {need.text()}. Save it "
            "(`shsync plan ORG --save`), then each approver runs `shsync approve PLAN_ID`")


def counted(approvals: Iterable[Approval], live: PracticeState,
            author: str | None) -> tuple[str, ...]:
    """The approvers who count now: distinct active administrators other than the author."""
    seen: list[str] = []
    for email, _ in approvals:
        m = live.members.get(email)
        if email != author and email not in seen and m is not None and m.active and m.admin:
            seen.append(email)
    return tuple(seen)


def missing(operations: Sequence[Operation], live: PracticeState, author: str | None,
            approvals: Iterable[Approval]) -> str | None:
    """Why the approvals given are not enough under the live rule, or None when they are."""
    need = needed(operations, live.approval_policy)
    if need.count == 0:
        return None
    have = counted(approvals, live, author)
    if len(have) >= need.count:
        return None
    return (f"this plan needs {need.count} approval(s) from administrators other than its "
            f"author and has {len(have)}, so {need.count - len(have)} more: {need.text()}")


def refusal(stored: StoredPlan, live: PracticeState, approver: Actor) -> tuple[str, str] | None:
    """(code, message) saying why `approver` may not approve `stored` now, or None."""
    who = approver.email
    if who is None:
        return ("forbidden", "approvals are given by members, each as themselves: name "
                             "yourself with --actor EMAIL (or SHSYNC_ACTOR; over HTTP, "
                             "a member's own token)")
    if stored.applied_entry is not None:
        return ("already-applied", f"plan {stored.id} was already applied, as audit entry "
                                   f"#{stored.applied_entry}")
    if stored.refused is not None or fingerprint(live) != stored.plan.fingerprint:
        return ("stale-plan", f"the live practice has changed since plan {stored.id} was made; "
                              "it can no longer be applied, so it cannot be approved. Make a "
                              "new plan.")
    if who == stored.author:
        return ("self-approval", f"{who} made plan {stored.id}; a plan is approved by "
                                 "administrators other than its author")
    member = live.members.get(who)
    if member is None or not member.active or not member.admin:
        return ("forbidden", f"{who} is not an active administrator of this practice; only "
                             "administrators approve plans")
    if who in stored.approvers:
        return ("already-approved", f"{who} has already approved plan {stored.id}")
    return None
