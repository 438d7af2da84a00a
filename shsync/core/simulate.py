"""Operations applied to a practice in memory: the reference every store must match.

`simulate` runs each step's effect (its registry entry's) on a `Working` copy; `violations` is
the whole-practice check the planner and `verify` run at the end, as a safety net under the
per-step preconditions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shsync.core.actions import ACTIONS
from shsync.core.operation import Operation
from shsync.core.state import ClientState, MemberState, PracticeState, holds
from shsync.core.working import Working


def apply(working: Working, operation: Operation) -> None:
    """One step's effect on the practice in memory (its precondition is the caller's)."""
    ACTIONS[operation.action].effect(working, operation)


def simulate(state: PracticeState, operations: Iterable[Operation], now: str) -> PracticeState:
    working = Working(state, now)
    for operation in operations:
        ACTIONS[operation.action].effect(working, operation)
    return working.freeze()


def client_problems(members: Mapping[str, MemberState], c: ClientState) -> list[str]:
    """Every way one client breaks the rules, given the members."""
    found = []
    if not holds(members, c.practitioner, "practitioner"):
        found.append(f"client {c.id}'s practitioner {c.practitioner} is not a practitioner")
    elif not members[c.practitioner].active:
        found.append(f"client {c.id} is assigned to {c.practitioner}, who has not accepted "
                     "their invitation")
    for who in c.access:
        if who not in members:
            found.append(f"client {c.id} grants access to {who}, not a member")
        elif not members[who].active:
            found.append(f"client {c.id} grants access to {who}, who has not accepted their "
                         "invitation")
    if c.supervisor is not None and not holds(members, c.supervisor, "supervisor"):
        found.append(f"client {c.id}'s supervisor {c.supervisor} is not a supervisor")
    return found


def violations(state: PracticeState, now: str) -> list[str]:
    """Every way a practice breaks the rules that must hold between any two steps."""
    found = []
    members = state.members

    for m in members.values():
        if m.supervisor is not None and not holds(members, m.supervisor, "supervisor"):
            found.append(f"{m.email} is supervised by {m.supervisor}, not a current supervisor")
        if m.supervisor is not None and not members[m.supervisor].active:
            found.append(f"{m.email} is supervised by {m.supervisor}, who has not accepted "
                         "their invitation")
        if m.full_clinical_access and not m.active:
            found.append(f"{m.email} has full clinical access but has not accepted their "
                         "invitation")
    # A large practice has 200,000 clients and a few thousand members: what each member may be
    # named as is worked out once, and a client naming only such members costs a few set lookups
    # (the messages below are only for the clients that fail them).
    active = {e for e, m in members.items() if m.active}
    treating = {e for e in active if members[e].has("practitioner")}
    supervising = {e for e, m in members.items() if m.has("supervisor")}
    for c in state.clients.values():
        if not (c.practitioner in treating and active.issuperset(c.access)
                and (c.supervisor is None or c.supervisor in supervising)):
            found += client_problems(members, c)
    for n in state.notes:
        if n.status == "incomplete" and n.author not in members:
            found.append(f"incomplete note {n.id} belongs to {n.author}, not a member")
        if (n.status == "awaiting_signature" and n.supervisor is not None
                and not holds(members, n.supervisor, "supervisor")):
            found.append(f"note {n.id} awaits the signature of {n.supervisor}, not a current "
                         "supervisor")
    found.extend(f"appointment {a.id} is scheduled with {a.practitioner}, not a member"
                 for a in state.appointments if a.starts_at > now and a.practitioner not in members)
    if members and not any(m.admin for m in members.values()):
        found.append("no administrator is left")
    owners = [m.email for m in members.values() if m.owner]
    if len(owners) > 1:
        found.append(f"more than one owner: {', '.join(sorted(owners))}")
    found.extend(f"the owner {e} is not an administrator" for e in owners if not members[e].admin)
    return found
