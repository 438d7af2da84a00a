"""One exception tree, with stable codes.

Every error shsync raises on purpose is a `ShsyncError`: its `code` is stable (scripts and
tests match on it) and its message is safe to print (no secrets, no client data beyond ids).
The command line turns any of them into `error[CODE]: message` and exit code 1; the server
turns them into problem+json responses with the same codes. Anything else is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shsync.model.diagnostics import Diagnostic, Severity


class ShsyncError(Exception):
    """Something went wrong that the user can act on; nothing was changed."""

    code = "error"
    where: str | None = None  # the file the error is about, shown first: FILE: error[CODE]

    def __init__(self, message: str, code: str | None = None, where: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.where = where

    def render(self) -> str:
        head = f"{self.where}: " if self.where else ""
        return f"{head}error[{self.code}]: {self}"

    def as_diagnostic(self) -> Diagnostic:
        """This error among a file's diagnostics, reported in the same run."""
        return Diagnostic(Severity.ERROR, self.code,
                          f"{self.where}: {self}" if self.where else str(self))


class UserError(ShsyncError):
    """A mistake in what the user asked for (arguments, files, environment)."""


class InvalidPlan(UserError):
    """A saved plan that cannot be trusted; `code` names why."""

    code = "plan-malformed"


class BackendError(ShsyncError):
    """The store failed or refused; the message is safe to print (no secrets, no PHI)."""

    code = "backend"


class StalePlan(BackendError):
    """The live practice changed since the plan was made."""

    code = "stale-plan"


class AlreadyApplied(StalePlan):
    """This very plan was applied before."""

    code = "already-applied"


class WrongPractice(BackendError):
    """The plan was made for another practice."""

    code = "wrong-practice"


class NotEmpty(BackendError):
    """Seeding a store that already holds a practice."""

    code = "not-empty"


class NoPractice(BackendError):
    """A read-only command named a practice the store does not hold."""

    code = "no-practice"


class Forbidden(BackendError):
    """The actor may not make some change in the plan."""

    code = "forbidden"


class Refused(BackendError):
    """The operations do not fit the live practice: a precondition or a practice rule fails.

    Raised inside a store's transaction by the same check the planner uses, so a forged or
    stale plan changes nothing. `problems` holds every reason, each naming a member or client.
    """

    code = "refused"

    def __init__(self, problems: Sequence[str], code: str | None = None):
        shown = "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)"
                                           if len(problems) > 5 else "")
        super().__init__(f"nothing was applied: {shown}", code)
        self.problems = tuple(problems)


class NothingToApply(BackendError):
    """A plan without a step passed every check a store makes; it records no entry (an entry
    that changes nothing would move the log's head for nothing). Faces answer "no changes"."""

    code = "no-changes"


class AuditBroken(ShsyncError):
    """The audit log does not explain the live state, or was tampered with."""

    code = "audit-broken"


class ApprovalsRequired(BackendError):
    """The live practice's two-person rule asks for approvals the plan does not have."""

    code = "approvals-required"


class NoSuchPlan(UserError):
    """No stored plan with this id in this practice."""

    code = "no-such-plan"


class FileRefused(UserError):
    """A file given to a command that the system refuses (no permission, a name too long) where
    no check of the command's own caught it first."""

    code = "os-error"


class InvalidInput(UserError):
    """A file with problems: every diagnostic, each at its place."""

    code = "invalid-input"

    def __init__(self, diagnostics: tuple[Any, ...]):
        errors = sum(1 for d in diagnostics if getattr(d, "severity", "error") == "error")
        super().__init__(f"{errors} error(s) in the input")
        self.diagnostics = diagnostics
