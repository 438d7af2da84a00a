"""A practice in memory that operations are applied to one by one: the reference every store
must match.

`Working` keeps counts (clients per practitioner, supervisees per supervisor, notes per author,
...) up to date as it changes, so each action's precondition can ask "does anyone still depend
on this member?" in constant time. That is what lets the one check in `verify` look at every
step of a 200,000-operation plan. An action's effect changes it through the primitives below;
`shsync.core.simulate.apply` runs a step's effect.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace

from shsync.core.state import (
    Appointment,
    ClientState,
    MemberState,
    Note,
    PracticeState,
    signer,
)  # fmt: skip


class Working:
    """A mutable copy of a practice with the indexes preconditions need."""

    def __init__(self, state: PracticeState, now: str, written: str | None = None):
        self.members: dict[str, MemberState] = dict(state.members)
        self.clients: dict[str, ClientState] = dict(state.clients)
        self.appointments: list[Appointment] = list(state.appointments)
        self.notes: dict[int, Note] = {n.id: n for n in state.notes}
        self.name = state.name
        self.was_new = not state.members  # a practice with nobody in it yet, before this plan
        self.approval_policy = state.approval_policy
        self.break_glass_policy = state.break_glass_policy
        self.deadline_policy = state.deadline_policy
        self.now = now
        # The store's own clock when it writes (None in the planner): what bounds an emergency
        # access, since the planning clock `now` is the caller's to fix (SHSYNC_NOW, --at).
        self.written = written
        self.assigned: Counter[str] = Counter(c.practitioner for c in self.clients.values())
        self.grants: Counter[str] = Counter(m for c in self.clients.values() for m in c.access)
        self.client_supervising: Counter[str] = Counter(
            c.supervisor for c in self.clients.values() if c.supervisor)
        self.supervisees: Counter[str] = Counter(
            m.supervisor for m in self.members.values() if m.supervisor)
        self.admins = sum(m.admin for m in self.members.values())
        self.notes_by_author: dict[str, set[int]] = defaultdict(set)
        self.notes_by_client: dict[str, set[int]] = defaultdict(set)
        for n in self.notes.values():
            self.notes_by_author[n.author].add(n.id)
            self.notes_by_client[n.client].add(n.id)
        self.future: Counter[str] = Counter(a.practitioner for a in self.appointments
                                            if a.starts_at > now)

    def freeze(self) -> PracticeState:
        return PracticeState(dict(self.members), dict(self.clients), tuple(self.appointments),
                             tuple(sorted(self.notes.values(), key=lambda n: n.id)), self.name,
                             self.approval_policy, self.break_glass_policy,
                             self.deadline_policy)

    # --- primitives that keep the indexes right ----------------------------------------------
    def put_member(self, member: MemberState) -> None:
        old = self.members.get(member.email)
        if old is not None:
            self.admins -= old.admin
            if old.supervisor:
                self.supervisees[old.supervisor] -= 1
        self.members[member.email] = member
        self.admins += member.admin
        if member.supervisor:
            self.supervisees[member.supervisor] += 1

    def change_member(self, email: str, **changes: object) -> None:
        self.put_member(replace(self.members[email], **changes))  # type: ignore[arg-type]

    def drop_member(self, email: str) -> None:
        old = self.members.pop(email)
        self.admins -= old.admin
        if old.supervisor:
            self.supervisees[old.supervisor] -= 1

    def put_client(self, client: ClientState) -> None:
        old = self.clients.get(client.id)
        if old is not None:
            self.assigned[old.practitioner] -= 1
            self.grants.subtract(old.access)
            if old.supervisor:
                self.client_supervising[old.supervisor] -= 1
        self.clients[client.id] = client
        self.assigned[client.practitioner] += 1
        grants = self.grants  # `grants.update(access)` without its Mapping check per client
        for who in client.access:
            grants[who] = grants.get(who, 0) + 1
        if client.supervisor:
            self.client_supervising[client.supervisor] += 1

    def put_note(self, note: Note) -> None:
        old = self.notes[note.id]
        if old.author != note.author:
            self.notes_by_author[old.author].discard(note.id)
            self.notes_by_author[note.author].add(note.id)
        self.notes[note.id] = note

    def notes_of(self, author: str, status: str) -> list[Note]:
        return [n for i in sorted(self.notes_by_author.get(author, ()))
                if (n := self.notes[i]).status == status]

    def awaiting(self, supervisor: str) -> list[Note]:
        return [n for n in self.notes.values()
                if n.status == "awaiting_signature" and n.supervisor == supervisor]

    def resign_notes(self, author: str) -> None:
        """Notes by `author` awaiting signature go to whoever signs them now; when nobody does
        (supervision cleared), they stay with the supervisor who was to sign them."""
        new = self.members[author].supervisor if author in self.members else None
        if new is None:
            return
        for n in self.notes_of(author, "awaiting_signature"):
            found = self.clients.get(n.client)
            if not (found and found.supervisor) and n.supervisor != new:
                self.put_note(replace(n, supervisor=new))  # a client's own supervisor wins

    def resign_client(self, client: str) -> None:
        for i in sorted(self.notes_by_client.get(client, ())):
            n = self.notes[i]
            new = signer(self.members, self.clients, n.author, client)
            if n.status == "awaiting_signature" and new is not None and new != n.supervisor:
                self.put_note(replace(n, supervisor=new))

    def cancel_future(self, practitioner: str) -> None:
        self.appointments = [a for a in self.appointments
                             if not (a.practitioner == practitioner and a.starts_at > self.now)]
        self.future[practitioner] = 0
