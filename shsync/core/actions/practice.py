"""The practice itself: its name, its approvals policy (shsync's two-person rule) and the
deadlines of its runbook steps."""

from __future__ import annotations

from typing import Any

from shsync.core.actions.registry import PRACTICE, Action, Phase, register
from shsync.core.operation import Operation
from shsync.core.working import Working
from shsync.model.clock import span_minutes, span_text
from shsync.model.vocabulary import DEFAULT_DEADLINES

DEFAULT_DEADLINE_MINUTES = tuple((k, span_minutes(v)) for k, v in DEFAULT_DEADLINES)


def _practice_name_pre(w: Working, o: Operation) -> str | None:
    if o.target != PRACTICE:
        return f"set_practice_name targets {PRACTICE!r}, not {o.target!r}"
    if w.name != o.get("previous"):
        return f"the practice's name is no longer {o.get('previous')!r}"
    return None


def _set_name(w: Working, o: Operation) -> None:
    w.name = o.get("name")


register(Action(
    "set_practice_name", Phase.GRANT,
    {"name": "practice_name?", "previous": "practice_name?"}, "practice",
    _practice_name_pre, _set_name,
    describe=lambda o: ("~", f"name: {o.get('previous') or '(none)'} -> "
                             f"{o.get('name') or '(none)'}"),
    step=lambda o: f"Settings > Practice Details: Practice Name {o.get('name')}. Save."))


def _policy_pre(w: Working, o: Operation) -> str | None:
    if o.target != PRACTICE:
        return f"set_policy targets {PRACTICE!r}, not {o.target!r}"
    if w.approval_policy != o.get("previous"):
        return f"the practice's approvals policy is no longer {_approvals_text(o.get('previous'))}"
    return None


def _approvals_text(pairs: Any) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in pairs) or "none"


def _set_policy(w: Working, o: Operation) -> None:
    w.approval_policy = o.get("approvals")


register(Action(
    "set_policy", Phase.GRANT, {"approvals": "approvals", "previous": "approvals"}, "practice",
    _policy_pre, _set_policy,
    describe=lambda o: ("~", f"approvals policy (two-person rule): "
                             f"{_approvals_text(o.get('previous'))} -> "
                             f"{_approvals_text(o.get('approvals'))}"),
    step=lambda o: ("Nothing to do in Sessions Health: shsync's two-person rule becomes "
                    f"{_approvals_text(o.get('approvals'))}.")))


def _deadlines_text(pairs: Any) -> str:
    given = dict(pairs or ())
    return ", ".join(f"{kind} {span_text(given.get(kind, minutes))}"
                     for kind, minutes in DEFAULT_DEADLINE_MINUTES)


def _deadline_pre(w: Working, o: Operation) -> str | None:
    if o.target != PRACTICE:
        return f"set_deadline_policy targets {PRACTICE!r}, not {o.target!r}"
    if w.deadline_policy != o.get("previous"):
        return ("the practice's runbook deadlines are no longer "
                f"{_deadlines_text(o.get('previous'))}")
    return None


def _set_deadlines(w: Working, o: Operation) -> None:
    w.deadline_policy = o.get("deadlines")


register(Action(
    "set_deadline_policy", Phase.GRANT, {"deadlines": "deadlines", "previous": "deadlines"},
    "practice", _deadline_pre, _set_deadlines,
    describe=lambda o: ("~", f"runbook deadlines: {_deadlines_text(o.get('previous'))} -> "
                             f"{_deadlines_text(o.get('deadlines'))}"),
    step=lambda o: ("Nothing to do in Sessions Health: shsync's runbook deadlines become "
                    f"{_deadlines_text(o.get('deadlines'))}.")))
