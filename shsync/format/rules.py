"""The practice's rules, beyond structure. Each rule has its own code (see `CODES`).

Rules read an org as plain data, as the compiled schema accepted it (the dicts and lists the
loader built; absent keys mean their defaults; emails in any case, compared lowercased), and
report `Finding`s on paths into it; they know nothing of files. A pydantic model is dumped to the
same form first (`check_snapshot`), so there is one set of rules. Every rule runs, so a user sees
all problems at once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from shsync.model.clock import (
    FIRST_YEAR,
    LAST_YEAR,
    OutOfRange,
    duration,
    end_instant,
    span_minutes,
    valid_zone,
)  # fmt: skip
from shsync.model.diagnostics import Finding, KeyOf, Path, error, warning
from shsync.model import plain
from shsync.format.npi import npi_check_digit
from shsync.format.structure import closest
from shsync.model.plain import Item, grantee, low
from shsync.model.vocabulary import MAX_BREAK_GLASS_MINUTES, MAX_DEADLINE_MINUTES, ROLES

if TYPE_CHECKING:
    from shsync.model.org import Snapshot

PRACTITIONER_ONLY = ("npi", "taxonomy", "billing_access", "full_clinical_access", "supervised_by",
                     "cosign")

CODES: dict[str, str] = {
    "duplicate-email": "an email is declared for more than one member",
    "duplicate-client": "a client id is declared more than once",
    "no-role": "a member has no role and is not an administrator",
    "invalid-npi": "an NPI fails the format or the check digit",
    "duplicate-npi": "two members share an NPI",
    "practitioner-only": "npi, taxonomy, billing_access, full_clinical_access or supervised_by on "
                         "a member without the practitioner role",
    "multiple-owners": "more than one member is the owner",
    "owner-not-admin": "the owner is not an administrator",
    "no-admin": "no member is an administrator",
    "unknown-supervisor": "a supervisor is not a declared member",
    "not-a-supervisor": "a supervisor does not hold the supervisor role",
    "self-supervision": "a member supervises themselves",
    "supervision-cycle": "supervision goes round in a cycle",
    "unknown-practitioner": "a client's practitioner is not a declared member",
    "not-a-practitioner": "a client's practitioner does not hold the practitioner role",
    "unknown-member": "a reference names no declared member",
    "duplicate-access": "a client grants access to the same member twice",
    "access-to-practitioner": "a client grants access to its own practitioner",
    "access-not-practitioner": "a client grants access to a member who is neither a "
                               "practitioner nor an administrator",
    "cosign-without-supervisor": "co-signature requirements on a member with no supervisor",
    "client-supervisor-is-practitioner": "a client's supervisor is its own practitioner",
    "handoff-from-member": "a handoff's from is still a declared member",
    "handoff-target": "a handoff target is not a declared practitioner",
    "duplicate-handoff": "two handoffs for the same member",
    "conflicting-setting": "files of one org disagree on practice or prune",
    "unknown-client": "a reference names no declared client",
    "control-character": "a name holds a control character, a bidi override or a line separator",
    "invalid-until": "an until that is not a real date or time",
    "invalid-timezone": "a timezone that is not an IANA time zone name",
    "invalid-policy": "a break-glass policy naming no role, admin or member, or an approvals "
                      "count that is negative or over 20",
    "missing-npi": "(warning) a practitioner with billing access has no NPI",
    "expired-grant": "(warning) access whose until has passed: it is revoked, and the entry "
                     "can be removed",
    "until-without-reason": "(warning) access with an until but no reason",
    "redundant-access": "(warning) a grant to a member who already sees every record",
}


def _member(m: Item) -> dict[str, Any]:
    """A member with its identities lowercased (members are few; clients are read in place)."""
    return {**m, "email": m["email"].lower(), "supervised_by": low(m.get("supervised_by"))}


class _Index:
    """Members by email, built once for every rule.

    `unchecked` holds the emails of members left out because their entries are malformed: the
    file declares them, so references to them are neither confirmed nor reported.
    """

    def __init__(self, members: Sequence[Item], unchecked: frozenset[str] = frozenset()):
        self.members = [_member(m) for m in members]
        self.unchecked = unchecked
        self.by_email: dict[str, tuple[int, dict[str, Any]]] = {}
        for i, m in enumerate(self.members):
            self.by_email.setdefault(m["email"], (i, m))
        # The questions every client asks, answered once as sets (clients are many).
        self.known = set(self.by_email) | unchecked
        self.practitioners = {e for e in self.by_email if self.has_role(e, "practitioner")}
        self.practitioners |= unchecked
        self.grantable = {e for e in self.known if self.may_be_granted(e)}
        self.full = {e for e, (_, m) in self.by_email.items() if m.get("full_clinical_access")}
        self._hints: dict[tuple[str, frozenset[str] | None], str] = {}

    def hint(self, email: str, among: Iterable[str] | None = None) -> str:
        """`; did you mean 'dana@x.example'?` for an email that names no member (or none of
        `among`), when a member's is near: the local part compared with those of the same
        domain, or the domain with those of the same local part. Cached: a typo repeats."""
        key = (email, None if among is None else frozenset(among))
        if key not in self._hints:
            emails = self.by_email if among is None else among
            local, _, domain = email.rpartition("@")
            by_local = {e.rpartition("@")[0]: e for e in emails if e.rpartition("@")[2] == domain}
            guess = closest(local, by_local)
            meant = by_local[guess] if guess is not None else None
            if meant is None:
                by_domain = {e.rpartition("@")[2]: e for e in emails
                             if e.rpartition("@")[0] == local}
                near = closest(domain, by_domain)
                meant = by_domain[near] if near is not None else None
            self._hints[key] = f"; did you mean {meant}?" if meant and meant != email else ""
        return self._hints[key]

    def knows(self, email: str) -> bool:
        return email in self.by_email or email in self.unchecked

    def may_be_granted(self, email: str) -> bool:
        """Manage Access lists practitioners; an administrator may add themselves."""
        found = self.by_email.get(email)
        return email in self.unchecked or found is not None and (
            "practitioner" in found[1].get("roles", ()) or bool(found[1].get("admin")))

    def has_role(self, email: str, role: str) -> bool:
        if email in self.unchecked:
            return True
        found = self.by_email.get(email)
        return found is not None and role in found[1].get("roles", ())


def check_org(org: Item, unchecked: frozenset[str] = frozenset(),
              now: str | None = None) -> list[Finding]:
    """Every rule over an org's plain data (see the module docstring)."""
    index = _Index(org.get("members", ()), unchecked)
    clients = org.get("clients", ())
    return [
        *_text_rules(org.get("practice"), index),
        *_member_rules(index),
        *_supervision_rules(index),
        *_client_rules(clients, index),
        *_handoff_rules(org.get("handoffs", ()), index),
        *_ending_rules(org, index, now),
    ]


def _endings(org: Item, index: _Index) -> Iterator[tuple[Item, Path, str]]:
    """Every access that ends by itself, where it is, and what it is."""
    for i, m in enumerate(index.members):
        if isinstance(m.get("full_clinical_access"), dict):
            yield (m["full_clinical_access"], ("members", i, "full_clinical_access"),
                   f"{m['email']}'s full clinical access")
    for i, c in enumerate(org.get("clients", ())):
        for j, g in enumerate(c.get("access", ())):
            if not isinstance(g, str):
                yield (g, ("clients", i, "access", j),
                       f"client {c['id']}'s grant to {g['member'].lower()}")


def _ending_rules(org: Item, index: _Index, now: str | None) -> Iterator[Finding]:
    zone = org.get("timezone")
    if zone is not None and not valid_zone(zone):
        yield error("invalid-timezone", f"timezone {zone!r} is not an IANA time zone name "
                                        "(like America/Chicago or Europe/Paris)", ("timezone",))
        zone = None
    for ending, at, what in _endings(org, index):
        until = ending["until"]
        try:
            end = end_instant(until, zone)
        except OutOfRange:
            yield error("time-out-of-range", f"{what}: until {until!r} is outside the "
                                             f"years {FIRST_YEAR} to {LAST_YEAR}",
                        at + ("until",))
            continue
        except ValueError:
            yield error("invalid-until", f"{what}: until {until!r} is not a real date or "
                                         "time", at + ("until",))
            continue
        if now is not None and end <= now:
            yield warning("expired-grant", f"{what} ended at {end}: it is revoked by the next "
                                           "plan, and this entry can be removed",
                          at + ("until",))
        if ending.get("reason") is None:
            yield warning("until-without-reason", f"{what} has an until but no reason; say why "
                                                  "(reason: ...) for the audit log",
                          at + ("until",))
    policy = plain.break_glass(org)
    for j, who in enumerate(policy[0] if policy is not None else ()):
        if who not in ROLE_NAMES and "@" not in who:
            yield error("invalid-policy", f"break_glass.who names {who!r}: give a role "
                                          f"({', '.join(ROLE_NAMES)}) or a member's email",
                        ("policy", "break_glass", "who", j))
        elif "@" in who and not index.knows(who.lower()):
            yield error("unknown-member", f"break_glass.who names {who}, who is not a member"
                                          f"{index.hint(who.lower())}",
                        ("policy", "break_glass", "who", j))
    if policy is not None and not _sane_length(policy[1]):
        yield error("invalid-policy", f"break_glass.max {policy[1]!r} must be from 1m to "
                                      f"{MAX_BREAK_GLASS_MINUTES // 1440}d (like 8h, 90m or "
                                      "1h30m; at most 168h)", ("policy", "break_glass", "max"))
    yield from _approval_rules(org)
    yield from _deadline_rules(org)


MAX_APPROVALS = 20


def _approval_rules(org: Item) -> Iterator[Finding]:
    counts = plain.approvals(org)
    for kind, count in counts.items() if counts is not None else ():
        if not 0 <= count <= MAX_APPROVALS:
            yield error("invalid-policy", f"approvals.{kind} is {count}: give how many "
                                          f"administrators must approve, 0 to {MAX_APPROVALS}",
                        ("policy", "approvals", kind))


def _deadline_rules(org: Item) -> Iterator[Finding]:
    for kind, length in (plain.deadlines(org) or {}).items():
        try:
            minutes = span_minutes(str(length))
        except ValueError:
            minutes = 0
        if not 1 <= minutes <= MAX_DEADLINE_MINUTES:
            yield error("invalid-policy", f"deadlines.{kind} {length!r} must be from 1m to "
                                          f"{MAX_DEADLINE_MINUTES // 1440}d (like 1h, 3d or "
                                          "90m)", ("policy", "deadlines", kind))


ROLE_NAMES = (*ROLES, "admin")  # who `policy.break_glass.who` may name besides members


def check_snapshot(snapshot: Snapshot, unchecked: frozenset[str] = frozenset()) -> list[Finding]:
    data = snapshot.model_dump(by_alias=True)  # the plain form every rule reads
    index = _Index(data["members"], unchecked)
    client_ids = {c["id"] for c in data["clients"]}
    findings = [*_text_rules(data["practice"], index), *_member_rules(index),
                *_supervision_rules(index), *_client_rules(data["clients"], index)]
    sources = (("appointments", "practitioner"), ("notes", "author"))
    for kind, field in sources:
        for i, item in enumerate(data[kind]):
            who = item[field]
            if not index.knows(who):
                findings.append(error("unknown-member", f"{who} is not a member{index.hint(who)}",
                                      (kind, i, field)))
            if item["client"] not in client_ids and item["client"] not in unchecked:
                findings.append(error("unknown-client", f"client {item['client']} is not declared",
                                      (kind, i, "client")))
    return findings


TEXT_FIELDS = ("first_name", "last_name")
# What `control-character` refuses in names: C0/C1 controls and DEL, bidi embeddings,
# overrides, isolates and marks, and the line and paragraph separators.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def first_unsafe(text: str) -> str | None:
    """The first character `control-character` refuses, written as an escape, or None."""
    found = _UNSAFE.search(text)
    return None if found is None else f"\\u{ord(found.group()):04x}"


def _text_rules(practice: str | None, index: _Index) -> Iterator[Finding]:
    """Free text is shown to people: a control character, a bidi override or a line separator
    in it could rewrite what a plan, a runbook or a terminal shows."""
    named: list[tuple[str, str, Path]] = [("practice", practice or "", ("practice",))]
    named += [(f"{m['email']}'s {field}", m[field], ("members", i, field))
              for i, m in enumerate(index.members) for field in TEXT_FIELDS]
    for what, value, path in named:
        found = first_unsafe(value)
        if found:
            yield error("control-character", f"{what} holds the character {found} (a control "
                                             "character, bidi override or line separator); "
                                             "names may hold none", path)


def _duplicates(keys: Iterable[tuple[str, Path]]) -> Iterator[tuple[str, list[Path]]]:
    seen: dict[str, list[Path]] = defaultdict(list)
    for key, path in keys:
        seen[key].append(path)
    for key, paths in seen.items():
        if len(paths) > 1:
            yield key, paths


def _member_rules(index: _Index) -> Iterator[Finding]:
    members = index.members
    for email, paths in _duplicates((m["email"], ("members", i, "email"))
                                    for i, m in enumerate(members)):
        yield error("duplicate-email", f"member {email} is declared {len(paths)} times", *paths)
    for npi, paths in _duplicates((m["npi"], ("members", i, "npi"))
                                  for i, m in enumerate(members) if m.get("npi")):
        yield error("duplicate-npi", f"NPI {npi} is declared for {len(paths)} members", *paths)
    owners = [(i, m["email"]) for i, m in enumerate(members) if m.get("owner")]
    if len(owners) > 1:
        for i, who in owners:
            others = [e for j, e in owners if j != i]
            also = (f"and so is {others[0]}" if len(others) == 1
                    else f"and so are {', '.join(others[:-1])} and {others[-1]}")
            yield error("multiple-owners", f"{who} is marked owner, {also}; a practice has one "
                                           "owner", ("members", i, "owner"))
    if not any(m.get("admin") for m in members) and not index.unchecked:
        yield error("no-admin", "no member is an administrator (admin: true); a practice needs "
                                "at least one", ("members",))
    for i, m in enumerate(members):
        yield from _one_member(i, m)


def _one_member(i: int, m: Item) -> Iterator[Finding]:
    at: Path = ("members", i)
    email, npi = m["email"], m.get("npi")
    if not m.get("roles") and not m.get("admin"):
        yield error("no-role", f"member {email} has no role and is not an administrator; give "
                               "them a role or admin: true", at + (KeyOf("email"),))
    if npi and (expected := npi_check_digit(npi[:9])) != int(npi[9]):
        yield error("invalid-npi", f'"{npi}" fails the NPI check digit (expected '
                                   f'{npi[:9]}{expected})', at + ("npi",))
    if m.get("owner") and not m.get("admin"):
        yield error("owner-not-admin", f"the owner {email} must be an administrator "
                                       "(admin: true)", at + ("owner",))
    if "practitioner" not in m.get("roles", ()):
        for field in PRACTITIONER_ONLY:
            if m.get(field) is not None:
                yield error("practitioner-only", f"{field} is only for practitioners, and "
                                                 f"{email} does not have the practitioner role",
                            at + (KeyOf(field),))
    elif npi is None and m.get("billing_access") is not False:
        yield warning("missing-npi", f"practitioner {email} has billing access but no NPI; "
                                     "claims for their sessions cannot be submitted",
                      at + (KeyOf("email"),))


def _supervision_rules(index: _Index) -> Iterator[Finding]:
    for i, m in enumerate(index.members):
        sup = m["supervised_by"]
        if m.get("cosign") and sup is None:
            yield error("cosign-without-supervisor", f"{m['email']} requires co-signatures but "
                                                     "has no supervised_by",
                        ("members", i, "cosign"))
        if sup is None:
            continue
        at = ("members", i, "supervised_by")
        if sup == m["email"]:
            yield error("self-supervision", f"{m['email']} cannot supervise themselves", at)
        elif not index.knows(sup):
            yield error("unknown-supervisor", f"{m['email']} is supervised by {sup}, who is not "
                                              f"a member{index.hint(sup)}", at)
        elif not index.has_role(sup, "supervisor"):
            yield error("not-a-supervisor", f"{m['email']} is supervised by {sup}, who does not "
                                            "have the supervisor role", at)
    yield from _cycles(index)


def _cycles(index: _Index) -> Iterator[Finding]:
    """Each supervision cycle once, whole: a -> b -> c -> a."""
    done: set[str] = set()
    for start in index.by_email:
        trail: list[str] = []
        on_trail: set[str] = set()
        current: str | None = start
        while current is not None and current not in done and current not in on_trail:
            trail.append(current)
            on_trail.add(current)
            found = index.by_email.get(current)
            current = found[1]["supervised_by"] if found else None
        if current is not None and current in on_trail:
            cycle = trail[trail.index(current):]
            if len(cycle) > 1:
                shown = " -> ".join([*cycle, cycle[0]])
                paths = [("members", index.by_email[e][0], "supervised_by") for e in cycle]
                yield error("supervision-cycle", f"supervision goes round in a cycle: {shown}",
                            *paths)
        done.update(trail)


def _client_rules(clients: Sequence[Item], index: _Index) -> Iterator[Finding]:
    first: dict[str, int] = {}
    repeated: dict[str, list[Path]] = {}
    for i, c in enumerate(clients):  # paths only for the ids that repeat: clients are many
        if first.setdefault(c["id"], i) != i:
            repeated.setdefault(c["id"], [("clients", first[c["id"]], "id")]).append(
                ("clients", i, "id"))
    for cid, paths in sorted(repeated.items(), key=lambda item: first[item[0]]):
        yield error("duplicate-client", f"client {cid} is declared {len(paths)} times", *paths)
    for i, c in enumerate(clients):
        if not _usual(c, index):
            yield from _one_client(i, c, index)


def _one_client(i: int, c: Item, index: _Index) -> Iterator[Finding]:
    cid, practitioner = c["id"], c["practitioner"].lower()
    access, supervisor = c.get("access"), c.get("supervisor")
    at: Path = ("clients", i)
    if practitioner not in index.known:
        yield error("unknown-practitioner", f"client {cid}'s practitioner {practitioner} "
                                            f"is not a member{index.hint(practitioner)}",
                    at + ("practitioner",))
    elif practitioner not in index.practitioners:
        yield error("not-a-practitioner", f"client {cid}'s practitioner {practitioner} "
                                          "does not have the practitioner role",
                    at + ("practitioner",))
    seen: set[str] = set()
    for j, entry in enumerate(access or ()):
        who = grantee(entry)
        where = at + ("access", j) + (() if isinstance(entry, str) else ("member",))
        if who in seen:
            yield error("duplicate-access", f"client {cid} grants access to {who} twice", where)
        elif who == practitioner:
            yield error("access-to-practitioner", f"client {cid} grants access to {who}, "
                                                  "its own practitioner", where)
        elif who not in index.known:
            yield error("unknown-member", f"client {cid} grants access to {who}, who is "
                                          f"not a member{index.hint(who)}", where)
        elif who not in index.grantable:
            yield error("access-not-practitioner", f"client {cid} grants access to {who}, "
                                                   "who is neither a practitioner nor an "
                                                   "administrator (Manage Access lists "
                                                   "practitioners)", where)
        elif who in index.full:
            yield warning("redundant-access", f"client {cid} grants access to {who}, who "
                                              "already has full clinical access", where)
        seen.add(who)
    supervisor = low(supervisor)
    if supervisor is not None:
        where = at + ("supervisor",)
        if supervisor == practitioner:
            yield error("client-supervisor-is-practitioner", f"client {cid}'s supervisor "
                                                             "is its own practitioner", where)
        elif not index.knows(supervisor):
            yield error("unknown-supervisor", f"client {cid}'s supervisor {supervisor} is "
                                              f"not a member{index.hint(supervisor)}", where)
        elif not index.has_role(supervisor, "supervisor"):
            yield error("not-a-supervisor", f"client {cid}'s supervisor {supervisor} does "
                                            "not have the supervisor role", where)


def _usual(c: Item, index: _Index) -> bool:
    """A client every rule of `_one_client` accepts without a word, found with a few set
    lookups: nearly every client is one, and they are many."""
    practitioner = c["practitioner"].lower()
    if practitioner not in index.practitioners or c.get("supervisor") is not None:
        return False
    seen = set()
    for entry in c.get("access", ()):
        if not isinstance(entry, str):
            return False  # a grant with an end: let the rules name its member
        who = entry.lower()
        if who in seen or who == practitioner or who not in index.grantable or who in index.full:
            return False
        seen.add(who)
    return True


def _handoff_rules(handoffs: Sequence[Item], index: _Index) -> Iterator[Finding]:
    for who, paths in _duplicates((h["from"].lower(), ("handoffs", i, "from"))
                                  for i, h in enumerate(handoffs)):
        yield error("duplicate-handoff", f"{who} has {len(paths)} handoffs; give one", *paths)
    for i, h in enumerate(handoffs):
        leaving = h["from"].lower()
        if leaving in index.by_email:
            yield error("handoff-from-member", f"{leaving} is handed off but still declared as "
                                               "a member; remove them from members:",
                        ("handoffs", i, "from"))
        for field in ("clients", "notes"):
            target = low(h.get(field))
            if target is not None and not index.has_role(target, "practitioner"):
                yield error("handoff-target", f"{leaving}'s {field} go to {target}, who is not a "
                                              "declared practitioner"
                                              + ("" if index.knows(target) else
                                                 index.hint(target, index.practitioners)),
                            ("handoffs", i, field))
        signer = low(h.get("signatures"))
        if signer is not None and not index.has_role(signer, "supervisor"):
            yield error("handoff-target", f"{leaving}'s notes awaiting signature go to "
                                          f"{signer}, who is not a declared supervisor",
                        ("handoffs", i, "signatures"))


def _sane_length(text: str) -> bool:
    """A break-glass max the store can hold: 1 minute to a week (never a crash on 0m or 9999h)."""
    try:
        minutes = duration(text).total_seconds() / 60
    except (ValueError, OverflowError):
        return False
    return 1 <= minutes <= MAX_BREAK_GLASS_MINUTES
