"""One exception tree, and one table of the codes it carries.

Every error shsync raises on purpose is a `ShsyncError`: its `code` is stable (scripts and
tests match on it) and its message is safe to print (no secrets, no client data beyond ids).
Each code is defined once, in `CODES`, with the exit code the command line ends with and the
HTTP status of the server's problem+json; the CLI (shsync.cli.common), the server
(shsync.server.problems) and the remote backend (shsync.stores.remote, which turns a server's
problem back into the exception) all read it. Anything else raised is a bug.

    Exception
    └── ShsyncError                  error         something the user can act on
        ├── UserError                error         a mistake in what the user asked for
        │   ├── InvalidPlan          plan-malformed  a saved plan that cannot be trusted
        │   │   └── (InvalidOperation, shsync.core.operations)
        │   ├── InvalidInput         invalid-input   a file with problems, every diagnostic
        │   ├── LoadError            invalid-input   a file that is not plain YAML data
        │   ├── FileProblem          (given)         a file that cannot be read
        │   ├── FileRefused          os-error        a file the system refuses
        │   ├── NoSuchPlan           no-such-plan
        │   ├── PlanRefused          plan-has-errors a plan with errors, not applied or kept
        │   ├── OnboardRefused       roster-refused  a roster with problems, nothing written
        │   ├── OutputFailed         output-failed   an output file that cannot be written
        │   ├── OutputExists         output-exists
        │   └── BodyError            invalid-body    a request body the server cannot take
        ├── BackendError             backend       the store failed or refused
        │   ├── StalePlan            stale-plan
        │   │   └── AlreadyApplied   already-applied
        │   ├── WrongPractice        wrong-practice
        │   ├── NotEmpty             not-empty
        │   ├── NoPractice           no-practice
        │   ├── Forbidden            forbidden
        │   ├── Refused              refused       every reason a store refused the operations
        │   ├── NothingToApply       no-changes
        │   ├── ApprovalsRequired    approvals-required
        │   └── RemoteError          (the server's)  a server's problem with no class here
        ├── AuditBroken              audit-broken
        ├── Unauthorized             unauthorized    no valid token (401)
        └── InsufficientScope        insufficient-scope
    UnknownCode (LookupError)        a code not in the table: a bug in shsync, never the user's

Exit codes: 0 done, 1 an error (nothing changed), 2 changes pending (`--detailed-exitcode`),
3 a change WAS made and committed but what came after it failed (whatever the error's code: the
CLI reports it as `partly-applied` or `output-failed`), 64 click could not parse the command
line (its JSON envelope carries the code `usage`; a command's own refusal of its arguments
carries `usage` too and, as every other error, exits 1).

Codes are checked: a class whose `code` is not in the table fails when it is defined, and an
error made with a code that is not in it is a programming error, raised loudly when
SHSYNC_STRICT_CODES=1 (the test suite sets it). In use it is not: the user's error is still
worth more than a traceback, so it keeps its message and code, and exits and answers as its
class's own code does. Codes a server sends that this version does not know are the server's
word, kept as sent (shsync.stores.remote).

Diagnostics (shsync.model.diagnostics) have codes of their own (`no-admin`, `invalid-npi`...):
they are reported inside an error (`invalid-input`), not raised, and are not in this table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # at run time, only what this module needs to be imported: os
    from pathlib import Path

    from shsync.core.plan import Plan
    from shsync.jobs.onboard import Outcome
    from shsync.model.diagnostics import Diagnostic

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
EXIT_UNREPORTED = 3  # a change was made and committed, but what came after it failed
EXIT_OVERDUE = 4  # `runbook --detailed-exitcode`: a step is past its deadline
EXIT_USAGE = 64  # click could not parse the command line (sysexits.h EX_USAGE)

STRICT_VARIABLE = "SHSYNC_STRICT_CODES"


class UnknownCode(LookupError):
    """An error made with a code the table does not hold: a bug in shsync, not the user's."""


class Code:
    """One error code: what it means, how the CLI exits and what the server answers with it.

    `status` is None for a code no server answers with. `cls`, where set, is the class an error
    of this code is, whoever raises it: a store's refusal to approve is raised as it, and the
    remote backend rebuilds a server's problem of this code as it. Where it is None the raise
    site picks the class, and a server's problem of the code comes back as a `UserError`
    (status 400, 413, 415 or 422) or else a `RemoteError`, with its code.

    Read-only. A plain class, not a dataclass: this module is imported by nearly every command,
    and making a dataclass costs more than the rest of the module."""

    __slots__ = ("name", "status", "summary", "exit", "cls")

    name: str
    status: int | None
    summary: str
    exit: int
    cls: type[ShsyncError] | None

    def __init__(self, name: str, status: int | None, summary: str, *, exit: int = EXIT_ERROR,
                 cls: type[ShsyncError] | None = None):
        for field, value in (("name", name), ("status", status), ("summary", summary),
                             ("exit", exit), ("cls", cls)):
            object.__setattr__(self, field, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"an error code is read-only ({name})")

    def __repr__(self) -> str:
        return (f"Code({self.name!r}, {self.status!r}, {self.summary!r}, exit={self.exit}, "
                f"cls={self.cls.__name__ if self.cls else None})")


#: Every code, by name (made at the end of this module, once its classes are).
CODES: Mapping[str, Code] = {}


def check(code: str) -> None:
    """Refuse a code the table does not hold, in a strict run (SHSYNC_STRICT_CODES=1); in use,
    let it be (see the module's docstring)."""
    if code not in CODES and os.environ.get(STRICT_VARIABLE, "") not in ("", "0"):
        raise UnknownCode(f"error code {code!r} is not in shsync.errors.CODES")


class ShsyncError(Exception):
    """Something went wrong that the user can act on; nothing was changed."""

    code = "error"
    where: str | None = None  # the file the error is about, shown first: FILE: error[CODE]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The classes of this module are checked once the table is made (below).
        if CODES and cls.code not in CODES:
            raise UnknownCode(f"{cls.__qualname__}.code {cls.code!r} is not in shsync.errors")

    def __init__(self, message: str, code: str | None = None, where: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code
            check(code)
        self.where = where

    def render(self) -> str:
        head = f"{self.where}: " if self.where else ""
        return f"{head}error[{self.code}]: {self}"

    def as_diagnostic(self) -> Diagnostic:
        """This error among a file's diagnostics, reported in the same run."""
        from shsync.model.diagnostics import Diagnostic, Severity

        return Diagnostic(Severity.ERROR, self.code,
                          f"{self.where}: {self}" if self.where else str(self))


def code_of(exc: ShsyncError) -> Code:
    """The table's entry for an error: its code's, or (a code the table does not hold, which
    only a strict run refuses) the nearest class's own."""
    found = CODES.get(exc.code)
    if found is not None:
        return found
    return next(CODES[c.code] for c in type(exc).__mro__
                if issubclass(c, ShsyncError) and c.code in CODES)


def class_of(code: str, default: type[ShsyncError]) -> type[ShsyncError]:
    """The class an error of this code is, where the code alone decides it (`Code.cls`), else
    `default`."""
    found = CODES.get(code)
    return found.cls if found is not None and found.cls is not None else default


def exit_of(exc: ShsyncError) -> int:
    """The exit code the command line ends with for this error, when nothing was changed."""
    return code_of(exc).exit


def status_of(exc: ShsyncError) -> int:
    """The HTTP status of the server's problem for this error."""
    status = code_of(exc).status
    if status is None:  # a code no server answers with, raised anyway: as its class
        status = next(s for c in type(exc).__mro__ if issubclass(c, ShsyncError)
                      for s in [CODES[c.code].status] if s is not None)
    return status


# --- the tree ---------------------------------------------------------------------------------

class UserError(ShsyncError):
    """A mistake in what the user asked for (arguments, files, environment)."""


class InvalidPlan(UserError):
    """A saved plan that cannot be trusted; `code` names why."""

    code = "plan-malformed"


class InvalidOperation(InvalidPlan):
    """One step of a saved plan that is not what the action registry allows."""

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

    def __init__(self, problems: Sequence[str], code: str | None = None, *,
                 lead: str = "nothing was applied"):
        shown = "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)"
                                           if len(problems) > 5 else "")
        super().__init__(f"{lead}: {shown}", code)
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


class LoadError(UserError):
    """The file could not be read as plain YAML data; carries every diagnostic found
    (shsync.format.yamlload). Its readers report them as diagnostics."""

    code = "invalid-input"

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("; ".join(d.render() for d in diagnostics))
        self.diagnostics = diagnostics


class FileProblem(UserError):
    """A file that cannot be read: `unreadable`, `not-a-file` or `file-too-large`.
    `where` is the file as the user named it (shsync.format.fileio)."""

    def diagnostic(self) -> Diagnostic:
        """The same problem as a diagnostic, for readers that report every problem at once."""
        from shsync.model.diagnostics import Diagnostic, Severity

        return Diagnostic(Severity.ERROR, self.code, f"{self.where}: {self}")


class PlanRefused(UserError):
    """A plan with errors, neither applied nor kept: `plan` holds them, each where validation
    put it (shsync.jobs.app)."""

    code = "plan-has-errors"

    def __init__(self, plan: Plan):
        super().__init__("; ".join(f"[{e.code}] {e.message}" for e in plan.errors))
        self.plan = plan


class OnboardRefused(UserError):
    """A roster with problems: nothing was written; `outcome` holds every diagnostic
    (shsync.jobs.onboard)."""

    code = "roster-refused"

    def __init__(self, outcome: Outcome):
        super().__init__("the roster has problems; nothing was written")
        self.outcome = outcome


class OutputFailed(UserError):
    """An output file that cannot be written; `reason` says why (shsync.jobs.outfile)."""

    code = "output-failed"

    def __init__(self, path: Path, reason: str):
        super().__init__(f"cannot write {path}: {reason}")
        self.reason = reason


class OutputExists(UserError):
    """An output that is there already, replaced only with --force (shsync.jobs.outfile)."""

    code = "output-exists"


class BodyError(UserError):
    """A request body the server cannot take (shsync.server.bodies)."""

    code = "invalid-body"


class RemoteError(BackendError):
    """A server's problem with no class of its own here: its code is the server's
    (shsync.stores.remote)."""


class Unauthorized(ShsyncError):
    """No token, or one that is not valid (unknown, wrong secret, revoked, expired)."""

    code = "unauthorized"


class InsufficientScope(ShsyncError):
    """The token is valid, but its scope does not cover what it asked for."""

    code = "insufficient-scope"


# --- the table --------------------------------------------------------------------------------

def _table(*codes: Code) -> dict[str, Code]:
    table: dict[str, Code] = {}
    for code in codes:
        if code.name in table:
            raise ValueError(f"error code {code.name!r} is defined twice")
        table[code.name] = code
    return table


CODES = _table(
    # The classes' own codes.
    Code("error", 422, "an error that has no code of its own"),
    Code("backend", 503, "the store failed or could not be reached"),
    Code("plan-malformed", 422, "a saved plan's content is not a plan shsync makes"),
    Code("invalid-input", 422, "a file with problems: every diagnostic, each at its place"),
    Code("stale-plan", 409, "the live practice changed since the plan was made", cls=StalePlan),
    Code("already-applied", 409, "this very plan was applied before", cls=AlreadyApplied),
    Code("wrong-practice", 409, "the plan was made for another practice", cls=WrongPractice),
    Code("not-empty", 409, "seeding a store that already holds a practice", cls=NotEmpty),
    Code("no-practice", 404, "the store does not hold this practice", cls=NoPractice),
    Code("forbidden", 403, "the actor may not do this", cls=Forbidden),
    Code("refused", 409, "the operations do not fit the live practice", cls=Refused),
    Code("no-changes", 422, "a plan without a step: nothing to apply or record",
         cls=NothingToApply),
    Code("audit-broken", 409, "the audit log does not explain the live state", cls=AuditBroken),
    Code("approvals-required", 409, "the two-person rule asks for more approvals",
         cls=ApprovalsRequired),
    Code("no-such-plan", 404, "no stored plan with this id", cls=NoSuchPlan),
    Code("os-error", 422, "the system refuses a file given to a command"),
    Code("plan-has-errors", 422, "the plan has errors: it is neither applied nor kept"),
    Code("roster-refused", 422, "the roster has problems: nothing was written"),
    Code("output-failed", 422, "an output (a file, standard output) cannot be written"),
    Code("output-exists", 422, "the output is there already (--force replaces it)"),
    Code("invalid-body", 422, "a request body the server cannot take"),
    Code("unauthorized", 401, "no token, or one that is not valid"),
    Code("insufficient-scope", 403, "the token's scope does not cover the request"),
    # A store's refusals, each with every reason. A refusal is the caller's problem, never an
    # outage (503 is kept for a store that fails): a plan that no longer fits the live practice
    # is a conflict (409), one whose own parts disagree (its summary, access delta or kind
    # against its steps) is unprocessable (422).
    Code("plan-summary-mismatch", 422, "the plan's summary disagrees with its steps",
         cls=Refused),
    Code("plan-access-mismatch", 422, "the plan's access delta disagrees with its steps",
         cls=Refused),
    Code("plan-kind-mismatch", 422, "the plan's kind disagrees with its steps", cls=Refused),
    # Approvals and reviews.
    Code("self-approval", 403, "a plan is approved by others than its author", cls=Forbidden),
    Code("already-approved", 409, "this administrator approved the plan already"),
    Code("already-reviewed", 409, "this audit entry was reviewed already"),
    Code("not-break-glass", 422, "the audit entry is not an emergency access"),
    Code("review-needs-actor", 403, "a review is made by a named administrator"),
    Code("self-review", 403, "an emergency access is reviewed by another administrator"),
    Code("review-no-note", 422, "a review needs a note"),
    Code("invalid-note", 422, "a review's note is not one printable line of its length"),
    # Break glass.
    Code("break-glass-needs-actor", 422, "breaking glass is done by a named member"),
    Code("break-glass-no-reason", 422, "breaking glass needs a reason"),
    Code("invalid-reason", 422, "the reason is not one printable line of its length"),
    Code("invalid-duration", 422, "a length of time shsync does not read"),
    Code("break-glass-too-long", 422, "longer than the practice's policy allows"),
    Code("break-glass-not-active", 422, "the member is not active"),
    Code("break-glass-not-allowed", 422, "the practice's policy does not allow it here"),
    Code("break-glass-already-sees", 422, "the member can see the client already"),
    # Runbook steps (what people must still do in Sessions Health).
    Code("no-such-step", 404, "no runbook step with this id in this practice", cls=Refused),
    Code("step-not-pending", 409, "the runbook step was done or observed already", cls=Refused),
    Code("step-refused", 409, "the step may not be confirmed (not yours, or it waits for an "
         "invitation)", cls=Refused),
    Code("clock-ahead", 409, "the apply's clock is ahead of the store's: SHSYNC_NOW and --at "
         "only preview", cls=Refused),
    # The audit log.
    Code("head-moved", 409, "the audit log's head is not the one expected"),
    Code("log-truncated", 409, "the audit log is shorter than the head expected"),
    # Stores and servers.
    Code("bad-backend-url", 503, "a store or server URL shsync cannot use"),
    Code("bad-store", 503, "the store holds something damaged or foreign"),
    # `shsync serve --notify` refuses to start with these (shsync/server/notify.py); no server
    # answers with them.
    Code("bad-notify-url", None, "a --notify URL shsync does not post to"),
    Code("notify-secret", None, "--notify without a usable SHSYNC_NOTIFY_SECRET"),
    # No server answers with it (a server checks the name in its path first): raised by a store's
    # URL (a BackendError) and a token's practice (a UserError), each answered as its class.
    Code("bad-practice", None, "a practice name shsync cannot use"),
    Code("no-token", 422, "a server needs SHSYNC_TOKEN"),
    Code("bad-token", 422, "SHSYNC_TOKEN is not a token"),
    Code("unknown-token", 422, "no token with this id"),
    Code("invalid-email", 422, "not an email address"),
    Code("not-a-member", 422, "not a member of the practice"),
    # Where the store is: a flag, SHSYNC_BACKEND or shsync.toml (shsync/jobs/config.py); the
    # command line's own, no server answers with them.
    Code("no-backend", None, "no store named where one must be (CI, no terminal, or an empty "
         "SHSYNC_BACKEND)"),
    Code("bad-config", None, "a shsync.toml shsync cannot use"),
    Code("secret-in-config", None, "a secret in shsync.toml, which is kept in git"),
    # What the user asked for.
    Code("usage", 422, "arguments that do not go together (click's own: exit 64)"),
    Code("not-confirmed", 422, "a change that asks for confirmation was not confirmed"),
    Code("empty-actor", 422, "the actor is empty"),
    Code("unknown-member", 404, "no member with this email"),
    Code("unknown-client", 404, "no client with this id"),
    Code("not-invited", 422, "the member is not (or no longer) invited"),
    Code("control-character", 422, "a control character where text is shown"),
    Code("encoding", 422, "a file that is not UTF-8 text"),
    Code("invalid-setting", 422, "an environment variable's value shsync does not take"),
    Code("invalid-time", 422, "not an ISO time"),
    Code("time-out-of-range", 422, "a time outside the years shsync keeps"),
    # Files.
    Code("unreadable", 422, "a file that cannot be read"),
    Code("not-a-file", 422, "a directory, FIFO or device where a file is read"),
    Code("file-too-large", 422, "a file larger than SHSYNC_MAX_FILE_BYTES"),
    # Plan files.
    Code("not-a-plan", 422, "the file is not a plan"),
    Code("plan-format-version", 422, "a plan format this version does not read"),
    Code("plan-hash-mismatch", 422, "the plan's hash does not match its content"),
    # The server's own, for requests its routes never see.
    Code("invalid-request", 422, "the request does not fit the API"),
    Code("body-too-large", 413, "the request body is larger than the server takes"),
    Code("unsupported-media-type", 415, "a request body of a type the endpoint does not take"),
    Code("not-found", 404, "no such endpoint"),
    Code("method-not-allowed", 405, "the endpoint does not take this method"),
    Code("bad-request", 400, "a request the server cannot read"),
    Code("internal", 500, "a bug in the server: nothing was changed"),
    # The command line's own.
    Code("partly-applied", None, "a change WAS made and committed; what came after it failed",
         exit=EXIT_UNREPORTED),
)

# The classes above were made before the table: checked now (the ones made later, when made).
for _cls in [c for c in globals().values() if isinstance(c, type) and issubclass(c, ShsyncError)]:
    if _cls.code not in CODES:
        raise UnknownCode(f"{_cls.__qualname__}.code {_cls.code!r} is not in shsync.errors")
del _cls
