"""Operations: the steps of a plan, each a small frozen value with a known shape.

What an operation may be is the action registry's business (`shsync.core.actions`); this
module reads the value (`shsync.core.operation`) back from a plan file against the registry, so a
hand-edited operation is refused rather than guessed at: unknown actions, missing or extra
parameters, and values of the wrong type or shape (a role that is not a role, an address that
is not an address) never reach a store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from shsync.core.actions import ACTIONS, COSIGN, ORDER, ROLES, UPDATABLE, Phase, phase
from shsync.core.operation import Operation
from shsync.errors import InvalidOperation
from shsync.model.vocabulary import (
    APPROVAL_KINDS, CLIENT_ID_PATTERN, DEADLINE_KINDS, EMAIL_MAX, EMAIL_PATTERN,
    MAX_BREAK_GLASS_MINUTES, MAX_DEADLINE_MINUTES, NAME_MAX, PRACTICE_NAME_MAX, REASON_MAX,
)  # fmt: skip

__all__ = ["ACTIONS", "UPDATABLE", "InvalidOperation", "Operation", "Phase", "from_dict",
           "in_order", "op", "sort_key", "to_dict"]

ACTION_ORDER = {name: i for i, name in enumerate(ORDER)}
# The format's own patterns; a plan holds emails lowercased, as the planner writes them.
_EMAIL = re.compile(EMAIL_PATTERN.replace("A-Za-z", "a-z"))
_CLIENT_ID = re.compile(CLIENT_ID_PATTERN)
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_FIELD_VALUE = {"first_name": "name", "last_name": "name", "npi": "str?", "taxonomy": "str?"}
_LIMITS = {"str": EMAIL_MAX, "name": NAME_MAX, "practice_name": PRACTICE_NAME_MAX}


def sort_key(o: Operation) -> tuple[int, int, str, str]:
    return (phase(o), ACTION_ORDER[o.action], o.target, repr(o.params))


def to_dict(o: Operation) -> dict[str, Any]:
    """An operation as a plan file and the audit log hold it; `escalation` marks a widening."""
    action = ACTIONS[o.action]  # once per step: a plan's hash makes 200k of these at L
    out: dict[str, Any] = {"action": o.action, "target": o.target}
    for key, value in o.params:
        if key == "changes":
            out[key] = {name: list(pair) for name, pair in value}
        elif action.params.get(key) in ("approvals", "deadlines"):
            out[key] = dict(value)
        else:
            out[key] = list(value) if isinstance(value, tuple) else value
    if action.widens(o):
        out["escalation"] = True
    return out


def in_order(operations: Iterable[Operation]) -> list[Operation]:
    """`sorted(operations, key=sort_key)`, with the parameters' repr (the key's last
    part, 1.2 of its 1.4 microseconds) made only for steps that tie on everything before it:
    a plan of 200k steps is sorted twice, and few steps share an action and a target."""
    items = list(operations)
    heads = [(phase(o), ACTION_ORDER[o.action], o.target) for o in items]
    order = sorted(range(len(items)), key=heads.__getitem__)
    out = [items[i] for i in order]
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and heads[order[end]] == heads[order[start]]:
            end += 1
        if end - start > 1:
            out[start:end] = sorted(out[start:end], key=lambda o: repr(o.params))
        start = end
    return out


def op(action: str, target: str, **params: Any) -> Operation:
    """Build an operation, parameters in the registry's order."""
    names = ACTIONS[action].params
    return Operation(action, target, tuple([(k, params[k]) for k in names if k in params]))


def _text(value: Any, limit: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit and value.isprintable()


def is_instant(value: Any) -> bool:
    """A time as shsync writes it (shsync.model.clock.iso), `2026-11-26T12:00:00Z`, and a real one:
    not `2026-02-30T99:00:00Z`, nor with a newline after it (which `$` lets through). Plans and
    stores hold no other, so instants compare as text."""
    if not (isinstance(value, str) and _TIME.fullmatch(value)):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True


def _ok(kind: str, value: Any) -> bool:
    if kind == "email":
        return isinstance(value, str) and len(value) <= EMAIL_MAX and bool(_EMAIL.match(value))
    if kind in _LIMITS:
        return _text(value, _LIMITS[kind])
    if kind == "time":
        return is_instant(value)
    if kind == "text":
        return isinstance(value, str) and 0 < len(value) <= REASON_MAX and value.isprintable()
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31
    if kind == "role":
        return value in ROLES
    if kind == "status":
        return value in ("invited", "active")
    if kind == "who":  # who may break glass: roles, admin, or members' emails
        return (isinstance(value, list) and 0 < len(value) <= 50
                and len(set(map(str, value))) == len(value)
                and all(v in ROLES or v == "admin" or _ok("email", v) for v in value))
    if kind == "minutes":  # the longest emergency access: a minute to a week
        return _ok("int", value) and 1 <= value <= MAX_BREAK_GLASS_MINUTES
    if kind in ("roles", "cosign", "emails"):
        allowed = {"roles": ROLES, "cosign": COSIGN}.get(kind)
        return (isinstance(value, list) and len(set(map(str, value))) == len(value)
                and all(_ok("email", v) if allowed is None else v in allowed for v in value))
    return False


def _field_ok(name: str, value: Any) -> bool:
    kind = _FIELD_VALUE[name]
    return (value is None and kind.endswith("?")) or _ok(kind.rstrip("?"), value)


def _check(kind: str, value: Any) -> Any:
    optional = kind.endswith("?")
    if value is None and optional:
        return None
    base = kind.rstrip("?")
    if base == "changes":
        ok = isinstance(value, dict) and bool(value) and all(
            k in UPDATABLE and isinstance(v, list) and len(v) == 2
            and all(_field_ok(k, x) for x in v) for k, v in value.items())
        if ok:
            return tuple(sorted((k, tuple(v)) for k, v in value.items()))
    elif base == "approvals":
        if isinstance(value, dict) and all(
                k in APPROVAL_KINDS and _ok("int", n) and 0 < n <= 20 for k, n in value.items()):
            return tuple(sorted(value.items()))
    elif base == "deadlines":  # only the kinds that differ from the defaults, in minutes
        if isinstance(value, dict) and all(
                k in DEADLINE_KINDS and _ok("int", n) and 1 <= n <= MAX_DEADLINE_MINUTES
                for k, n in value.items()):
            return tuple(sorted(value.items()))
    elif _ok(base, value):
        return tuple(value) if isinstance(value, list) else value
    raise InvalidOperation(f"expected {kind}, got {value!r}"[:300])


def _target_ok(action: str, target: Any) -> bool:
    kind = ACTIONS[action].kind
    if kind == "client":
        return isinstance(target, str) and bool(_CLIENT_ID.match(target))
    if kind == "practice":
        return isinstance(target, str) and target == "practice"
    return _ok("email", target)


def from_dict(data: Any) -> Operation:
    """Read one operation from a plan file, refusing anything not in the registry."""
    if not isinstance(data, dict):
        raise InvalidOperation("an operation must be an object")
    action = data.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise InvalidOperation(f"unknown action {action!r}"[:300])
    target = data.get("target")
    if not _target_ok(action, target):
        raise InvalidOperation(f"{action}: the target {target!r} is not a valid "
                               f"{ACTIONS[action].kind}"[:300])
    names = ACTIONS[action].params
    extra = set(data) - set(names) - {"action", "target", "escalation", "waits_for"}
    if extra:
        raise InvalidOperation(f"{action}: unexpected {', '.join(sorted(map(str, extra)))}"[:300])
    params = []
    for name, kind in names.items():
        if name not in data and not kind.endswith("?"):
            raise InvalidOperation(f"{action} {target}: {name} is missing")
        if name not in data:
            continue
        try:
            params.append((name, _check(kind, data.get(name))))
        except InvalidOperation as exc:
            raise InvalidOperation(f"{action} {target}: {name}: {exc}") from None
    return Operation(action, cast(str, target), tuple(params))  # _target_ok: a str
