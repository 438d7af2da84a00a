"""A plan: an immutable, serialisable value with a canonical JSON form and a hash.

The JSON form is the documented `shsync plan --format json` output and the saved plan file alike.
A saved plan is bound to its practice and to the fingerprint of the live state it was made from,
and carries a sha256 over its own content, so apply refuses an edited, stale or foreign plan.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from shsync.core.access import AccessChange
from shsync.core.operations import Operation, from_dict, to_dict
from shsync.errors import InvalidPlan

FORMAT_VERSION = 2
KIND = "shsync-plan"


@dataclass(frozen=True, slots=True)
class Message:
    """A plan-level error or warning; names members and client ids, never anything else."""

    code: str
    message: str
    location: str | None = None  # FILE:LINE:COL, for what validation found in the org file

    def to_dict(self) -> dict[str, str]:
        out = {"code": self.code, "message": self.message}
        if self.location:
            out["location"] = self.location
        return out


@dataclass(frozen=True, slots=True)
class Deferred:
    """A step that waits until `waits_for` accepts their invitation; planned again after."""

    operation: Operation
    waits_for: str

    def to_dict(self) -> dict[str, object]:
        return {**to_dict(self.operation), "waits_for": self.waits_for}


@dataclass(frozen=True, slots=True)
class Summary:
    invite: int = 0
    change: int = 0
    remove: int = 0
    clients: int = 0  # clients created or changed
    seats_before: int = 0
    seats_after: int = 0

    def to_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}

    def line(self) -> str:
        return (f"Plan: {self.invite} to invite, {self.change} to change, {self.remove} to "
                f"remove, {self.clients} client(s) to update. "
                f"Practitioner seats: {self.seats_before} -> {self.seats_after}.")


@dataclass(frozen=True)
class Plan:
    practice: str
    fingerprint: str
    operations: tuple[Operation, ...]
    summary: Summary
    warnings: tuple[Message, ...] = ()
    errors: tuple[Message, ...] = ()
    statuses: tuple[tuple[str, str], ...] = ()  # (email, invited|active|new) of members touched
    created_at: str = ""
    actor: str | None = None  # the member it was planned for; None: the operator
    access_changes: tuple[AccessChange, ...] = ()
    deferred: tuple[Deferred, ...] = ()
    practice_name: str | None = None  # the practice's display name after the plan
    kind: str = "apply"  # apply | accepted | refresh | break_glass | expire: the audit kind

    @property
    def has_changes(self) -> bool:
        return bool(self.operations)

    @property
    def drift(self) -> bool:
        """Anything left to do, now or once someone accepts, or emergency access the file does
        not hold until it ends (`--detailed-exitcode`)."""
        return bool(self.operations or self.deferred
                    or any(w.code == "break-glass" for w in self.warnings))

    @property
    def applicable(self) -> bool:
        return not self.errors

    @cached_property
    def _status_map(self) -> dict[str, str]:
        return dict(self.statuses)

    def status_of(self, email: str) -> str | None:
        return self._status_map.get(email)

    def to_dict(self) -> dict[str, Any]:
        return self._fields([to_dict(o) for o in self.operations])  # fresh: callers may edit

    @functools.cached_property
    def operation_dicts(self) -> tuple[dict[str, Any], ...]:
        """Each step's JSON form, made once for the plan's hash and its audit entry (at L, 200k
        steps; each `to_dict` pass cost 0.8 s). Shared, so never to be edited."""
        return tuple(to_dict(o) for o in self.operations)

    @functools.cached_property
    def operations_json(self) -> str:
        """The steps in canonical JSON, made once for the plan's hash and its audit entry."""
        return canonical(list(self.operation_dicts))

    def _fields(self, changes: Any) -> dict[str, Any]:
        return {
            "kind": KIND,
            "format_version": FORMAT_VERSION,
            "plan_kind": self.kind,
            "practice": self.practice,
            "practice_name": self.practice_name,
            "fingerprint": self.fingerprint,
            "created_at": self.created_at,
            "actor": self.actor,
            "summary": self.summary.to_dict(),
            "errors": [m.to_dict() for m in self.errors],
            "warnings": [m.to_dict() for m in self.warnings],
            "statuses": dict(self.statuses),
            "changes": changes,
            "deferred": [d.to_dict() for d in self.deferred],
            "access_changes": [a.to_dict() for a in self.access_changes],
        }

    def digest(self) -> str:
        return self._digest

    @functools.cached_property
    def _digest(self) -> str:
        # A plan is frozen, so its hash is computed once (a store asks for it twice per apply,
        # and at L that is 0.3 s each).
        text = canonical_with(self._fields(None), {"changes": self.operations_json})
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    def to_file(self) -> str:
        """The saved plan: the JSON form plus a hash over it."""
        return json.dumps({**self.to_dict(), "plan_hash": self.digest()}, indent=1) + "\n"


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def canonical_with(value: Mapping[str, Any], ready: Mapping[str, str]) -> str:
    """`canonical(value)`, taking the keys in `ready` from their canonical text as given: a
    large part serialised once serves several hashes. Equal text, key by key, to `canonical`
    (tests/core/test_plan_file.py checks it with generated values)."""
    return "{" + ",".join(
        f"{canonical(key)}:{ready[key] if key in ready else canonical(item)}"
        for key, item in sorted(value.items())) + "}"


def _messages(data: Any, field: str) -> tuple[Message, ...]:
    items = data.get(field, [])
    if not isinstance(items, list) or not all(
            isinstance(m, dict) and isinstance(m.get("code"), str)
            and isinstance(m.get("message"), str) for m in items):
        raise InvalidPlan(f"{field} is malformed")
    return tuple(Message(m["code"], m["message"], m.get("location")) for m in items)


def _access_changes(data: Any) -> tuple[AccessChange, ...]:
    items = data.get("access_changes", [])
    if not isinstance(items, list):
        raise InvalidPlan("access_changes is malformed")
    changes = []
    for a in items:
        if not isinstance(a, dict):
            raise InvalidPlan("access_changes is malformed")
        changes.append(AccessChange(
            member=str(a["member"]), change=str(a["change"]),
            capabilities=tuple(str(c) for c in a["capabilities"]), reason=str(a["reason"]),
            clients=tuple(str(c) for c in a["clients"]), client_count=int(a["client_count"]),
            all_clients=bool(a["all_clients"])))
    return tuple(changes)


def _deferred(data: Any) -> Deferred:
    if not isinstance(data, dict) or not isinstance(data.get("waits_for"), str):
        raise InvalidPlan("deferred is malformed")
    return Deferred(from_dict({k: v for k, v in data.items() if k != "waits_for"}),
                    data["waits_for"])


def _plan_kind(value: Any) -> str:
    if value not in ("apply", "accepted", "refresh", "break_glass", "expire"):
        raise InvalidPlan(f"unknown plan_kind {value!r}"[:200])
    return str(value)


def from_file(text: str) -> Plan:
    """Read a saved plan, checking its kind, format version and hash before anything else."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidPlan(f"not a plan file: {exc}", "not-a-plan") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise InvalidPlan("not a shsync plan file", "not-a-plan")
    if data.get("format_version") != FORMAT_VERSION:
        raise InvalidPlan(f"plan format version {data.get('format_version')!r} is not supported "
                          f"(this shsync reads version {FORMAT_VERSION})", "plan-format-version")
    claimed = data.pop("plan_hash", None)
    if claimed != "sha256:" + hashlib.sha256(canonical(data).encode()).hexdigest():
        raise InvalidPlan("the plan's hash does not match its content: it was edited or damaged "
                          "after it was made; make a new plan", "plan-hash-mismatch")
    try:
        summary = Summary(**{k: int(v) for k, v in data["summary"].items()})
        operations = tuple(from_dict(o) for o in data["changes"])
        deferred = tuple(_deferred(d) for d in data.get("deferred", []))
        statuses = data.get("statuses", {})
        plan = Plan(
            practice=str(data["practice"]), fingerprint=str(data["fingerprint"]),
            operations=operations, summary=summary,
            warnings=_messages(data, "warnings"), errors=_messages(data, "errors"),
            statuses=tuple(sorted((str(k), str(v)) for k, v in statuses.items())),
            created_at=str(data.get("created_at", "")),
            actor=None if data.get("actor") is None else str(data["actor"]),
            access_changes=_access_changes(data), deferred=deferred,
            practice_name=None if data.get("practice_name") is None
            else str(data["practice_name"]),
            kind=_plan_kind(data.get("plan_kind")),
        )
    except InvalidPlan:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError,
            OverflowError) as exc:
        raise InvalidPlan(f"the plan is malformed: {exc}"[:500]) from None
    if plan.to_dict() != data:
        raise InvalidPlan("the plan holds fields this shsync does not write")
    return plan
