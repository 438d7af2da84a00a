"""The action registry: what every kind of plan step is, each defined once.

An `Action` carries everything shsync knows about one kind of step: its phase in the plan's
order, the parameters it takes and their types, its precondition against the practice it meets,
its effect on that practice, who must have accepted their invitation before it may give them
access, whether it widens access, how it reads in a plan, and where a person does it in
Sessions Health. The families register theirs (`members`, `supervision`, `clients`,
`emergency`, `practice` beside this module); each store registers a handler per action name
(`shsync.stores.sql.HANDLERS`), and a test checks every action has one.

`ORDER` is the plan's order within a phase, fixed here rather than by which family module
happens to be imported first: a plan's steps, and so its hash, do not depend on the layout.

Preconditions see a `Working` practice (with counts kept up to date), so each step is checked
against the state it will really meet, not the state the plan started from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from shsync.core.operation import Operation
from shsync.core.working import Working
from shsync.model.vocabulary import COSIGN, ROLES

__all__ = ["ACTIONS", "COSIGN", "ORDER", "PRACTICE", "ROLES", "UPDATABLE", "Action", "Phase",
           "grantees", "phase", "precondition", "register", "widens"]

UPDATABLE = ("first_name", "last_name", "npi", "taxonomy")
PRACTICE = "practice"  # the target of practice-wide steps

ORDER = (
    "invite_member", "accept_invitation", "update_member", "grant_role", "revoke_role",
    "set_admin", "set_billing_access", "set_full_clinical_access", "set_practice_name",
    "set_policy", "set_break_glass_policy", "set_deadline_policy", "set_supervisor", "set_cosign",
    "create_client",
    "reassign_client", "set_client_supervisor", "grant_access", "revoke_access", "set_access_end",
    "break_glass", "handoff_notes", "handoff_signatures", "remove_member",
)


class Phase(IntEnum):
    """The order of a plan. Each phase only needs what earlier phases set up."""

    INVITE = 0  # new members exist, with their roles, before anyone points at them
    GRANT = 1  # acceptances, roles, admin and settings that add or change, never take away
    SUPERVISE = 2  # supervisees move (or are cleared) before a supervisor loses role or leaves
    CLIENTS = 3  # clients and grants move before a practitioner loses role or leaves
    HANDOFF = 4  # notes move before their author or signer leaves
    REVOKE = 5  # roles and admin taken away once nobody depends on them
    REMOVE = 6  # members leave last


Check = Callable[[Working, Operation], "str | None"]


def _never(o: Operation) -> bool:
    return False


def _nobody(o: Operation) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True)
class Action:
    name: str
    phase: Phase
    params: dict[str, str]  # name -> kind (see operations._check); "?" marks optional
    kind: str  # what it targets: member, client or practice
    precondition: Check
    effect: Callable[[Working, Operation], None]
    describe: Callable[[Operation], tuple[str, str]]  # (+ ~ -, text)
    step: Callable[[Operation], str]  # where and how a person does it in Sessions Health
    widens: Callable[[Operation], bool] = _never
    grantees: Callable[[Operation], tuple[str, ...]] = _nobody  # must be active to receive it
    # A step whose phase depends on its parameters (an administrator's rights taken away waits
    # until nobody depends on them): None, always `phase`.
    phase_of: Callable[[Operation], Phase] | None = None

    def phase_for(self, o: Operation) -> Phase:
        return self.phase if self.phase_of is None else self.phase_of(o)


ACTIONS: dict[str, Action] = {}


def register(action: Action) -> Action:
    if action.name in ACTIONS:
        raise ValueError(f"action {action.name} is registered twice")
    if action.name not in ORDER:
        raise ValueError(f"action {action.name} has no place in ORDER")
    ACTIONS[action.name] = action
    return action


def seal() -> None:
    """Once every family has registered: each action of ORDER is there, in that order."""
    missing = [name for name in ORDER if name not in ACTIONS]
    if missing:
        raise ValueError(f"actions in ORDER but not registered: {', '.join(missing)}")
    ordered = {name: ACTIONS[name] for name in ORDER}
    ACTIONS.clear()
    ACTIONS.update(ordered)


def phase(o: Operation) -> Phase:
    return ACTIONS[o.action].phase_for(o)


def widens(o: Operation) -> bool:
    """Does this step widen anyone's access? Reviewers see these flagged in every format."""
    return ACTIONS[o.action].widens(o)


def grantees(o: Operation) -> tuple[str, ...]:
    """Members who receive access through this step, and so must have accepted first."""
    return ACTIONS[o.action].grantees(o)


def precondition(w: Working, o: Operation, action: Action | None = None) -> str | None:
    """The one check of a step against the practice it meets, including the acceptance rule:
    nobody receives access to a client record before they accept their invitation. `action`:
    the step's registry entry, when the caller has looked it up already."""
    if action is None:
        action = ACTIONS[o.action]
    problem = action.precondition(w, o)
    if problem is not None:
        return problem
    for who in action.grantees(o):
        m = w.members.get(who)
        if m is not None and not m.active:
            return (f"{o.action} {o.target}: {who} has not accepted their invitation, so this "
                    "step must wait until they do")
    return None

