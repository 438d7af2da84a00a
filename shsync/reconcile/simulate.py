"""What each operation does to a practice, in memory: the reference every backend must match.

The planner uses it to compute the state after a plan (seats, admins, the final check of the
rules), the tests use it to replay plans step by step, and the backend contract suite checks that
a real apply reads back exactly as `simulate` says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from shsync.reconcile.operations import Operation
from shsync.reconcile.state import ClientState, MemberState, PracticeState, holds, signer


class Working:
    """A mutable copy of a practice that operations are applied to, one by one."""

    def __init__(self, state: PracticeState, now: str):
        self.members = dict(state.members)
        self.clients = dict(state.clients)
        self.appointments = list(state.appointments)
        self.notes = list(state.notes)
        self.name = state.name
        self.now = now

    def freeze(self) -> PracticeState:
        return PracticeState(dict(self.members), dict(self.clients), tuple(self.appointments),
                             tuple(self.notes), self.name)

    def apply(self, op: Operation) -> None:
        getattr(self, "_" + op.action)(op)

    def _member(self, op: Operation, **changes: object) -> None:
        self.members[op.target] = replace(self.members[op.target], **changes)  # type: ignore[arg-type]

    def _invite_member(self, op: Operation) -> None:
        self.members[op.target] = MemberState(
            email=op.target, first_name=op.get("first_name"), last_name=op.get("last_name"),
            roles=tuple(sorted(op.get("roles"))), admin=op.get("admin"), npi=op.get("npi"),
            taxonomy=op.get("taxonomy"), billing_access=op.get("billing_access"),
            full_clinical_access=op.get("full_clinical_access"), status="invited",
            invited_at=self.now)

    def _update_member(self, op: Operation) -> None:
        self._member(op, **{name: new for name, (_, new) in op.get("changes")})

    def _grant_role(self, op: Operation) -> None:
        roles = set(self.members[op.target].roles) | {op.get("role")}
        self._member(op, roles=tuple(sorted(roles)))

    def _revoke_role(self, op: Operation) -> None:
        roles = set(self.members[op.target].roles) - {op.get("role")}
        self._member(op, roles=tuple(sorted(roles)))

    def _set_admin(self, op: Operation) -> None:
        self._member(op, admin=op.get("admin"))

    def _set_billing_access(self, op: Operation) -> None:
        self._member(op, billing_access=op.get("billing_access"))

    def _set_full_clinical_access(self, op: Operation) -> None:
        self._member(op, full_clinical_access=op.get("full_clinical_access"))

    def _set_supervisor(self, op: Operation) -> None:
        new = op.get("supervisor")
        self._member(op, supervisor=new)
        # Notes awaiting signature follow the supervisor; a client's own supervisor wins.
        self.notes = [replace(n, supervisor=new) if n.author == op.target
                      and n.status == "awaiting_signature"
                      and not self._override(n.client) else n for n in self.notes]

    def _override(self, client: str) -> str | None:
        found = self.clients.get(client)
        return found.supervisor if found else None

    def _create_client(self, op: Operation) -> None:
        self.clients[op.target] = ClientState(op.target, op.get("practitioner"),
                                              tuple(sorted(op.get("access"))),
                                              op.get("supervisor"))

    def _reassign_client(self, op: Operation) -> None:
        self.clients[op.target] = replace(self.clients[op.target],
                                          practitioner=op.get("practitioner"))

    def _set_client_supervisor(self, op: Operation) -> None:
        new = op.get("supervisor")
        self.clients[op.target] = replace(self.clients[op.target], supervisor=new)
        self.notes = [replace(n, supervisor=signer(self.members, self.clients, n.author, n.client))
                      if n.client == op.target and n.status == "awaiting_signature" else n
                      for n in self.notes]

    def _grant_access(self, op: Operation) -> None:
        client = self.clients[op.target]
        access = tuple(sorted(set(client.access) | {op.get("member")}))
        self.clients[op.target] = replace(client, access=access)

    def _revoke_access(self, op: Operation) -> None:
        client = self.clients[op.target]
        access = tuple(m for m in client.access if m != op.get("member"))
        self.clients[op.target] = replace(client, access=access)

    def _handoff_notes(self, op: Operation) -> None:
        self.notes = [replace(n, author=op.get("to")) if n.author == op.target
                      and n.status == "incomplete" else n for n in self.notes]

    def _remove_member(self, op: Operation) -> None:
        del self.members[op.target]
        # As in Sessions Health, the removed member's remaining supervisees lose supervision.
        # (The planner moves every supervisee who stays before this step.)
        for email, member in list(self.members.items()):
            if member.supervisor == op.target:
                self.members[email] = replace(member, supervisor=None)
        self.appointments = [a for a in self.appointments
                             if not (a.practitioner == op.target and a.starts_at > self.now)]


def simulate(state: PracticeState, operations: Iterable[Operation], now: str) -> PracticeState:
    working = Working(state, now)
    for operation in operations:
        working.apply(operation)
    return working.freeze()


def violations(state: PracticeState, now: str) -> list[str]:
    """Every way a practice breaks the rules that must hold between any two steps."""
    found = []
    members = state.members

    for m in members.values():
        if m.supervisor is not None and not holds(members, m.supervisor, "supervisor"):
            found.append(f"{m.email} is supervised by {m.supervisor}, not a current supervisor")
    for c in state.clients.values():
        if not holds(members, c.practitioner, "practitioner"):
            found.append(f"client {c.id}'s practitioner {c.practitioner} is not a practitioner")
        found.extend(f"client {c.id} grants access to {who}, not a member"
                     for who in c.access if who not in members)
        if c.supervisor is not None and not holds(members, c.supervisor, "supervisor"):
            found.append(f"client {c.id}'s supervisor {c.supervisor} is not a supervisor")
    found.extend(f"incomplete note {n.id} belongs to {n.author}, not a member"
                 for n in state.notes if n.status == "incomplete" and n.author not in members)
    found.extend(f"appointment {a.id} is scheduled with {a.practitioner}, not a member"
                 for a in state.appointments if a.starts_at > now and a.practitioner not in members)
    if members and not any(m.admin for m in members.values()):
        found.append("no administrator is left")
    return found
