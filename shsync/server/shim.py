"""TEMPORARY SHIM (branch h-server): stored plans until branch h-approvals lands.

h-approvals adds to `shsync.app.Shsync`: `save_plan(plan) -> StoredPlan`, `stored_plan(id)`,
`approve(id)` and `apply_stored(id, progress=None) -> AuditEntry`, with plans and approvals
kept in the store (schema 4) and the two-person rule checked inside every store's apply. Until
that is merged, the server keeps stored plans here, in the server process's memory, with the
same shape and the same id (`p-` + 12 hex digits of the plan's hash). It enforces no approval
rule: `approve` only records. When h-approvals is merged, `stored_plans()` returns the
application object itself and this module is deleted.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace

from shsync.app import PlanRefused, Shsync
from shsync.backends.audit import AuditEntry
from shsync.backends.base import Progress
from shsync.errors import BackendError, Forbidden
from shsync.reconcile.plan import Plan

PLAN_ID = re.compile(r"^p-[0-9a-f]{12}$")


class NoSuchPlan(BackendError):
    code = "no-such-plan"


@dataclass(frozen=True)
class StoredPlan:
    id: str
    plan: Plan
    author: str | None
    created_at: str
    approvals: tuple[tuple[str, str], ...] = ()
    required: int = 0
    applied_entry: int | None = None


_PLANS: dict[tuple[str, str], StoredPlan] = {}  # (store URL, plan id) -> plan
_LOCK = threading.Lock()


def plan_id(plan: Plan) -> str:
    return "p-" + plan.digest().removeprefix("sha256:")[:12]


class StoredPlans:
    """The four calls h-approvals puts on `Shsync`, over one application object."""

    def __init__(self, app: Shsync):
        self.app = app
        self.key = app.backend.display_url

    def save_plan(self, plan: Plan) -> StoredPlan:
        if plan.errors:
            raise PlanRefused(plan)
        if plan.actor != self.app.who.email:
            raise Forbidden(f"the plan was made for {plan.actor or 'the operator'}, not for "
                            f"{self.app.who.email or 'the operator'}; make a new plan as "
                            "yourself")
        stored = StoredPlan(plan_id(plan), plan, self.app.who.email, self.app.clock())
        with _LOCK:
            return _PLANS.setdefault((self.key, stored.id), stored)

    def stored_plan(self, plan_id: str) -> StoredPlan:
        found = _PLANS.get((self.key, plan_id)) if PLAN_ID.match(plan_id) else None
        if found is None:
            raise NoSuchPlan(f"no stored plan {plan_id[:40]!r} in practice "
                             f"{self.app.backend.practice!r}")
        return found

    def approve(self, plan_id: str) -> StoredPlan:
        stored = self.stored_plan(plan_id)
        if self.app.who.email is None or self.app.who.email == stored.author:
            raise Forbidden("a plan is approved by an administrator other than its author",
                            "forbidden")
        with _LOCK:
            approved = replace(stored, approvals=(*stored.approvals,
                                                  (self.app.who.email, self.app.clock())))
            _PLANS[(self.key, plan_id)] = approved
        return approved

    def apply_stored(self, plan_id: str, progress: Progress | None = None) -> AuditEntry:
        stored = self.stored_plan(plan_id)
        # The store itself refuses a plan applied before (already-applied), in its transaction.
        entry = self.app.apply(stored.plan, progress)
        with _LOCK:
            _PLANS[(self.key, plan_id)] = replace(stored, applied_entry=entry.seq)
        return entry


def stored_plans(app: Shsync) -> StoredPlans:
    return StoredPlans(app)
