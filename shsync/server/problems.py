"""Errors as RFC 9457 problem details (`application/problem+json`), with the CLI's codes.

Every `ShsyncError` keeps its stable `code`; the HTTP status says what kind of failure it was,
as the one table of codes (shsync.errors.CODES) has it.
A diagnostic list (an org file with problems) is returned whole, each with its file, line and
column, as the CLI prints them. Messages are the same safe texts the CLI prints.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

from shsync.errors import CODES, Refused, ShsyncError, check, status_of
from shsync.render.escape import visible

MEDIA_TYPE = "application/problem+json"

MAX_ERRORS = 100  # reasons listed in one problem; the rest are counted
_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Content too large",
           415: "Unsupported media type", 422: "Unprocessable content",
           500: "Internal server error", 503: "Service unavailable"}


class ProblemDiagnostic(BaseModel):
    code: str
    message: str
    severity: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None
    location: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details, with shsync's stable `code` and every diagnostic."""

    type: str = Field(description="urn:shsync:error:CODE")
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[ProblemDiagnostic] = Field(default_factory=list)


def problem(code: str, detail: str, *, status: int | None = None,
            errors: list[dict[str, Any]] | None = None,
            instance: str | None = None) -> JSONResponse:
    """The problem+json response of a code, with the table's status unless `status` says
    otherwise (an HTTP error of the framework's, which keeps its own)."""
    check(code)
    if status is None:
        status = CODES[code].status
        assert status is not None, f"no server answers with {code!r}"
    # Messages quote what callers and stores sent (an id, a head, a name): escaped here once,
    # for every problem, so no detail carries an ESC or a newline to a terminal or a log.
    body = Problem(type=f"urn:shsync:error:{code}", title=_TITLES.get(status, "Error"),
                   status=status, detail=visible(detail), code=code, instance=instance,
                   errors=[ProblemDiagnostic(**{**e, "message": visible(str(e["message"]))})
                           for e in errors or []])
    headers = {"WWW-Authenticate": 'Bearer realm="shsync"'} if status == 401 else None
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=MEDIA_TYPE, headers=headers)


def from_error(exc: ShsyncError, instance: str | None = None) -> JSONResponse:
    """The problem for an error raised by the application, with its diagnostics if any."""
    errors: list[dict[str, Any]] = []
    diagnostics = getattr(exc, "diagnostics", None)
    if diagnostics is not None:  # InvalidInput: every problem in the org file, placed
        errors = [d.as_dict() for d in diagnostics]
    plan = getattr(exc, "plan", None)
    if plan is not None:  # PlanRefused: the plan's errors, placed where validation put them
        errors = [m.to_dict() for m in plan.errors]
    if isinstance(exc, Refused):  # every reason the store gave, each naming whom it concerns
        errors = [{"code": exc.code, "message": p} for p in exc.problems]
    if len(errors) > MAX_ERRORS:
        more = f"and {len(errors) - MAX_ERRORS:,} more"
        errors = errors[:MAX_ERRORS] + [{"code": exc.code, "message": more}]
    detail = str(exc)
    if exc.where:
        detail = f"{exc.where}: {detail}"
    return problem(exc.code, detail, status=status_of(exc), errors=errors, instance=instance)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI entries for these error statuses: each a problem+json document."""
    return {status: {"description": _TITLES[status],
                     "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            for status in statuses}
