"""The practice as data: what a backend reads, what an org file desires, and its fingerprint.

These are plain frozen values shared by the planner and every backend. Clients appear by id only.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shsync.core.frozen import quick_init
from shsync.model import plain
from shsync.model.clock import duration, end_instant, iso, span_minutes
from shsync.model.plain import Item, OrgValues, grantee, low
from shsync.model.vocabulary import APPROVAL_KINDS, DEADLINE_KINDS, DEFAULT_DEADLINES

if TYPE_CHECKING:  # the models are pydantic's: plan and apply of a valid file never import it
    from shsync.model.org import Member, Org, Snapshot

CLINICAL_FIELDS = ("npi", "taxonomy")
__all__ = ["iso", "end_instant"]  # re-exported: older imports read them from here


@quick_init
@dataclass(frozen=True, slots=True)
class End:
    """When one member's access to one client ends by itself, and why. `break_glass`: emergency
    access a member gave themselves (`shsync break-glass`), outside the org file."""

    member: str
    until: str  # an instant: UTC, seconds, Z
    reason: str | None = None
    break_glass: bool = False

    def passed(self, now: str) -> bool:
        return self.until <= now


@quick_init
@dataclass(frozen=True, slots=True)
class MemberState:
    email: str
    first_name: str
    last_name: str
    roles: tuple[str, ...] = ()
    admin: bool = False
    owner: bool = False
    npi: str | None = None
    taxonomy: str | None = None
    billing_access: bool = True
    full_clinical_access: bool = False
    supervisor: str | None = None
    status: str = "active"  # active | invited
    invited_at: str | None = None
    cosign: tuple[str, ...] = ()  # what the supervisor must co-sign
    clinical_until: str | None = None  # full clinical access ends then (an instant)
    clinical_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"

    def has(self, role: str) -> bool:
        return role in self.roles


@quick_init
@dataclass(frozen=True, slots=True)
class ClientState:
    id: str
    practitioner: str
    access: tuple[str, ...] = ()
    supervisor: str | None = None
    ends: tuple[End, ...] = ()  # grants in `access` that end by themselves, by member

    def end_of(self, member: str) -> End | None:
        return next((e for e in self.ends if e.member == member), None)


@dataclass(frozen=True, slots=True)
class Appointment:
    id: int
    practitioner: str
    client: str
    starts_at: str


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    author: str
    client: str
    status: str  # incomplete | awaiting_signature | signed
    signed_at: str | None = None
    supervisor: str | None = None


@dataclass(frozen=True)
class PracticeState:
    """A live practice: current members (not removed ones), clients, scheduled appointments,
    notes."""

    members: Mapping[str, MemberState] = field(default_factory=dict)
    clients: Mapping[str, ClientState] = field(default_factory=dict)
    appointments: tuple[Appointment, ...] = ()
    notes: tuple[Note, ...] = ()
    name: str | None = None
    # The two-person rule the practice keeps (`policy.approvals`, set by a `set_policy` step):
    # (kind, count) pairs, sorted, counts above 0; () for none. See reconcile/approvals.py.
    approval_policy: tuple[tuple[str, int], ...] = ()
    # Who may break glass and for how long (`policy.break_glass`, set by a
    # `set_break_glass_policy` step): (who, max minutes); None: the default, practitioners for 8h.
    # The store checks every break_glass step against it (actions._break_glass_pre).
    break_glass_policy: tuple[tuple[str, ...], int] | None = None
    # How soon each kind of runbook step must be carried out in Sessions Health
    # (`policy.deadlines`, set by a `set_deadline_policy` step): (kind, minutes) pairs, sorted;
    # () for the defaults (core/runbook.py DEFAULT_DEADLINES).
    deadline_policy: tuple[tuple[str, int], ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.members and not self.clients

    def practitioner_count(self) -> int:
        return sum(m.has("practitioner") for m in self.members.values())

    def owner(self) -> str | None:
        return next((m.email for m in self.members.values() if m.owner), None)


def fingerprint(state: PracticeState) -> str:
    """sha256 over a canonical form of exactly what was read; equal states, equal fingerprints."""
    digest = hashlib.sha256()
    digest.update(json.dumps(state.name).encode())
    # One row of compact JSON per line, as `json.dumps(row, separators=(",", ":"))` writes it;
    # one encoder for all of them (json.dumps builds one per call when separators are given,
    # and at L there are 210,000 rows) and one update per section.
    encode = _encode_row
    for section in ([state.members[e] for e in sorted(state.members)],
                    [state.clients[c] for c in sorted(state.clients)],
                    sorted(state.appointments, key=lambda a: a.id),
                    sorted(state.notes, key=lambda n: n.id)):
        digest.update("".join([encode(_row(value)) + "\n" for value in section]).encode())
        digest.update(b"\x1e")
    if state.approval_policy:  # added later: a practice without one keeps its fingerprint
        digest.update(b"approvals" + json.dumps(state.approval_policy).encode())
    if state.break_glass_policy is not None:  # likewise
        digest.update(b"break_glass" + json.dumps(state.break_glass_policy).encode())
    if state.deadline_policy:  # likewise
        digest.update(b"deadlines" + json.dumps(state.deadline_policy).encode())
    return "sha256:" + digest.hexdigest()


_COMPACT = json.JSONEncoder(separators=(",", ":"))


def _row_encoder() -> Callable[[Any], str]:
    """`_COMPACT.encode` for one row, from one C encoder made once: `encode` makes a new one on
    every call, which was half the time of 210,000 rows (0.64 -> 0.33 s). Rows hold no cycles,
    so none is looked for. Python's own encoder where the C one is missing."""
    make = getattr(json.encoder, "c_make_encoder", None)
    try:  # the arguments JSONEncoder.iterencode passes it, for _COMPACT
        encoder = make(None, _COMPACT.default, json.encoder.encode_basestring_ascii, None,
                       ":", ",", False, False, True)  # type: ignore[misc]
    except TypeError:  # None, or another Python's signature
        return _COMPACT.encode
    return lambda row: "".join(encoder(row, 0))


_encode_row = _row_encoder()

# Fields added after stores existed: left out of a row while they hold their default, so the
# fingerprints (and audit entries) of practices without time-bound access stay as they were.
_LATER = {"ends": (), "clinical_until": None, "clinical_reason": None}


def _row(value: Any) -> list[Any]:
    """The value's fields in order, less the later ones at their defaults (`_LATER`)."""
    getter, later = _ROW_PLANS.get(type(value)) or _row_plan(type(value))
    row = list(getter(value))
    for i, name in later:  # from the last field back, so the indexes stay right
        if row[i] == _LATER[name]:
            del row[i]
        elif name == "ends":
            row[i] = [_row(e) for e in row[i]]
    return row


_ROW_PLANS: dict[type, tuple[Callable[[Any], tuple[Any, ...]], list[tuple[int, str]]]] = {}


def _row_plan(kind: type) -> tuple[Callable[[Any], tuple[Any, ...]], list[tuple[int, str]]]:
    names: tuple[str, ...] = kind.__slots__  # type: ignore[attr-defined]  # slotted dataclasses
    getter = operator.attrgetter(*names) if len(names) > 1 else (
        lambda v: (getattr(v, names[0]),))
    later = [(i, n) for i, n in enumerate(names) if n in _LATER][::-1]
    _ROW_PLANS[kind] = (getter, later)
    return getter, later


# --- from the file formats ---------------------------------------------------------------------

def member_state(m: Member, *, status: str = "active", invited_at: str | None = None,
                 timezone: str | None = None) -> MemberState:
    from shsync.model.org import Ending  # a model is here, so pydantic is already imported

    practitioner = m.is_practitioner
    ending = m.full_clinical_access if isinstance(m.full_clinical_access, Ending) else None
    return MemberState(
        email=m.email, first_name=m.first_name, last_name=m.last_name,
        roles=tuple(sorted(m.roles)), admin=m.admin, owner=m.owner,
        npi=m.npi if practitioner else None, taxonomy=m.taxonomy if practitioner else None,
        billing_access=m.billing_access is not False if practitioner else True,
        full_clinical_access=bool(m.full_clinical_access) if practitioner else False,
        supervisor=m.supervised_by if practitioner else None,
        status=status, invited_at=invited_at,
        cosign=tuple(sorted(m.cosign or ())) if practitioner and m.supervised_by else (),
        clinical_until=end_instant(ending.until, timezone) if ending and practitioner else None,
        clinical_reason=ending.reason if ending and practitioner else None,
    )


def client_state(c: Any, timezone: str | None = None) -> ClientState:
    """A client of an org file or snapshot; grants with an `until` carry their end."""
    from shsync.model.org import Grant  # a model is here, so pydantic is already imported

    ends = tuple(sorted((End(g.member, end_instant(g.until, timezone), g.reason)
                         for g in c.access if isinstance(g, Grant)), key=lambda e: e.member))
    return ClientState(c.id, c.practitioner, tuple(sorted(set(c.grantees()))), c.supervisor,
                       ends)


@dataclass(frozen=True)
class Desired:
    """What an org file asks for."""

    members: Mapping[str, MemberState]
    clients: Mapping[str, ClientState]
    handoffs: Mapping[str, Handoff]
    prune: bool = True
    declares_owner: bool = False
    name: str | None = None  # the practice's display name, when the file sets it
    approval_policy: tuple[tuple[str, int], ...] | None = None  # None: the file leaves it be
    break_glass_policy: tuple[tuple[str, ...], int] | None = None  # likewise
    deadline_policy: tuple[tuple[str, int], ...] | None = None  # likewise; () the defaults


@dataclass(frozen=True, slots=True)
class Handoff:
    """Where a leaving member's work goes: clients, incomplete notes, notes awaiting their
    signature."""

    clients: str | None = None
    notes: str | None = None
    signatures: str | None = None


# --- from an org's plain data (the plain path: see shsync/model/plain.py) ----------------------

def desired_from_values(org: OrgValues) -> Desired:
    """What a checked org asks for, read from its plain data, without building a model per
    member and client. The tests hold it equal, field for field, to the same org read through
    its pydantic model (tests/format/model_oracle.py)."""
    data = org.data
    zone = data.get("timezone")
    members = {}
    for m in org.members:
        state = _member_value(m, zone)
        members[state.email] = state
    # Emails recur on every client: keep one string per member, not one per mention.
    canon = {email: email for email in members}
    clients = {}
    for c in org.clients:
        clients[c["id"]] = _client_value(c, zone, canon)
    return Desired(
        members=members,
        clients=clients,
        handoffs={h["from"].lower(): Handoff(low(h.get("clients")), low(h.get("notes")),
                                             low(h.get("signatures")))
                  for h in data.get("handoffs", ())},
        prune=data.get("prune", True),
        declares_owner=any(m.get("owner", False) for m in org.members),
        name=data.get("practice"),
        approval_policy=_approval_values(plain.approvals(data)),
        break_glass_policy=_break_glass_values(plain.break_glass(data)),
        deadline_policy=deadline_values(plain.deadlines(data)),
    )


def _member_value(m: Item, timezone: str | None) -> MemberState:
    roles = m.get("roles", ())
    if "practitioner" not in roles:
        return MemberState(email=m["email"].lower(), first_name=m["first_name"],
                           last_name=m["last_name"], roles=tuple(sorted(roles)),
                           admin=m.get("admin", False), owner=m.get("owner", False))
    supervisor = low(m.get("supervised_by"))
    access = m.get("full_clinical_access")
    ending = access if isinstance(access, dict) else None
    return MemberState(
        email=m["email"].lower(), first_name=m["first_name"], last_name=m["last_name"],
        roles=tuple(sorted(roles)), admin=m.get("admin", False), owner=m.get("owner", False),
        npi=m.get("npi"), taxonomy=m.get("taxonomy"),
        billing_access=m.get("billing_access") is not False,
        full_clinical_access=bool(access),
        supervisor=supervisor,
        cosign=tuple(sorted(m.get("cosign") or ())) if supervisor else (),
        clinical_until=end_instant(ending["until"], timezone) if ending else None,
        clinical_reason=ending.get("reason") if ending else None,
    )


def _client_value(c: Item, timezone: str | None, canon: Mapping[str, str]) -> ClientState:
    practitioner = c["practitioner"].lower()
    supervisor = c.get("supervisor")
    if supervisor is not None:
        supervisor = supervisor.lower()
    access = c.get("access")
    if not access:
        return ClientState(c["id"], canon.get(practitioner, practitioner), (), supervisor)
    names = set()
    grants = []
    for entry in access:
        if not isinstance(entry, str):
            grants.append(entry)
        who = grantee(entry)
        names.add(canon.get(who, who))
    ends = () if not grants else tuple(sorted(
        (End(g["member"].lower(), end_instant(g["until"], timezone), g.get("reason"))
         for g in grants), key=lambda e: e.member))
    return ClientState(c["id"], canon.get(practitioner, practitioner), tuple(sorted(names)),
                       supervisor, ends)


def _approval_values(counts: Mapping[str, int] | None) -> tuple[tuple[str, int], ...] | None:
    if counts is None:
        return None
    return tuple(sorted((kind, n) for kind, n in counts.items() if n > 0))


def _break_glass_values(rules: tuple[Sequence[str], str] | None,
                        ) -> tuple[tuple[str, ...], int] | None:
    if rules is None:
        return None
    who, longest = rules
    return (tuple(sorted(w.lower() if "@" in w else w for w in who)),
            int(duration(longest).total_seconds() // 60))


def deadline_values(given: Mapping[str, Any] | None) -> tuple[tuple[str, int], ...] | None:
    """`policy.deadlines` in the state's form: (kind, minutes) pairs that differ from the
    defaults, sorted; () when all are the defaults; None when the file is silent."""
    if given is None:
        return None
    defaults = {k: span_minutes(v) for k, v in DEFAULT_DEADLINES}
    return tuple(sorted((k, span_minutes(str(given[k]))) for k in DEADLINE_KINDS
                        if k in given and span_minutes(str(given[k])) != defaults[k]))


def deadline_policy(org: Org) -> tuple[tuple[str, int], ...] | None:
    """The file's `policy.deadlines` in the state's form (the pydantic path), or None."""
    found = org.policy.deadlines if org.policy else None
    return None if found is None else deadline_values(found.model_dump())


def approval_policy(org: Org) -> tuple[tuple[str, int], ...] | None:
    """The file's `policy.approvals` in the state's form, or None when it does not say."""
    approvals = org.policy.approvals if org.policy else None
    if approvals is None:
        return None
    return tuple(sorted((k, getattr(approvals, k)) for k in APPROVAL_KINDS
                        if getattr(approvals, k) > 0))


def break_glass_policy(org: Org) -> tuple[tuple[str, ...], int] | None:
    """The file's `policy.break_glass` in the state's form, or None when it does not say."""
    rules = org.policy.break_glass if org.policy else None
    if rules is None:
        return None
    return (tuple(sorted(w.lower() if "@" in w else w for w in rules.who)),
            int(duration(rules.max).total_seconds() // 60))


def _handoffs(handoffs: Any) -> dict[str, Handoff]:
    return {h.from_: Handoff(h.clients, h.notes, h.signatures) for h in handoffs}


def state_from_snapshot(snapshot: Snapshot) -> PracticeState:
    members = {m.email: member_state(m, status=m.status,
                                     invited_at=iso(m.invited_at) if m.invited_at else None)
               for m in snapshot.members}
    clients = {c.id: client_state(c) for c in snapshot.clients}
    appointments = tuple(Appointment(i, a.practitioner, a.client, iso(a.starts_at))
                         for i, a in enumerate(snapshot.appointments, 1))
    notes = []
    for i, n in enumerate(snapshot.notes, 1):
        supervisor = n.supervisor
        if supervisor is None and n.status == "awaiting_signature":
            supervisor = signer(members, clients, n.author, n.client)
        notes.append(Note(i, n.author, n.client, n.status,
                          iso(n.signed_at) if n.signed_at else None, supervisor))
    return PracticeState(members, clients, appointments, tuple(notes), snapshot.practice)


def holds(members: Mapping[str, MemberState], email: str | None, role: str) -> bool:
    """Is `email` a current member with `role`?"""
    return email is not None and email in members and members[email].has(role)


def signer(members: Mapping[str, MemberState], clients: Mapping[str, ClientState],
           author: str, client: str) -> str | None:
    """Who signs `author`'s notes on `client`: the client's own supervisor where it has one,
    else the author's supervisor. The one place this rule lives."""
    override = clients[client].supervisor if client in clients else None
    return override or (members[author].supervisor if author in members else None)


# --- the canonical form a seed audit entry records, so the log can be replayed --------------

def state_to_dict(state: PracticeState) -> dict[str, Any]:
    out: dict[str, Any] = {"name": state.name,
           "members": [_row(m) for _, m in sorted(state.members.items())],
           "clients": [_row(c) for _, c in sorted(state.clients.items())],
           "appointments": [_row(a) for a in sorted(state.appointments, key=lambda a: a.id)],
           "notes": [_row(n) for n in sorted(state.notes, key=lambda n: n.id)]}
    if state.approval_policy:
        out["approval_policy"] = [list(p) for p in state.approval_policy]
    if state.break_glass_policy is not None:
        who, minutes = state.break_glass_policy
        out["break_glass_policy"] = {"who": list(who), "max_minutes": minutes}
    if state.deadline_policy:
        out["deadline_policy"] = [list(p) for p in state.deadline_policy]
    return out


def state_from_dict(data: dict[str, Any]) -> PracticeState:
    """The inverse of `state_to_dict`; raises ValueError (or TypeError) on anything else."""
    def tuples(row: list[Any], *positions: int) -> list[Any]:
        return [tuple(v) if i in positions else v for i, v in enumerate(row)]

    members = [MemberState(*tuples(r, 3, 13)) for r in data["members"]]
    clients = [ClientState(*tuples(r[:4], 2), *([tuple(End(*e) for e in r[4])] if len(r) > 4
                                                else [])) for r in data["clients"]]
    return PracticeState({m.email: m for m in members}, {c.id: c for c in clients},
                         tuple(Appointment(*r) for r in data["appointments"]),
                         tuple(Note(*r) for r in data["notes"]), data["name"],
                         tuple((str(k), int(n)) for k, n in data.get("approval_policy", [])),
                         _glass_policy(data.get("break_glass_policy")),
                         tuple((str(k), int(n)) for k, n in data.get("deadline_policy", [])))


def _glass_policy(data: Any) -> tuple[tuple[str, ...], int] | None:
    if data is None:
        return None
    return tuple(str(w) for w in data["who"]), int(data["max_minutes"])
