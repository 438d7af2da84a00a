"""The HTTP API: each endpoint authenticates, builds one `Shsync` and makes one call.

Per request: the practice's store handle, the bearer token checked against it (its member, or
the operator, is the actor; nothing in the request can claim another, except that an operator
token may narrow itself to a member with `X-Shsync-Actor`, as the operator's `--actor` does),
the token's scope checked, then one application object with that identity and the server's
clock, and one library call. No planning or store logic lives here.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, cast

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi import Path as FastPath
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from shsync import __version__

from shsync.jobs import app

from shsync.core import runbook, tokens
from shsync.errors import CODES, Forbidden, NothingToApply, ShsyncError, UserError
from shsync.core.authorize import Actor
from shsync.server import apidocs, bodies, checklist, problems
from shsync.render.access import rows_document, seen_document
from shsync.server.handles import CachedReads, Handles
from shsync.server.telemetry import Metrics

T = TypeVar("T")
MAX_BODY = 64 * 1024 * 1024
ERRORS = problems.responses(401, 403, 404, 409, 413, 415, 422, 503)
bearer = HTTPBearer(auto_error=False, description="An shsync token: shs_<id>_<secret>")
Token = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
ActAs = Annotated[str | None, Header(alias="X-Shsync-Actor", max_length=254,
                                    description="Operator tokens only: act as this member.")]


# --- response shapes (the OpenAPI document is generated from these) ---------------------------

class Health(BaseModel):
    status: str
    version: str


class WhoAmI(BaseModel):
    practice: str
    actor: str
    operator: bool
    scope: str
    token_id: str


class AccessRow(BaseModel):
    member: str
    client: str | None
    capability: str
    reason: str
    until: str | None = None
    # The two truths (docs/sessions-health.md): shsync's record, and Sessions Health's until
    # the runbook is carried out: true, false (not yet there) or "pending" (still there).
    in_shsync: bool
    in_sessions_health: bool | Literal["pending"]
    pending: str | None = None
    due: str | None = None
    overdue: bool = False


class AccessRows(BaseModel):
    rows: list[AccessRow]


#: The most entries one page of `GET .../history` holds.
MAX_PAGE = 1000


class History(BaseModel):
    entries: list[dict[str, Any]]
    # With `after`/`limit` (a SIEM's cursor): the `after` of the next page, or null when this
    # page reached the log's end.
    next: int | None = None


class Verified(BaseModel):
    verified: bool
    entries: int
    replayed: bool
    head: str
    note: str | None = None


class Approval(BaseModel):
    by: str
    at: str


class StoredPlanOut(BaseModel):
    id: str
    author: str | None
    created_at: str
    approvals: list[Approval]
    required: int
    applied_entry: int | None
    status: str  # applied, stale, ready or awaiting approval
    refused_at: str | None = None  # when the store refused to apply it as stale
    plan: dict[str, Any]
    warnings: list[problems.ProblemDiagnostic] = []


class Entry(BaseModel):
    audit_entry: dict[str, Any] | None
    plan: dict[str, Any] | None = None


# Request bodies take their types as sent: `"3"` or `true` is not an audit entry's number, and
# a blank is not an address (pydantic's lax mode would turn each into something else).
class Emails(BaseModel):
    model_config = ConfigDict(strict=True)
    emails: list[Annotated[str, Field(min_length=1)]]


class ReviewIn(BaseModel):
    model_config = ConfigDict(strict=True)
    entry: int = Field(ge=1)
    note: str


class StepAccess(BaseModel):
    change: str  # gain | lose
    member: str
    client: str | None  # an id, "*" for every client, null for the practice itself
    capability: str
    reason: str


class RunbookStep(BaseModel):
    """A runbook step, as `shsync runbook --format json` writes it (core/runbook.py)."""

    id: str
    entry: int
    actions: list[str]
    member: str | None
    client: str | None
    step: str  # the screen and control in Sessions Health
    effect: str  # narrows | widens | other
    recorded_at: str
    due: str
    waits_for: str | None
    state: str  # pending | done | observed
    by: str | None
    at: str | None
    note: str | None
    confirmed_in: int | None
    access: list[StepAccess]
    overdue: bool


class Runbook(BaseModel):
    practice: str
    now: str  # what `overdue` was judged by
    pending: int
    overdue: int
    steps: list[RunbookStep]


class DoneIn(BaseModel):
    model_config = ConfigDict(strict=True)
    steps: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        min_length=1, max_length=runbook.MAX_CONFIRM)
    note: str | None = None


class NoteIn(BaseModel):
    model_config = ConfigDict(strict=True)
    note: str | None = None


# --- the application ------------------------------------------------------------------------

# Threads that answer reads (scope `read`: the practice kept per audit head, one or two small
# queries). Few, and their own: with Starlette's forty threads for everything, fifty concurrent
# access queries fought over the GIL and the slowest waited over a second (bench/notes.md);
# and a plan or an apply waiting for the store's write lock never holds a reader's thread.
READ_THREADS = 4


def create_app(url: str, *, clock: Callable[[], str] = app.now, lock_timeout: float = 60.0,
               metrics: Metrics | None = None, read_threads: int = READ_THREADS) -> FastAPI:
    """The ASGI application over the store at `url` (every practice it holds)."""
    handles = Handles(url, lock_timeout)
    reads = anyio.CapacityLimiter(read_threads)
    api = FastAPI(title="shsync", version=__version__, openapi_url="/openapi.json",
                  docs_url=None, redoc_url=None,
                  description="A group practice's organization as code, over HTTP. Every "
                              "request but /healthz, /metrics, this document (/openapi.json, "
                              "and as a page, /docs) and the runbook checklist page (GET "
                              "/practices/NAME/runbook/page, which holds no data) needs a "
                              "bearer token.")
    api.state.handles = handles
    api.state.metrics = metrics or Metrics()

    async def call(request: Request, practice: str, token: HTTPAuthorizationCredentials | None,
                   scope: str, what: str, job: Callable[[app.Shsync], T],
                   act_as: str | None = None, cached: bool = True) -> T:
        def within() -> T:
            with handles.practice(practice, cached) as backend:
                who = _identify(backend, token)
                request.scope["state"].update(actor=who.actor.name, identity=who)
                who.require(scope, what)
                return job(app.Shsync(backend, _acting(who, act_as), clock))
        return await anyio.to_thread.run_sync(within,
                                              limiter=reads if scope == "read" else None)

    async def unidentified(request: Request) -> Response | None:
        """The 401 a request without a valid token gets, whatever else is wrong with it: who
        asks is checked before what they sent (FastAPI validates a body before the route)."""
        practice = request.path_params.get("practice")
        if not isinstance(practice, str):
            return None  # not a practice's endpoint
        token = await bearer(request)  # read as the routes read it

        def check() -> None:
            with handles.practice(practice) as backend:
                _identify(backend, token)
        try:
            await anyio.to_thread.run_sync(check, limiter=reads)
        except ShsyncError as exc:
            return problems.from_error(exc)
        return None

    _routes(api, call)
    _errors(api, unidentified)
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        """The generated document, with the problem+json schema every error refers to."""
        if api.openapi_schema is None:
            doc = generate()
            schema = problems.Problem.model_json_schema(
                ref_template="#/components/schemas/{model}")
            doc["components"]["schemas"].update(schema.pop("$defs", {}), Problem=schema)
            api.openapi_schema = doc
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api


def openapi_document() -> str:
    """The OpenAPI 3.1 document, as committed in docs/openapi.json."""
    return json.dumps(create_app("sqlite:///unused.db").openapi(), indent=2,
                      sort_keys=True) + "\n"



def _identify(backend: Any, token: HTTPAuthorizationCredentials | None) -> tokens.Identity:
    """Who the bearer token stands for in this practice's store (401 when nobody)."""
    return tokens.authenticate(cast(tokens.TokenStore, backend),
                               token.credentials if token else None, datetime.now(UTC))


def _acting(who: tokens.Identity, act_as: str | None) -> Actor:
    if act_as is None or (who.actor.email is not None and act_as.lower() == who.actor.email):
        return who.actor
    if who.actor.email is not None:
        raise Forbidden(f"this token acts as {who.actor.email}; a request cannot act as anyone "
                        "else")
    return app.actor(act_as)


def _errors(api: FastAPI,
            unidentified: Callable[[Request], Awaitable[Response | None]]) -> None:
    @api.exception_handler(ShsyncError)
    async def shsync_error(request: Request, exc: ShsyncError) -> Response:
        return problems.from_error(exc)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if (refused := await unidentified(request)) is not None:
            return refused
        found = [{"code": "invalid-request", "message": str(e.get("msg", ""))[:300],
                  "location": ".".join(str(p) for p in e.get("loc", ()))[:200]}
                 for e in exc.errors()[:50]]
        return problems.problem("invalid-request", "the request does not fit the API "
                                "(see errors)", errors=found)

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 400:  # FastAPI could not parse a JSON body: a malformed body
            if (refused := await unidentified(request)) is not None:
                return refused
            return problems.problem("invalid-body", "the body is not JSON this endpoint "
                                    "takes")
        # The framework's own statuses keep their number; the two of the table name their code.
        code = next((c for c in ("not-found", "method-not-allowed")
                     if CODES[c].status == exc.status_code), "bad-request")
        return problems.problem(code, str(exc.detail)[:300], status=exc.status_code)

    @api.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> Response:
        return problems.problem("internal", "an unexpected error; nothing was changed by "
                                "this request (the store's transaction was not committed)")


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise UserError(f"the body is larger than {MAX_BODY:,} bytes", "body-too-large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise UserError(f"the body is larger than {MAX_BODY:,} bytes", "body-too-large")
        chunks.append(chunk)
    return b"".join(chunks)


def _stored(stored: Any, warnings: tuple[Any, ...] = ()) -> dict[str, Any]:
    return StoredPlanOut(id=stored.id, author=stored.author, created_at=stored.created_at,
                         approvals=[Approval(by=e, at=at) for e, at in stored.approvals],
                         required=stored.required, applied_entry=stored.applied_entry,
                         status=stored.status, refused_at=stored.refused,
                         plan=stored.plan.to_dict(),
                         warnings=[problems.ProblemDiagnostic(**d.as_dict()) for d in warnings]
                         ).model_dump()


def _plan_from_body(shsync: app.Shsync, body: bytes, kind: str,
                    options: Any) -> tuple[Any, tuple[Any, ...]]:
    """A plan from an org file or directory (planned here), or a saved plan (checked by the
    store like any other before it is ever applied)."""
    if kind == bodies.PLAN_TYPE:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise bodies.BodyError("the plan is not UTF-8 text") from None
        from shsync.core.plan import from_file

        return from_file(text), ()
    with tempfile.TemporaryDirectory(prefix="shsync-serve-") as tmp:
        relabel = bodies.Relabel(Path(tmp))
        target = bodies.materialise(body, kind, Path(tmp))
        try:
            planned = shsync.plan(target, options)
        except app.InvalidInput as exc:
            raise app.InvalidInput(relabel.diagnostics(exc.diagnostics)) from None
        plan = relabel.plan(planned.plan)
        if plan.errors:
            raise app.PlanRefused(plan)
        return plan, relabel.diagnostics(planned.diagnostics)


def _routes(api: FastAPI, call: Any) -> None:  # noqa: C901 - one short function per endpoint
    from shsync.core.planner import Options
    from shsync.core.state import state_from_dict, state_to_dict

    P = "/practices/{practice}"

    @api.get("/healthz", response_model=Health, tags=["server"])
    async def healthz() -> Health:
        """Liveness: the server answers (no token; the store is not asked)."""
        return Health(status="ok", version=__version__)

    @api.get("/metrics", tags=["server"], response_class=Response,
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
    async def metrics(request: Request) -> Response:
        """Prometheus metrics: requests by route template and status, and their durations."""
        return Response(request.app.state.metrics.text(),
                        media_type="text/plain; version=0.0.4")

    page: list[str] = []  # the reference page, rendered once from the document

    @api.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> Response:
        """The API reference as one page with no script and no request of its own, rendered
        from /openapi.json (FastAPI's /docs would load Swagger UI from a CDN: see
        shsync/server/apidocs.py)."""
        if not page:
            page.append(apidocs.render(request.app.openapi()))
        return apidocs.response(page[0])

    @api.get(P + "/whoami", response_model=WhoAmI, responses=ERRORS, tags=["read"])
    async def whoami(practice: str, request: Request, token: Token, act_as: ActAs = None
                     ) -> WhoAmI:
        """Who this token acts as, in this practice, and its scope."""
        def job(s: app.Shsync) -> WhoAmI:
            who: tokens.Identity = request.state.identity
            return WhoAmI(practice=practice, actor=s.who.name, operator=s.who.email is None,
                          scope=who.scope, token_id=who.token_id)
        return await call(request, practice, token, "read", "reading", job, act_as)

    @api.get(P + "/state", responses=ERRORS, tags=["read"])
    async def state(practice: str, request: Request, token: Token) -> dict[str, Any]:
        """The live practice (members, clients, appointments and notes by id): what a remote
        CLI plans against."""
        return await call(request, practice, token, "read", "reading",
                          lambda s: state_to_dict(s.read()))

    @api.get(P + "/export", responses={**ERRORS, 200: {"content": {"application/yaml": {
        "schema": {"type": "object", "description": "an org file (format version 1)"}}}}},
        response_class=Response, tags=["read"])
    async def export(practice: str, request: Request, token: Token) -> Response:
        """The live practice as an org file."""
        text = await call(request, practice, token, "read", "export",
                          lambda s: app.export(s.read()))
        return Response(text, media_type="application/yaml")

    @api.get(P + "/access", response_model=AccessRows, responses=ERRORS, tags=["read"])
    async def access(practice: str, request: Request, token: Token,
                     client: Annotated[str | None, Query(max_length=64)] = None,
                     member: Annotated[str | None, Query(max_length=254)] = None) -> Response:
        """Effective access: who can see a client (`client`), or what a member can see."""
        if (client is None) == (member is None):
            raise UserError("give exactly one of ?client=ID or ?member=EMAIL", "usage")

        def job(s: app.Shsync) -> bytes:
            # Answered from what the server keeps per audit head (handles.Answers), encoded
            # here as the document says (tests/render/test_access_json.py): the few hundred
            # rows a client has are not validated again, one by one, on the way out.
            answers = cast(CachedReads, s.backend).answers()
            pending = s.backend.runbook_steps(pending_only=True)
            if pending:  # beside what shsync holds, what Sessions Health still has
                _, seen = app.seen_access(answers.lookup, pending, s.backend.runbook_steps,
                                          client=client, member=member)
                return seen_document(seen, s.judge_now())
            if client is not None:
                app.require_client(answers.lookup.state, client)
                return answers.client_rows.document(client)
            return rows_document(app.access_rows(answers.lookup, client=None, member=member))
        return Response(await call(request, practice, token, "read", "access", job),
                        media_type="application/json")

    @api.get(P + "/history", response_model=History | Verified, responses=ERRORS,
             tags=["read"])
    async def history(practice: str, request: Request, token: Token, verify: bool = False,
                      expect_head: Annotated[str | None, Query(max_length=100)] = None,
                      details: bool = False,
                      after: Annotated[int, Query(ge=0, le=10**12)] = 0,
                      limit: Annotated[int | None, Query(ge=1, le=MAX_PAGE)] = None
                      ) -> History | Verified:
        """The audit log; with `verify`, the hash chain checked and the log replayed; with
        `details`, each entry whole (a seed entry holds the whole state it loaded). A page of
        it: the entries after seq `after`, at most `limit` (up to 1000), and `next`, the `after`
        of the page that follows (null at the log's end): a SIEM pulls the log so, each entry
        with its `entry_hash` and `prev_hash` to check the chain itself."""
        if verify or expect_head is not None:
            # The store itself, never what the server kept: a change made outside shsync
            # writes no entry, and the replay is what finds it.
            check = await call(request, practice, token, "read", "history",
                               lambda s: s.check_log(expect_head), cached=False)
            return Verified(verified=True, entries=check.entries, replayed=check.replayed,
                            head=check.head, note=check.note)
        if verify is False and (after or limit is not None):
            page = limit or MAX_PAGE
            entries = await call(request, practice, token, "read", "history",
                                 lambda s: s.history(after, page + 1))
            more = len(entries) > page
            entries = entries[:page]
            return History(entries=[e.to_dict(with_details=details) for e in entries],
                           next=entries[-1].seq if more and entries else None)
        entries = await call(request, practice, token, "read", "history",
                             lambda s: s.history())
        return History(entries=[e.to_dict(with_details=details) for e in entries])

    @api.post(P + "/plans", status_code=201, response_model=StoredPlanOut, responses=ERRORS,
              tags=["plans"], openapi_extra={"requestBody": {"required": True, "content": {
                  "application/yaml": {"schema": {"type": "string"}},
                  "application/json": {"schema": {"type": "object", "required": ["files"],
                                                  "properties": {"files": {
                                                      "type": "object",
                                                      "additionalProperties": {
                                                          "type": "string"}}}}},
                  bodies.PLAN_TYPE: {"schema": {"type": "object"}}}}})
    async def make_plan(practice: str, request: Request, token: Token, act_as: ActAs = None,
                        max_removals: Annotated[int | None, Query(ge=0)] = None,
                        allow_mass_removal: bool = False, assume_accepted: bool = False
                        ) -> dict[str, Any]:
        """Plan an org file (YAML) or directory (JSON map of path -> text) against the live
        practice, as the token's member, and keep the plan; or keep a saved plan (checked by
        the store, like any plan, when it is applied). Applied only by its id."""
        body = await _body(request)
        kind = bodies.media_type(request.headers.get("content-type"))
        options = Options(max_removals, allow_mass_removal, assume_accepted)

        def job(s: app.Shsync) -> dict[str, Any]:
            plan, warnings = _plan_from_body(s, body, kind, options)
            return _stored(s.save_plan(plan), warnings)
        return await call(request, practice, token, "plan", "planning", job, act_as)

    @api.get(P + "/plans", response_model=list[StoredPlanOut], responses=ERRORS, tags=["plans"])
    async def list_plans(practice: str, request: Request, token: Token) -> list[dict[str, Any]]:
        """Every stored plan of the practice, oldest first, with its approvals."""
        return await call(request, practice, token, "read", "reading plans",
                          lambda s: [_stored(p) for p in s.stored_plans()])

    @api.get(P + "/plans/{plan_id}", response_model=StoredPlanOut, responses=ERRORS,
             tags=["plans"])
    async def get_plan(practice: str, plan_id: str, request: Request, token: Token
                       ) -> dict[str, Any]:
        """A stored plan, with its approvals."""
        return await call(request, practice, token, "read", "reading a plan",
                          lambda s: _stored(s.stored_plan(plan_id)))

    @api.post(P + "/plans/{plan_id}/approve", response_model=StoredPlanOut, responses=ERRORS,
              tags=["plans"])
    async def approve(practice: str, plan_id: str, request: Request, token: Token
                      ) -> dict[str, Any]:
        """The token's member approves a stored plan they did not make. Only a member's own
        token approves: a service token cannot name a member to approve for (the audit log
        would name an approver who did nothing), and as the operator it may not approve."""
        return await call(request, practice, token, "apply", "approving",
                          lambda s: _stored(s.approve(plan_id)))

    @api.post(P + "/plans/{plan_id}/apply", response_model=Entry, responses=ERRORS,
              tags=["plans"])
    async def apply(practice: str, plan_id: str, request: Request, token: Token,
                    act_as: ActAs = None) -> Entry:
        """Apply exactly the stored plan `plan_id`: all or nothing, checked again by the store
        against the live practice. Only stored plans are ever applied. A plan without steps is
        checked the same way and answered with `audit_entry: null`: nothing is recorded."""
        def job(s: app.Shsync) -> Entry:
            try:
                return Entry(audit_entry=s.apply_stored(plan_id).to_dict())
            except NothingToApply:
                return Entry(audit_entry=None)
        return await call(request, practice, token, "apply", "applying", job, act_as)

    @api.post(P + "/accepted", response_model=Entry, responses=ERRORS, tags=["changes"])
    async def accepted(practice: str, body: Emails, request: Request, token: Token) -> Entry:
        """Record that members accepted their invitations in Sessions Health."""
        def job(s: app.Shsync) -> Entry:
            plan = s.plan_acceptance(body.emails)
            if plan.errors:
                raise app.PlanRefused(plan)
            return Entry(audit_entry=s.apply(plan).to_dict(), plan=plan.to_dict())
        return await call(request, practice, token, "apply", "recording acceptances", job)

    @api.post(P + "/refresh", response_model=Entry, responses=ERRORS, tags=["changes"],
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/yaml": {"schema": {"type": "string"}}}}})
    async def refresh(practice: str, request: Request, token: Token, dry_run: bool = False
                      ) -> Entry:
        """Record what was observed in Sessions Health (a snapshot, YAML); `dry_run` only
        shows the drift."""
        body = await _body(request)
        kind = bodies.media_type(request.headers.get("content-type"))
        if kind not in bodies.YAML_TYPES:
            raise UserError("send the snapshot as application/yaml", "unsupported-media-type")

        def job(s: app.Shsync) -> Entry:
            with tempfile.TemporaryDirectory(prefix="shsync-serve-") as tmp:
                relabel = bodies.Relabel(Path(tmp))
                target = bodies.materialise(body, kind, Path(tmp), "snapshot.yaml")
                try:
                    plan = relabel.plan(s.plan_refresh(target).plan)
                except app.InvalidInput as exc:
                    raise app.InvalidInput(relabel.diagnostics(exc.diagnostics)) from None
            if plan.errors:
                raise app.PlanRefused(plan)
            entry = None if dry_run or not plan.operations else s.apply(plan)
            return Entry(audit_entry=entry.to_dict() if entry else None, plan=plan.to_dict())
        return await call(request, practice, token, "apply", "refreshing", job)

    @api.post(P + "/reviews", response_model=Entry, responses=ERRORS, tags=["changes"])
    async def review(practice: str, body: ReviewIn, request: Request, token: Token,
                     act_as: ActAs = None) -> Entry:
        """An administrator's review of one emergency access, checked by the store inside the
        transaction that records it (two reviews of one emergency: one is recorded)."""
        entry = await call(request, practice, token, "apply", "reviewing",
                           lambda s: s.review(body.entry, body.note), act_as)
        return Entry(audit_entry=entry.to_dict())

    @api.get(P + "/runbook", response_model=Runbook, responses=ERRORS, tags=["runbook"])
    async def runbook_steps(practice: str, request: Request, token: Token,
                            all: bool = False,
                            entry: Annotated[int | None, Query(ge=1)] = None,
                            member: Annotated[str | None, Query(max_length=254)] = None,
                            client: Annotated[str | None, Query(max_length=64)] = None,
                            overdue: bool = False) -> dict[str, Any]:
        """The runbook: what people must still do in Sessions Health, oldest first, with the
        filters of `shsync runbook` (`all`: done and observed steps too). `overdue` (each
        step's, and the count) is judged by the real clock, or a later server clock."""
        which = runbook.Filter(all, entry, member.strip().lower() if member else None, client)

        def job(s: app.Shsync) -> dict[str, Any]:
            now = s.judge_now()
            steps = [x for x in s.runbook_steps(which) if not overdue or x.overdue(now)]
            pending = [x for x in steps if x.state == "pending"]
            return {"practice": practice, "now": now, "pending": len(pending),
                    "overdue": sum(x.overdue(now) for x in pending),
                    "steps": [x.to_dict(now) for x in steps]}
        return await call(request, practice, token, "read", "reading the runbook", job)

    @api.post(P + "/runbook/done", response_model=Entry, responses=ERRORS, tags=["runbook"])
    async def steps_done(practice: str, body: DoneIn, request: Request, token: Token,
                         act_as: ActAs = None) -> Entry:
        """Record that runbook steps were carried out in Sessions Health, as the token's
        identity (an administrator: any step; a member: only their own), in one audit entry
        of kind `done`; or nothing, when any of them is refused."""
        entry = await call(request, practice, token, "apply", "recording runbook steps",
                           lambda s: s.done(body.steps, body.note), act_as)
        return Entry(audit_entry=entry.to_dict())

    @api.post(P + "/runbook/{step_id}/done", response_model=Entry, responses=ERRORS,
              tags=["runbook"])
    async def step_done(practice: str, step_id: Annotated[str, FastPath(max_length=100)],
                        request: Request, token: Token, body: NoteIn | None = None,
                        act_as: ActAs = None) -> Entry:
        """Record that one runbook step (`R-17`) was carried out, with an optional note, as
        `POST /runbook/done` does."""
        note = body.note if body is not None else None
        entry = await call(request, practice, token, "apply", "recording runbook steps",
                           lambda s: s.done([step_id], note), act_as)
        return Entry(audit_entry=entry.to_dict())

    @api.get(P + "/runbook/page", include_in_schema=False)
    async def runbook_page(practice: str) -> Response:
        """The checklist page: static, holding no data, so it needs no token; the script in it
        asks for one and sends it with every call it makes (shsync/server/checklist.py)."""
        return checklist.response()

    @api.post(P + "/seed", response_model=Entry, responses=ERRORS, tags=["changes"],
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {"type": "object"}}}}})
    async def seed(practice: str, request: Request, token: Token) -> Entry:
        """Load an empty practice (the live state as GET /state gives it, JSON)."""
        body = await _body(request)
        kind = bodies.media_type(request.headers.get("content-type"))

        def job(s: app.Shsync) -> Entry:
            if kind != "application/json":  # after the token is checked: 401 comes first
                raise UserError("send the state as application/json (as GET /state gives it), "
                                f"not {(kind or 'no content type')[:80]}",
                                "unsupported-media-type")
            try:
                state = state_from_dict(json.loads(body))
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
                raise bodies.BodyError("the body is not a practice state (as GET /state "
                                       "gives it)") from None
            return Entry(audit_entry=s.seed_state(state).to_dict())
        return await call(request, practice, token, "admin", "seeding", job)


if __name__ == "__main__":
    import sys

    sys.stdout.write(openapi_document())
