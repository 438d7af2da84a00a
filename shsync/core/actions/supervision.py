"""Supervision: each supervisee's one supervisor and what they co-sign."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shsync.core.actions.common import (
    EDIT,
    no_member,
    not_role_holder,
    or_nobody,
)  # fmt: skip
from shsync.core.actions.registry import Action, Phase, register
from shsync.core.operation import Operation
from shsync.core.working import Working

# --- supervision -------------------------------------------------------------------------------

def _set_supervisor_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_member(w, o)) is not None:
        return problem
    t, new = o.target, o.get("supervisor")
    if w.members[t].supervisor != o.get("previous"):
        return f"{t}'s supervisor is no longer {or_nobody(o.get('previous'))}"
    if new is None:
        return None
    if new == t:
        return f"{t} cannot supervise themselves"
    if not w.members[t].has("practitioner"):
        return f"{t} is not a practitioner, so cannot be supervised"
    if (problem := not_role_holder(w, new, "supervisor", "supervisor")) is not None:
        return problem
    if makes_cycle(t, new, lambda e: w.members[e].supervisor if e in w.members else None):
        return f"supervising {t} by {new} makes a cycle"
    return None


def makes_cycle(member: str, supervisor: str | None,
                supervisor_of: Callable[[str], str | None]) -> bool:
    """Whether putting `member` under `supervisor` closes a loop of supervision, given who
    supervises whom (`supervisor_of`; None for nobody, or someone who is not a member)."""
    seen, above = {member}, supervisor
    while above is not None:
        if above in seen:
            return True
        seen.add(above)
        above = supervisor_of(above)
    return False


def _set_supervisor(w: Working, o: Operation) -> None:
    w.change_member(o.target, supervisor=o.get("supervisor"))
    if o.get("supervisor") is None:
        w.change_member(o.target, cosign=())
    w.resign_notes(o.target)


def _supervision_step(o: Operation) -> str:
    if o.get("supervisor") is None:
        return EDIT.format(t=o.target) + ": Supervisor: none. Save."
    return EDIT.format(t=o.target) + f": Supervisor: {o.get('supervisor')}. Save."


register(Action(
    "set_supervisor", Phase.SUPERVISE, {"supervisor": "email?", "previous": "email?"}, "member",
    _set_supervisor_pre, _set_supervisor,
    describe=lambda o: ("~", f"supervisor: {or_nobody(o.get('previous'))} -> "
                             f"{or_nobody(o.get('supervisor'))}"),
    step=_supervision_step,
    widens=lambda o: o.get("supervisor") is not None,
    grantees=lambda o: (o.get("supervisor"),) if o.get("supervisor") else ()))


def _cosign_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_member(w, o)) is not None:
        return problem
    m = w.members[o.target]
    if m.cosign != tuple(o.get("previous")):
        return f"{o.target}'s co-signature requirements are no longer " \
               f"{', '.join(o.get('previous')) or 'none'}"
    if o.get("cosign") and m.supervisor is None:
        return f"{o.target} has no supervisor to co-sign their notes"
    return None


def _cosign_text(items: Any) -> str:
    return ", ".join(i.replace("_", " ") for i in items) or "nothing"


register(Action(
    "set_cosign", Phase.SUPERVISE, {"cosign": "cosign", "previous": "cosign"}, "member",
    _cosign_pre, lambda w, o: w.change_member(o.target, cosign=tuple(o.get("cosign"))),
    describe=lambda o: ("~", f"supervisor co-signs: {_cosign_text(o.get('previous'))} -> "
                             f"{_cosign_text(o.get('cosign'))}"),
    step=lambda o: EDIT.format(t=o.target) + ": under Supervisor, Require co-signature for: "
                   + _cosign_text(o.get("cosign")) + ". Save."))
