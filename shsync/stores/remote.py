"""A practice kept by `shsync serve`: `https://HOST/practices/NAME` with `SHSYNC_TOKEN`.

Every CLI command works unchanged against it: reads come from the server, and every change is
made by the server's own store, inside its transaction, with the token's identity and the
server's clock. A plan is applied only as a plan the server keeps: `apply` first hands the plan
to the server (which stores it, with the token's member as its author, or finds it stored
already) and then applies it by its id, so it passes the same checks and approvals as a plan
the server made. Plain `http://` is refused except on loopback; the token is never printed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from shsync.core import runbook
from shsync.core.entry import AuditEntry
from shsync.core.runbook import Step
from shsync.stores.base import EntryCheck, Progress
from shsync.stores.url import is_loopback
from shsync.errors import (
    CODES,
    BackendError,
    Forbidden,
    InvalidPlan,
    NoSuchPlan,
    NothingToApply,
    Refused,
    RemoteError,
    ShsyncError,
    UserError,
    class_of,
)  # fmt: skip
from shsync.core.authorize import Actor
from shsync.core.approvals import StoredPlan, is_plan_id
from shsync.core.plan import Plan, canonical, from_file
from shsync.core.state import PracticeState, fingerprint, state_from_dict, state_to_dict
from shsync.core.tokens import PRACTICE_NAME

TOKEN_ENV = "SHSYNC_TOKEN"
_TOKEN_TEXT = re.compile(r"[\x21-\x7e]{1,512}")  # what may stand in a header, unquoted
PLAN_TYPE = "application/vnd.shsync.plan+json"
_PATH = re.compile(r"^(?P<prefix>(?:/[^/]+)*)/practices/"
                   rf"(?P<practice>{PRACTICE_NAME.pattern})/?$")
# A server's problem of a code the table gives no class of its own (or one this version does not
# know) is the caller's mistake for these statuses, and otherwise the server's failure or refusal.
_USER_STATUSES = (400, 413, 415, 422)


def parse(url: str) -> tuple[str, str]:
    """(the server's base URL, the practice) of `https://HOST[:PORT][/PREFIX]/practices/NAME`."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise BackendError("the server URL is malformed", "bad-backend-url") from None
    shown = f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    if parts.username or parts.password:
        raise BackendError(f"the server URL {shown}/... carries credentials: give the token in "
                           f"{TOKEN_ENV} instead", "bad-backend-url")
    if parts.query or parts.fragment:  # not shown: a query is where secrets end up
        raise BackendError(f"the server URL {shown}{parts.path[:100]} carries a query string or "
                           "a fragment (not shown): give it as https://HOST/practices/NAME, "
                           f"and the token in {TOKEN_ENV}", "bad-backend-url")
    match = _PATH.match(parts.path)
    if match is None or not parts.hostname:
        raise BackendError(f"the server URL {shown}{parts.path[:100]} is not "
                           "https://HOST/practices/NAME", "bad-backend-url")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise BackendError(f"{shown}: plain http is allowed only on loopback (127.0.0.1, ::1, "
                           "localhost); use https", "bad-backend-url")
    if parts.scheme not in ("http", "https"):
        raise BackendError("the server URL is not http(s)", "bad-backend-url")
    base = f"{parts.scheme}://{parts.netloc}{match.group('prefix')}"
    return base, match.group("practice")


_LEADS = ("nothing was applied", "nothing was recorded")

class RemoteBackend:
    """The Backend protocol, carried out by a server."""

    def __init__(self, url: str, *, token: str | None = None, create: bool = False,
                 timeout: float = 300.0, transport: httpx.BaseTransport | None = None):
        base, self.practice = parse(url)
        self.display_url = url
        self._create = create
        secret = (token if token is not None else os.environ.get(TOKEN_ENV, "")).strip()
        if not secret:
            raise UserError(f"{url} is a server: set {TOKEN_ENV} to a token from `shsync token "
                            "create`", "no-token")
        if not _TOKEN_TEXT.fullmatch(secret):
            # Never echoed: a token pasted with a stray line ending is still a valid secret.
            raise UserError(f"{TOKEN_ENV} is not a token: it holds a space, a line break, a "
                            "control character or a character outside ASCII, or is over 512 "
                            "characters (the value is not shown)", "bad-token")
        self._secret = secret
        self._client = httpx.Client(
            base_url=f"{base}/practices/{self.practice}", timeout=timeout, transport=transport,
            headers={"Authorization": f"Bearer {secret}", "User-Agent": "shsync-remote"})
        try:
            me = self._call("GET", "/whoami")
        except BaseException:
            self._client.close()
            raise
        self.identity = (Actor.operator(me["actor"]) if me["operator"]
                         else Actor.member(me["actor"]))

    # --- the protocol ---------------------------------------------------------------------
    def read(self) -> PracticeState:
        return state_from_dict(self._call("GET", "/state"))

    def read_fingerprinted(self) -> tuple[PracticeState, str]:
        """Hashed here: the server checks every apply against its own store anyway."""
        live = self.read()
        return live, fingerprint(live)

    def history(self, after: int = 0, limit: int | None = None) -> list[AuditEntry]:
        if not after and limit is None:
            found = self._call("GET", "/history", params={"details": "true"})["entries"]
            return [_entry(e) for e in found]
        # The server's pages (its cursor), followed to the end or to `limit`.
        entries: list[AuditEntry] = []
        cursor = int(after)
        while limit is None or len(entries) < limit:
            want = 1000 if limit is None else min(1000, limit - len(entries))
            page = self._call("GET", "/history", params={"details": "true", "after": str(cursor),
                                                         "limit": str(want)})
            entries += [_entry(e) for e in page["entries"]]
            following = page.get("next")
            if not isinstance(following, int) or following <= cursor:
                break
            cursor = following
        return entries

    def anchored_history(self) -> tuple[list[AuditEntry], tuple[int, str] | None]:
        """No anchor over HTTP: the server's own `GET /history?verify=true` compares it."""
        return self.history(), None

    def seed(self, state: PracticeState, *, actor: Actor | None = None,
             now: str | None = None, kind: str = "seed") -> AuditEntry:
        if kind != "seed":
            raise UserError(f"`shsync {kind}` runs against the store itself (sqlite:///... or "
                            "postgresql://...), not through a server", "usage")
        return _entry(self._call("POST", "/seed", json=state_to_dict(state),
                                 actor=actor)["audit_entry"])

    def apply(self, plan: Plan, *, actor: Actor, now: str,
              progress: Progress | None = None) -> AuditEntry:
        """Hand the plan to the server to keep, then apply the kept plan by its id."""
        if plan.errors:
            raise Refused([f"[{e.code}] {e.message}" for e in plan.errors], "plan-has-errors")
        stored = self._call("POST", "/plans", content=plan.to_file().encode(),
                            headers={"Content-Type": PLAN_TYPE}, actor=actor)
        return self.apply_stored(stored["id"], actor)

    def apply_stored(self, plan_id: str, actor: Actor | None = None) -> AuditEntry:
        found = self._call("POST", f"/plans/{plan_id}/apply", actor=actor)["audit_entry"]
        if found is None:  # the server's store checked it and recorded nothing, as ours do
            raise NothingToApply("no changes to apply; nothing was recorded")
        return _entry(found)

    def save_plan(self, plan: Plan, *, author: str | None, now: str) -> StoredPlan:
        """The server keeps the plan (its author is the token's identity, which the server
        checks against the plan's actor)."""
        if plan.errors:
            raise Refused([f"[{e.code}] {e.message}" for e in plan.errors], "plan-has-errors")
        return _stored(self._call("POST", "/plans", content=plan.to_file().encode(),
                                  headers={"Content-Type": PLAN_TYPE},
                                  actor=Actor.member(author) if author else None))

    def stored_plan(self, plan_id: str) -> StoredPlan:
        return _stored(self._call("GET", f"/plans/{self._plan_path(plan_id)}"))

    def stored_plans(self) -> list[StoredPlan]:
        return [_stored(p) for p in self._call("GET", "/plans")]

    def approve(self, plan_id: str, *, approver: Actor, now: str) -> StoredPlan:
        """Approved as the token's own member: a server takes an approval from no one else."""
        me = self._me()
        if approver != me:
            raise Forbidden(f"approvals through a server come from the approver's own token; "
                            f"this token acts as {me.name if me else '?'}, not "
                            f"{approver.email or 'the operator'}", "forbidden")
        return _stored(self._call("POST", f"/plans/{self._plan_path(plan_id)}/approve"))

    def _plan_path(self, plan_id: str) -> str:
        """A plan id as a path segment; anything that is not one is no plan, asked of no one."""
        if not is_plan_id(plan_id):
            raise NoSuchPlan(f"no stored plan {plan_id[:40]!r} in practice {self.practice!r} "
                             "(`shsync plans` lists them)")
        return quote(plan_id, safe="")

    def record(self, kind: str, *, actor: Actor, now: str,
               details: EntryCheck) -> AuditEntry:
        """The check runs here once to say what to ask for; the server's store runs the same
        check again inside its own transaction."""
        if kind != "review":
            raise UserError(f"a server records {kind!r} entries only through its own "
                            "endpoints", "usage")
        asked = details(self.history(), self.read())
        body = {"entry": asked["entry"], "note": asked["note"]}
        return _entry(self._call("POST", "/reviews", json=body, actor=actor)["audit_entry"])

    def runbook_steps(self, *, pending_only: bool = False) -> list[Step]:
        found = self._call("GET", "/runbook", params={"all": "false" if pending_only
                                                       else "true"})
        try:
            return [runbook.from_dict(d) for d in found["steps"]]
        except (ValueError, KeyError, TypeError):
            raise BackendError(f"{self.display_url} answered with a runbook shsync cannot "
                               "read") from None

    def confirm_steps(self, ids: Sequence[int], *, how: str, actor: Actor, now: str,
                      note: str | None = None) -> AuditEntry:
        """Done through the server's own endpoint, as the token's identity; a server records
        observed steps through its own refresh."""
        if how != "done":
            raise UserError("a server records observed steps through its own refresh", "usage")
        body = {"steps": [runbook.label(i) for i in ids], "note": note}
        return _entry(self._call("POST", "/runbook/done", json=body,
                                 actor=actor)["audit_entry"])

    def close(self) -> None:
        self._client.close()

    # --- the wire -------------------------------------------------------------------------
    def _call(self, method: str, path: str, *, actor: Actor | None = None,
              **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if actor is not None and actor.email is not None and actor != self._me():
            headers["X-Shsync-Actor"] = actor.email
        try:
            response = self._client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            said = str(exc).replace(self._secret, "shs_...")[:200]  # a header may be quoted
            raise BackendError(f"cannot reach {self.display_url}: {type(exc).__name__}"
                               f"{': ' + said if said else ''}") from None
        if response.status_code >= 400:
            raise self._problem(response)
        try:
            return response.json()
        except ValueError:
            raise BackendError(f"{self.display_url} answered {response.status_code} without "
                               "JSON") from None

    def _me(self) -> Actor | None:
        return getattr(self, "identity", None)

    def _problem(self, response: httpx.Response) -> ShsyncError:
        try:
            body = response.json()
            code, detail = str(body["code"]), str(body["detail"])
        except (ValueError, KeyError, TypeError):
            return BackendError(f"{self.display_url} answered {response.status_code}")
        if code == "no-practice" and self._create:
            code = "backend"
        cls = class_of(code, UserError if response.status_code in _USER_STATUSES
                       else RemoteError)
        if issubclass(cls, Refused):  # a store's refusal, with every reason in `errors`
            reasons = [str(e.get("message")) for e in body.get("errors") or []
                       if isinstance(e, dict)]
            # The server's lead ("nothing was recorded" for a step), when it is one of ours
            lead = next((x for x in _LEADS if detail.startswith(x + ": ")), _LEADS[0])
            return Refused(reasons or [detail.removeprefix(lead + ": ")], code, lead=lead)
        if code not in CODES:  # a code this version does not know: the server's word, kept as sent
            error = cls(detail)
            error.code = code
            return error
        return cls(detail, code)


def _entry(data: dict[str, Any]) -> AuditEntry:
    return AuditEntry(**data)


def _stored(data: dict[str, Any]) -> StoredPlan:
    """A stored plan as the server sent it; its plan is read as strictly as a plan file."""
    try:
        body = data["plan"]
        plan = from_file(json.dumps({**body, "plan_hash": "sha256:" + hashlib.sha256(
            canonical(body).encode()).hexdigest()}))
        return StoredPlan(str(data["id"]), plan, data.get("author"), str(data["created_at"]),
                          tuple((str(a["by"]), str(a["at"])) for a in data["approvals"]),
                          int(data["required"]),
                          None if data.get("applied_entry") is None
                          else int(data["applied_entry"]),
                          None if data.get("refused_at") is None else str(data["refused_at"]),
                          data.get("status") == "stale")
    except (KeyError, TypeError, ValueError, InvalidPlan) as exc:
        raise BackendError(f"the server sent a stored plan that cannot be read: "
                           f"{type(exc).__name__}") from None
