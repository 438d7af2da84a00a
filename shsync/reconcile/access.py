"""Who can see what: the one place Sessions Health's access semantics live.

Capabilities are held per member per client, each with a reason:

* the assigned practitioner: the full record, notes, diagnoses, treatment plans, the schedule,
  Manage Access, and billing (unless their billing access is off), on their own clients;
* a member granted access (Manage Access): the record, notes, diagnoses and treatment plans (and
  billing, for a practitioner whose billing access is on);
* an administrator: limited information about every client, and Manage Access on every client;
  never clinical access on its own;
* a scheduler: the schedule of every client; a biller: billing and diagnoses of every client;
* a practitioner with full clinical access: the clinical record of every client;
* a supervisor: signing the notes of their supervisees' clients (a client's own supervisor
  instead, where it has one); supervising does not by itself open the record.

A member's access is a *profile*: what they hold on every client (from roles and settings) plus
what they hold on particular clients. Profiles make the question cheap at any size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from shsync.reconcile.state import MemberState, PracticeState

CAPABILITIES = ("record", "notes", "diagnoses", "treatment_plans", "schedule", "billing",
                "limited_info", "manage_access", "sign_notes")
REASONS = ("assigned", "admin", "granted", "scheduler", "biller", "supervisor",
           "full_clinical_access")
CLINICAL = ("record", "notes", "diagnoses", "treatment_plans")

Held = frozenset[tuple[str, str]]  # (capability, reason)


@dataclass(frozen=True, slots=True)
class Row:
    """One capability one member holds on one client, and why: the flat json/csv shape."""

    member: str
    client: str
    capability: str
    reason: str


def _everywhere(m: MemberState) -> Held:
    held: set[tuple[str, str]] = set()
    if m.admin:
        held |= {("limited_info", "admin"), ("manage_access", "admin")}
    if m.has("scheduler"):
        held.add(("schedule", "scheduler"))
    if m.has("biller"):
        held |= {("billing", "biller"), ("diagnoses", "biller")}
    if m.has("practitioner") and m.full_clinical_access:
        held |= {(c, "full_clinical_access") for c in CLINICAL}
    return frozenset(held)


def _assigned(m: MemberState) -> Held:
    held = {(c, "assigned") for c in (*CLINICAL, "schedule", "manage_access")}
    if m.billing_access:
        held.add(("billing", "assigned"))
    return frozenset(held)


def _granted(m: MemberState) -> Held:
    held = {(c, "granted") for c in CLINICAL}
    if m.has("practitioner") and m.billing_access:
        held.add(("billing", "granted"))
    return frozenset(held)


_SIGN = frozenset({("sign_notes", "supervisor")})


@dataclass(frozen=True)
class Profile:
    everywhere: Held = frozenset()
    per_client: Mapping[str, Held] = field(default_factory=dict)

    def on(self, client: str) -> Held:
        return self.everywhere | self.per_client.get(client, frozenset())


class AccessIndex:
    """One practice's access, indexed once so every profile costs only its own clients."""

    def __init__(self, state: PracticeState):
        self.state = state
        self.by_practitioner: dict[str, list[str]] = defaultdict(list)
        self.by_grantee: dict[str, list[str]] = defaultdict(list)
        self.by_override: dict[str, list[str]] = defaultdict(list)
        self.supervisees: dict[str, list[str]] = defaultdict(list)
        for c in state.clients.values():
            self.by_practitioner[c.practitioner].append(c.id)
            for who in c.access:
                self.by_grantee[who].append(c.id)
            if c.supervisor:
                self.by_override[c.supervisor].append(c.id)
        for m in state.members.values():
            if m.supervisor:
                self.supervisees[m.supervisor].append(m.email)

    def profile(self, email: str) -> Profile:
        m = self.state.members.get(email)
        if m is None:
            return Profile()
        per: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for cid in self.by_practitioner.get(email, ()):
            per[cid] |= _assigned(m)
        for cid in self.by_grantee.get(email, ()):
            per[cid] |= _granted(m)
        if m.has("supervisor"):
            for cid in self._signing(email):
                per[cid] |= _SIGN
        return Profile(_everywhere(m), {cid: frozenset(h) for cid, h in per.items()})

    def _signing(self, supervisor: str) -> Iterator[str]:
        clients = self.state.clients
        for supervisee in self.supervisees.get(supervisor, ()):
            for cid in self.by_practitioner.get(supervisee, ()):
                if clients[cid].supervisor is None:
                    yield cid
        yield from self.by_override.get(supervisor, ())


def rows_for_member(state: PracticeState, email: str) -> list[Row]:
    profile = AccessIndex(state).profile(email)
    clients = sorted(state.clients) if profile.everywhere else sorted(profile.per_client)
    return [Row(email, cid, cap, reason) for cid in clients
            for cap, reason in sorted(profile.on(cid), key=_order)]


def rows_for_client(state: PracticeState, client: str) -> list[Row]:
    index = AccessIndex(state)
    rows = []
    for email in sorted(state.members):
        rows.extend(Row(email, client, cap, reason)
                    for cap, reason in sorted(index.profile(email).on(client), key=_order))
    return rows


def _order(held: tuple[str, str]) -> tuple[int, int]:
    return CAPABILITIES.index(held[0]), REASONS.index(held[1])


# --- what a plan changes ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AccessChange:
    """One member gaining or losing capabilities on some clients (or all of them), and why."""

    member: str
    change: str  # gain | lose
    capabilities: tuple[str, ...]
    reason: str  # for a loss by removal: "removed"
    clients: tuple[str, ...]  # listed up to LIST_LIMIT
    client_count: int
    all_clients: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"member": self.member, "change": self.change,
                "capabilities": list(self.capabilities), "reason": self.reason,
                "clients": list(self.clients), "client_count": self.client_count,
                "all_clients": self.all_clients}


LIST_LIMIT = 10


def _caps(held: Held) -> set[str]:
    return {cap for cap, _ in held}


def _reason(held: Held, caps: Iterable[str]) -> str:
    wanted = set(caps)
    reasons = sorted({r for c, r in held if c in wanted}, key=REASONS.index)
    return ", ".join(reasons)


def _touched(before: PracticeState, after: PracticeState) -> set[str]:
    """Members whose access can differ: changed members, and everyone a changed client names."""
    touched = {e for e in set(before.members) | set(after.members)
               if before.members.get(e) != after.members.get(e)}
    for state in (before, after):
        for e in list(touched):
            m = state.members.get(e)
            if m and m.supervisor:
                touched.add(m.supervisor)  # their signing follows the supervisee
    for cid in set(before.clients) | set(after.clients):
        b, a = before.clients.get(cid), after.clients.get(cid)
        if b == a:
            continue
        for c in (b, a):
            if c is None:
                continue
            touched.update((c.practitioner, *c.access))
            if c.supervisor:
                touched.add(c.supervisor)
            for state in (before, after):
                m = state.members.get(c.practitioner)
                if m and m.supervisor:
                    touched.add(m.supervisor)
    return touched


def delta(before: PracticeState, after: PracticeState) -> tuple[AccessChange, ...]:
    """Who gains and who loses which capabilities on which clients between two states."""
    old, new = AccessIndex(before), AccessIndex(after)
    total = len(after.clients)
    changes: list[AccessChange] = []
    for email in sorted(_touched(before, after)):
        was, now = old.profile(email), new.profile(email)
        if email in before.members and email not in after.members:
            clients = sorted(set(was.per_client) | (set(before.clients) if was.everywhere
                                                    else set()))
            if clients:
                changes.append(AccessChange(email, "lose", ("everything",), "removed",
                                            tuple(clients[:LIST_LIMIT]), len(clients),
                                            bool(was.everywhere)))
            continue
        changes.extend(_member_delta(email, was, now, total))
    return tuple(changes)


def _member_delta(email: str, was: Profile, now: Profile, total: int) -> Iterator[AccessChange]:
    wide_gain = _caps(now.everywhere) - _caps(was.everywhere)
    wide_loss = _caps(was.everywhere) - _caps(now.everywhere)
    if wide_gain:
        yield AccessChange(email, "gain", _sorted(wide_gain), _reason(now.everywhere, wide_gain),
                           (), total, True)
    if wide_loss:
        yield AccessChange(email, "lose", _sorted(wide_loss), _reason(was.everywhere, wide_loss),
                           (), total, True)
    grouped: dict[tuple[str, tuple[str, ...], str], list[str]] = defaultdict(list)
    for cid in sorted(set(was.per_client) | set(now.per_client)):
        before, after = was.on(cid), now.on(cid)
        gained = _caps(after) - _caps(before) - wide_gain
        lost = _caps(before) - _caps(after) - wide_loss
        if gained:
            grouped[("gain", _sorted(gained), _reason(after, gained))].append(cid)
        if lost:
            grouped[("lose", _sorted(lost), _reason(before, lost))].append(cid)
    for (change, caps, reason), clients in sorted(grouped.items()):
        yield AccessChange(email, change, caps, reason, tuple(clients[:LIST_LIMIT]), len(clients))


def _sorted(caps: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(caps, key=CAPABILITIES.index))
