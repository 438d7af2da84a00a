"""Operations: the steps of a plan, each a small frozen value with a known shape.

`ACTIONS` is the single table of what an operation may be: its phase in the plan's order, and
the parameters it carries with their types. Plan files are read back against this table, so a
hand-edited operation is refused rather than guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class Phase(IntEnum):
    """The order of a plan. Each phase only needs what earlier phases set up."""

    INVITE = 0  # new members exist, with their roles, before anyone points at them
    GRANT = 1  # roles, admin and member settings that add or change, never take away
    SUPERVISE = 2  # supervisees move (or are cleared) before a supervisor loses role or leaves
    CLIENTS = 3  # clients and grants move before a practitioner loses role or leaves
    HANDOFF = 4  # incomplete notes move before their author leaves
    REVOKE = 5  # roles and admin taken away once nobody depends on them
    REMOVE = 6  # members leave last


_EMAIL, _STR, _BOOL, _INT = "email", "str", "bool", "int"
_OPT_EMAIL, _OPT_STR, _ROLES, _EMAILS = "email?", "str?", "roles", "emails"

ACTIONS: dict[str, tuple[Phase, dict[str, str]]] = {
    "invite_member": (Phase.INVITE, {
        "first_name": _STR, "last_name": _STR, "roles": _ROLES, "admin": _BOOL, "npi": _OPT_STR,
        "taxonomy": _OPT_STR, "billing_access": _BOOL, "full_clinical_access": _BOOL}),
    "update_member": (Phase.GRANT, {"changes": "changes"}),
    "grant_role": (Phase.GRANT, {"role": _STR}),
    "set_admin": (Phase.GRANT, {"admin": _BOOL}),  # admin: false is moved to REVOKE
    "set_billing_access": (Phase.GRANT, {"billing_access": _BOOL}),
    "set_full_clinical_access": (Phase.GRANT, {"full_clinical_access": _BOOL}),
    "set_supervisor": (Phase.SUPERVISE, {"supervisor": _OPT_EMAIL, "previous": _OPT_EMAIL}),
    "create_client": (Phase.CLIENTS, {"practitioner": _EMAIL, "access": _EMAILS,
                                      "supervisor": _OPT_EMAIL}),
    "reassign_client": (Phase.CLIENTS, {"practitioner": _EMAIL, "previous": _EMAIL}),
    "set_client_supervisor": (Phase.CLIENTS, {"supervisor": _OPT_EMAIL,
                                              "previous": _OPT_EMAIL}),
    "grant_access": (Phase.CLIENTS, {"member": _EMAIL}),
    "revoke_access": (Phase.CLIENTS, {"member": _EMAIL}),
    "handoff_notes": (Phase.HANDOFF, {"to": _EMAIL, "count": _INT}),
    "revoke_role": (Phase.REVOKE, {"role": _STR}),
    "remove_member": (Phase.REMOVE, {"cancel_appointments": _INT}),
}
ACTION_ORDER = {name: i for i, name in enumerate(ACTIONS)}
UPDATABLE = ("first_name", "last_name", "npi", "taxonomy")
CLIENT_ACTIONS = frozenset({"create_client", "reassign_client", "set_client_supervisor",
                            "grant_access", "revoke_access"})


@dataclass(frozen=True, slots=True)
class Operation:
    action: str
    target: str  # a member's email, or a client's id for client actions
    params: tuple[tuple[str, Any], ...] = ()
    after: str | None = None  # a precondition outside shsync: "after x accepts the invitation"

    def get(self, name: str, default: Any = None) -> Any:
        for key, value in self.params:
            if key == name:
                return value
        return default

    @property
    def phase(self) -> Phase:
        if self.action == "set_admin" and not self.get("admin"):
            return Phase.REVOKE
        return ACTIONS[self.action][0]

    @property
    def on_client(self) -> bool:
        return self.action in CLIENT_ACTIONS

    @property
    def escalation(self) -> bool:
        """Does this step widen anyone's access? Reviewers see these flagged in every format."""
        a = self.action
        if a in ("grant_access", "reassign_client", "grant_role"):
            return True
        if a in ("set_admin", "set_full_clinical_access", "set_billing_access"):
            return bool(self.params[0][1])
        if a == "invite_member":  # roles that open every client, not just one's own
            return bool(self.get("admin") or self.get("full_clinical_access")
                        or {"scheduler", "biller"} & set(self.get("roles")))
        if a in ("set_supervisor", "set_client_supervisor"):
            return self.get("supervisor") is not None
        if a == "create_client":
            return bool(self.get("access"))
        return False

    def sort_key(self) -> tuple[int, int, str, str]:
        return (self.phase, ACTION_ORDER[self.action], self.target, repr(self.params))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "target": self.target}
        for key, value in self.params:
            if key == "changes":
                out[key] = {name: list(pair) for name, pair in value}
            else:
                out[key] = list(value) if isinstance(value, tuple) else value
        if self.after:
            out["after"] = self.after
        if self.escalation:
            out["escalation"] = True
        return out


def op(action: str, target: str, after: str | None = None, **params: Any) -> Operation:
    """Build an operation, parameters in the table's order."""
    names = ACTIONS[action][1]
    return Operation(action, target, tuple((k, params[k]) for k in names if k in params), after)


class InvalidOperation(ValueError):
    pass


def _check(kind: str, value: Any) -> Any:
    optional = kind.endswith("?")
    if value is None and optional:
        return None
    base = kind.rstrip("?")
    if base in ("email", "str"):
        ok = isinstance(value, str) and value != "" and len(value) <= 254
    elif base == "bool":
        ok = isinstance(value, bool)
    elif base == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    elif base in ("roles", "emails"):
        ok = isinstance(value, list) and all(isinstance(v, str) and v for v in value)
        value = tuple(value) if ok else value
    elif base == "changes":
        ok = isinstance(value, dict) and bool(value) and all(
            k in UPDATABLE and isinstance(v, list) and len(v) == 2 for k, v in value.items())
        value = tuple(sorted((k, tuple(v)) for k, v in value.items())) if ok else value
    else:
        ok = False
    if not ok:
        raise InvalidOperation(f"expected {kind}, got {value!r}")
    return value


def from_dict(data: Any) -> Operation:
    """Read one operation from a plan file, refusing anything not in the table."""
    if not isinstance(data, dict):
        raise InvalidOperation("an operation must be an object")
    action = data.get("action")
    if action not in ACTIONS:
        raise InvalidOperation(f"unknown action {action!r}")
    target = data.get("target")
    if not isinstance(target, str) or not target:
        raise InvalidOperation(f"{action}: a target is required")
    names = ACTIONS[action][1]
    extra = set(data) - set(names) - {"action", "target", "after", "escalation"}
    if extra:
        raise InvalidOperation(f"{action}: unexpected {', '.join(sorted(extra))}")
    params = []
    for name, kind in names.items():
        if name not in data and not kind.endswith("?"):
            raise InvalidOperation(f"{action} {target}: {name} is missing")
        try:
            params.append((name, _check(kind, data.get(name))))
        except InvalidOperation as exc:
            raise InvalidOperation(f"{action} {target}: {name}: {exc}") from None
    after = data.get("after")
    if after is not None and not isinstance(after, str):
        raise InvalidOperation(f"{action} {target}: after must be text")
    return Operation(action, target, tuple(params), after)
