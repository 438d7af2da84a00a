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
* a supervisor: opening and signing the notes and treatment plans of their supervisees' clients
  (a client's own supervisor instead, where it has one); supervising does not open the rest of
  the record (Sessions Health help, article 436).

Some capabilities are practice-wide, not per client (`practice_wide`): the Forms Administrator
role manages custom forms; administrators also manage billing settings and invoices.

A member's access is a *profile*: what they hold on every client (from roles and settings) plus
what they hold on particular clients. Profiles make the question cheap at any size. Likewise
a client's access is what the members holding something on every client hold (the same for every
client) plus what the few members the client names hold (`Lookup`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cache, cached_property

from shsync.core.state import ClientState, MemberState, PracticeState, signer

CAPABILITIES = ("record", "notes", "diagnoses", "treatment_plans", "schedule", "billing",
                "limited_info", "manage_access", "sign_notes")
REASONS = ("assigned", "admin", "granted", "break_glass", "scheduler", "biller", "supervisor",
           "full_clinical_access", "forms_admin")
PRACTICE_CAPABILITIES = ("custom_forms", "billing_settings", "invoices")
CLINICAL = ("record", "notes", "diagnoses", "treatment_plans")

Held = frozenset[tuple[str, str]]  # (capability, reason)
_NOTHING: Held = frozenset()


@dataclass(frozen=True, slots=True)
class Row:
    """One capability one member holds on one client, and why: the flat json/csv shape."""

    member: str
    client: str | None  # None: a practice-wide capability, not on any one client
    capability: str
    reason: str
    until: str | None = None  # when this access ends by itself (an instant), if it does


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


def _granted(m: MemberState, reason: str = "granted") -> Held:
    held = {(c, reason) for c in CLINICAL}
    if m.has("practitioner") and m.billing_access:
        held.add(("billing", reason))
    return frozenset(held)


def _grant_reason(client: ClientState, email: str) -> str:
    end = client.end_of(email) if client.ends else None
    return "break_glass" if end and end.break_glass else "granted"


def _until(state: PracticeState, email: str, client: str | None, reason: str) -> str | None:
    """When a capability held for `reason` ends by itself, if it does."""
    if reason == "full_clinical_access":
        return state.members[email].clinical_until
    if reason in ("granted", "break_glass") and client is not None:
        end = state.clients[client].end_of(email)
        return end.until if end else None
    return None


_SIGN = frozenset({("notes", "supervisor"), ("treatment_plans", "supervisor"),
                   ("sign_notes", "supervisor")})


def practice_wide(m: MemberState) -> list[tuple[str, str]]:
    """(capability, reason) a member holds on the practice itself, not on any client."""
    held = []
    if m.has("forms_admin"):
        held.append(("custom_forms", "forms_admin"))
    if m.admin:
        held += [("custom_forms", "admin"), ("billing_settings", "admin"), ("invoices", "admin")]
    return held


@dataclass(frozen=True)
class Profile:
    everywhere: Held = frozenset()  # on every client that exists
    per_client: Mapping[str, Held] = field(default_factory=dict)
    exists: Container[str] = frozenset()

    def on(self, client: str) -> Held:
        own = self.per_client.get(client, _NOTHING)
        if not self.everywhere or client not in self.exists:
            return own  # most members hold nothing everywhere: no union to build per client
        return self.everywhere | own


class _Unions:
    """`a | b` of holdings, the same object for the same pair (a member's clients hold one of a
    few combinations); `a` None is nothing held yet."""

    def __init__(self) -> None:
        self.made: dict[tuple[Held, Held], Held] = {}

    def __call__(self, a: Held | None, b: Held) -> Held:
        if a is None or a is b:
            return b
        made = self.made.get((a, b))
        if made is None:
            made = self.made[(a, b)] = a | b
        return made


class AccessIndex:
    """One practice's access, indexed once so every profile costs only its own clients."""

    def __init__(self, state: PracticeState, only: Collection[str] | None = None):
        """`only`: the members whose profiles will be asked for (all when None); a plan that
        changes a few members' access indexes 200,000 clients for those few alone."""
        self.state = state
        self.by_practitioner: dict[str, list[str]] = defaultdict(list)
        self.by_grantee: dict[str, list[str]] = defaultdict(list)
        self.by_override: dict[str, list[str]] = defaultdict(list)
        self.supervisees: dict[str, list[str]] = defaultdict(list)
        for m in state.members.values():
            if m.supervisor:
                self.supervisees[m.supervisor].append(m.email)
        if only is None:
            for c in state.clients.values():
                self.by_practitioner[c.practitioner].append(c.id)
                for who in c.access:
                    self.by_grantee[who].append(c.id)
                if c.supervisor:
                    self.by_override[c.supervisor].append(c.id)
            return
        asked = set(only)
        # a supervisor's profile reads their supervisees' clients too (`_signing`)
        treating = asked | {s for e in asked for s in self.supervisees.get(e, ())}
        for c in state.clients.values():
            if c.practitioner in treating:
                self.by_practitioner[c.practitioner].append(c.id)
            for who in c.access:
                if who in asked:
                    self.by_grantee[who].append(c.id)
            if c.supervisor in asked:
                self.by_override[c.supervisor].append(c.id)

    def profile(self, email: str) -> Profile:
        m = self.state.members.get(email)
        if m is None:
            return Profile()
        # What a member holds depends on the member, and per client only on why they hold it:
        # each holding is built once per member, not once per client (200,000 at L).
        # A client held for one reason shares that reason's holding object, so the delta's
        # memoised comparisons (`_diff`) hash a few objects, not one per client.
        per: dict[str, Held] = {}
        union = _Unions()
        assigned = _assigned(m)
        for cid in self.by_practitioner.get(email, ()):
            per[cid] = union(per.get(cid), assigned)
        granted = {reason: _granted(m, reason) for reason in ("granted", "break_glass")}
        clients = self.state.clients
        for cid in self.by_grantee.get(email, ()):
            per[cid] = union(per.get(cid), granted[_grant_reason(clients[cid], email)])
        if m.has("supervisor"):
            for cid in self._signing(email):
                per[cid] = union(per.get(cid), _SIGN)
        return Profile(_everywhere(m), per, clients)

    def _signing(self, supervisor: str) -> Iterator[str]:
        clients = self.state.clients
        for supervisee in self.supervisees.get(supervisor, ()):
            for cid in self.by_practitioner.get(supervisee, ()):
                if clients[cid].supervisor is None:
                    yield cid
        yield from self.by_override.get(supervisor, ())


Holding = tuple[str, str, str | None]  # (capability, reason, until), in row order


class Lookup:
    """The access questions of one practice (`shsync access`), answered from what is worked out
    once per practice: a server keeps one per audit head (shsync/server/handles.py), so each
    question costs only what its answer names.

    Who can see a client: the members who hold something on every client (administrators,
    schedulers, billers, full clinical access; a fifth of a practice) hold the same there
    whatever the client, so their holdings are found once (`wide`); per question only the
    members the client names (its practitioner, grantees, supervisors) are worked out, and
    merged in by email. What a member can see: their profile, from one `AccessIndex`.
    """

    def __init__(self, state: PracticeState):
        self.state = state

    @cached_property
    def wide(self) -> tuple[tuple[str, tuple[Holding, ...]], ...]:
        """(email, holdings) of each member holding something on every client, by email."""
        found = []
        for email in sorted(self.state.members):
            held = _everywhere(self.state.members[email])
            if held:
                found.append((email, self._holdings(email, None, held)))
        return tuple(found)

    @cached_property
    def _wide_emails(self) -> frozenset[str]:
        return frozenset(email for email, _ in self.wide)

    @cached_property
    def _index(self) -> AccessIndex:
        return AccessIndex(self.state)

    def holdings(self, client: str) -> list[tuple[str, tuple[Holding, ...]]]:
        """(email, holdings) of each member holding something on `client`, by email. A member
        the client does not name holds exactly their `wide` holdings (the same tuple)."""
        if client not in self.state.clients:
            return []
        named = {email: self._holdings(email, client, held_on(self.state, email, client))
                 for email in _named_by(self.state, client)}
        found = [(email, held) for email, held in named.items() if held]
        if not named.keys() & self._wide_emails:
            found.extend(self.wide)
        else:
            found.extend((email, held) for email, held in self.wide if email not in named)
        found.sort(key=_first)
        return found

    def client(self, client: str) -> list[Row]:
        return [Row(email, client, cap, reason, until)
                for email, held in self.holdings(client) for cap, reason, until in held]

    def member(self, email: str) -> list[Row]:
        state = self.state
        profile = self._index.profile(email)
        clients = sorted(state.clients) if profile.everywhere else sorted(profile.per_client)
        wide = [Row(email, None, cap, reason) for cap, reason in
                practice_wide(state.members[email])]
        return wide + [Row(email, cid, cap, reason, _until(state, email, cid, reason))
                       for cid in clients for cap, reason in sorted(profile.on(cid), key=_order)]

    def _holdings(self, email: str, client: str | None, held: Held) -> tuple[Holding, ...]:
        return tuple((cap, reason, _until(self.state, email, client, reason))
                     for cap, reason in sorted(held, key=_order))


def _first(item: tuple[str, object]) -> str:
    return item[0]


def rows_for_member(state: PracticeState, email: str) -> list[Row]:
    return Lookup(state).member(email)


def held_on(state: PracticeState, email: str, client: str) -> Held:
    """What one member holds on one client, without indexing the whole practice."""
    m = state.members.get(email)
    c = state.clients.get(client)
    if m is None or c is None:
        return frozenset()
    held = set(_everywhere(m))
    if c.practitioner == email:
        held |= _assigned(m)
    if email in c.access:
        held |= _granted(m, _grant_reason(c, email))
    if m.has("supervisor") and signer(state.members, state.clients, c.practitioner,
                                       client) == email:
        held |= _SIGN
    return frozenset(held)


def rows_for_client(state: PracticeState, client: str) -> list[Row]:
    return Lookup(state).client(client)


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


def _access_fields(m: MemberState | None) -> tuple[object, ...] | None:
    """The part of a member that access depends on (names, NPI and status do not count)."""
    if m is None:
        return None
    return (m.roles, m.admin, m.billing_access, m.full_clinical_access, m.supervisor, m.status)


def _changed_members(before: PracticeState, after: PracticeState) -> set[str]:
    changed = {e for e in set(before.members) | set(after.members)
               if _access_fields(before.members.get(e)) != _access_fields(after.members.get(e))}
    for state in (before, after):
        for e in list(changed):
            m = state.members.get(e)
            if m and m.supervisor:
                changed.add(m.supervisor)  # their signing follows the supervisee
    return changed


def _named_by(state: PracticeState, client: str) -> set[str]:
    c = state.clients.get(client)
    if c is None:
        return set()
    named = {c.practitioner, *c.access}
    if c.supervisor:
        named.add(c.supervisor)
    practitioner = state.members.get(c.practitioner)
    if practitioner and practitioner.supervisor:
        named.add(practitioner.supervisor)
    return named


# The last delta worked out, with the two states it is of. An apply works the plan's delta out
# when planning and again in the store's transaction (to check the plan's access changes), from
# states read and built twice; when they are equal, the delta is too (it depends on nothing
# else), and comparing them costs a fraction of working it out again (0.3 against 1.1 s in the
# L onboarding). A hit is used once; a long-lived server holds at most the last pair.
_LAST: list[tuple[PracticeState, PracticeState, tuple[AccessChange, ...]]] = []


def _same_for_access(a: PracticeState, b: PracticeState) -> bool:
    """Equal in all but when members were invited: nothing in this module reads `invited_at`,
    and the store's clock stamps an apply's invitations a few seconds after the plan's did."""
    if a is b:
        return True
    if any(getattr(a, f.name) != getattr(b, f.name) for f in fields(PracticeState)
           if f.name != "members"):
        return False
    if a.members.keys() != b.members.keys():
        return False
    return all(m == (n := b.members[e]) or replace(m, invited_at=n.invited_at) == n
               for e, m in a.members.items())


def delta(before: PracticeState, after: PracticeState) -> tuple[AccessChange, ...]:
    """Who gains and who loses which capabilities on which clients between two states.

    The work is proportional to what changed: members whose access fields changed are compared
    on every client they touch; for other members, only the changed clients that name them.
    """
    remembered = _LAST.copy()  # copied, then cleared: a server plans on several threads
    _LAST.clear()
    if remembered:
        was, now, found = remembered[0]
        if _same_for_access(was, before) and _same_for_access(now, after):
            return found
    found = _delta(before, after)
    _LAST[:] = [(before, after, found)]
    return found


def _delta(before: PracticeState, after: PracticeState) -> tuple[AccessChange, ...]:
    members = _changed_members(before, after)
    old, new = AccessIndex(before, members), AccessIndex(after, members)
    total = len(after.clients)
    created = sorted(set(after.clients) - set(before.clients))  # clients are never deleted
    new_clients = frozenset(created)
    changes: list[AccessChange] = list(_creation_gains(before, after, created))
    for email in sorted(members):
        was, now = old.profile(email), new.profile(email)
        if email in before.members and email not in after.members:
            clients = sorted(set(was.per_client) | (set(before.clients) if was.everywhere
                                                    else set()))
            if clients:
                changes.append(AccessChange(email, "lose", ("everything",), "removed",
                                            tuple(clients[:LIST_LIMIT]), len(clients),
                                            bool(was.everywhere)))
            continue
        changes.extend(_member_delta(email, was, now, total, new_clients))
    per_client: dict[str, dict[tuple[str, tuple[str, ...], str], list[str]]] = defaultdict(
        lambda: defaultdict(list))
    # Only members outside `members` are looked at per client; when every member of either
    # state is already in it (an onboarding), no client can add anything.
    everyone_done = members.issuperset(before.members) and members.issuperset(after.members)
    for cid in () if everyone_done else _changed_clients(before, after):
        for email in (_named_by(before, cid) | _named_by(after, cid)) - members:
            wide = after.members.get(email)
            skip = _caps(_everywhere(wide)) if wide and cid not in before.clients else set()
            _client_delta(per_client[email], cid, held_on(before, email, cid),
                          held_on(after, email, cid), skip)
    for email in sorted(per_client):
        for (change, caps, reason), clients in sorted(per_client[email].items()):
            changes.append(AccessChange(email, change, caps, reason,
                                        tuple(clients[:LIST_LIMIT]), len(clients)))
    changes.sort(key=lambda a: (a.member, a.change, a.reason, a.capabilities))
    return tuple(changes)


def _changed_clients(before: PracticeState, after: PracticeState) -> list[str]:
    """The ids of the clients that differ, in order. A state after a plan shares the objects of
    the clients it did not change with the one before, so most are passed over by identity."""
    old = before.clients
    changed = [cid for cid, c in after.clients.items()
               if (was := old.get(cid)) is not c and was != c]
    changed.extend(cid for cid in old if cid not in after.clients)
    return sorted(changed)


def _client_delta(grouped: dict[tuple[str, tuple[str, ...], str], list[str]], cid: str,
                  before: Held, after: Held, skip_gain: Iterable[str] = frozenset(),
                  skip_loss: Iterable[str] = frozenset()) -> None:
    for key in _diff(before, after, frozenset(skip_gain), frozenset(skip_loss)):
        grouped[key].append(cid)


@cache
def _diff(before: Held, after: Held, skip_gain: frozenset[str],
          skip_loss: frozenset[str]) -> tuple[tuple[str, tuple[str, ...], str], ...]:
    """The gain and loss between two holdings; the same few holdings recur across thousands
    of clients, so each pair is worked out once."""
    keys = []
    gained = _caps(after) - _caps(before) - skip_gain
    lost = _caps(before) - _caps(after) - skip_loss
    if gained:
        keys.append(("gain", _sorted(gained), _reason(after, gained)))
    if lost:
        keys.append(("lose", _sorted(lost), _reason(before, lost)))
    return tuple(keys)


def _creation_gains(before: PracticeState, after: PracticeState,
                    created: list[str]) -> Iterator[AccessChange]:
    """A new client opens to everyone whose role reaches every client."""
    if not created:
        return
    for email, m in sorted(after.members.items()):
        wide = _everywhere(m)
        old = before.members.get(email)
        # Capabilities this member gains everywhere are reported once, as "all clients".
        caps = _caps(wide) & (_caps(_everywhere(old)) if old else set())
        if caps:
            yield AccessChange(email, "gain", _sorted(caps), _reason(wide, caps),
                               tuple(created[:LIST_LIMIT]), len(created))


def _member_delta(email: str, was: Profile, now: Profile, total: int,
                  created: frozenset[str]) -> Iterator[AccessChange]:
    wide_gain = _caps(now.everywhere) - _caps(was.everywhere)
    wide_loss = _caps(was.everywhere) - _caps(now.everywhere)
    kept_wide = _caps(now.everywhere) & _caps(was.everywhere)  # on new clients: creation gains
    if wide_gain:
        yield AccessChange(email, "gain", _sorted(wide_gain), _reason(now.everywhere, wide_gain),
                           (), total, True)
    if wide_loss:
        yield AccessChange(email, "lose", _sorted(wide_loss), _reason(was.everywhere, wide_loss),
                           (), total, True)
    grouped: dict[tuple[str, tuple[str, ...], str], list[str]] = defaultdict(list)
    # A new client where the member holds nothing specific can only add role-wide capabilities,
    # which are reported above or as creation gains: only clients in the profiles need a look.
    on_new = frozenset(wide_gain | kept_wide)
    wide_gain_f, wide_loss_f = frozenset(wide_gain), frozenset(wide_loss)
    # `Profile.on` and `_client_delta`, inlined: this loop runs once per client a member holds
    # something on (half a million times in an L onboarding, twice per apply).
    was_per, now_per, diff, union = was.per_client, now.per_client, _diff, _Unions()
    for cid in sorted(was_per.keys() | now_per.keys()):
        before, after = was_per.get(cid, _NOTHING), now_per.get(cid, _NOTHING)
        if was.everywhere and cid in was.exists:
            before = union(was.everywhere, before)
        if now.everywhere and cid in now.exists:
            after = union(now.everywhere, after)
        for key in diff(before, after, on_new if cid in created else wide_gain_f, wide_loss_f):
            grouped[key].append(cid)
    for (change, caps, reason), clients in sorted(grouped.items()):
        yield AccessChange(email, change, caps, reason, tuple(clients[:LIST_LIMIT]), len(clients))


def _sorted(caps: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(caps, key=CAPABILITIES.index))


EVERY_CLIENT = "*"  # a holding on every client (an administrator's, a scheduler's, ...)
Holdings = frozenset[tuple[str | None, str, str]]  # (client, "*" or None: practice), cap, reason


def holdings(state: PracticeState, emails: Collection[str]) -> dict[str, Holdings]:
    """What each of these members holds, compactly: a holding on every client once, as `*`,
    and a practice-wide capability with no client. Indexes only these members' clients."""
    index = AccessIndex(state, only=emails)
    out: dict[str, Holdings] = {}
    for email in emails:
        m = state.members.get(email)
        if m is None:
            out[email] = frozenset()
            continue
        profile = index.profile(email)
        held: set[tuple[str | None, str, str]] = {(None, cap, why)
                                                  for cap, why in practice_wide(m)}
        held |= {(EVERY_CLIENT, cap, why) for cap, why in profile.everywhere}
        held |= {(cid, cap, why) for cid, caps in profile.per_client.items()
                 for cap, why in caps}
        out[email] = frozenset(held)
    return out
