"""The practice's rules, beyond structure. Each rule has its own code (see `CODES`).

Rules read a structurally valid model and report `Finding`s on paths into it; they know nothing of
files. Every rule runs, so a user sees all problems at once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from shsync.diagnostics import Finding, KeyOf, Path, error, warning
from shsync.model import (
    MAX_BREAK_GLASS_MINUTES,
    APPROVAL_KINDS, Appointment, Client, Ending, Grant, Handoff, Member, Note, Org, Snapshot,
)
from shsync.clock import FIRST_YEAR, LAST_YEAR, OutOfRange, duration, end_instant, valid_zone
from shsync.schema.npi import npi_check_digit

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


class _Index:
    """Members by email, built once for every rule.

    `unchecked` holds the emails of members left out because their entries are malformed: the
    file declares them, so references to them are neither confirmed nor reported.
    """

    def __init__(self, members: Sequence[Member], unchecked: frozenset[str] = frozenset()):
        self.members = members
        self.unchecked = unchecked
        self.by_email: dict[str, tuple[int, Member]] = {}
        for i, m in enumerate(members):
            self.by_email.setdefault(m.email, (i, m))

    def knows(self, email: str) -> bool:
        return email in self.by_email or email in self.unchecked

    def may_be_granted(self, email: str) -> bool:
        """Manage Access lists practitioners; an administrator may add themselves."""
        found = self.by_email.get(email)
        return email in self.unchecked or found is not None and (
            "practitioner" in found[1].roles or found[1].admin)

    def has_role(self, email: str, role: str) -> bool:
        if email in self.unchecked:
            return True
        found = self.by_email.get(email)
        return found is not None and role in found[1].roles


def check_org(org: Org, unchecked: frozenset[str] = frozenset(),
              now: str | None = None) -> list[Finding]:
    index = _Index(org.members, unchecked)
    return [
        *_text_rules(org.practice, index),
        *_member_rules(index),
        *_supervision_rules(index),
        *_client_rules(org.clients, index),
        *_handoff_rules(org.handoffs, index),
        *_ending_rules(org, index, now),
    ]


def _endings(org: Org) -> Iterator[tuple[Ending, Path, str]]:
    """Every access that ends by itself, where it is, and what it is."""
    for i, m in enumerate(org.members):
        if isinstance(m.full_clinical_access, Ending):
            yield (m.full_clinical_access, ("members", i, "full_clinical_access"),
                   f"{m.email}'s full clinical access")
    for i, c in enumerate(org.clients):
        for j, g in enumerate(c.access):
            if isinstance(g, Grant):
                yield g, ("clients", i, "access", j), f"client {c.id}'s grant to {g.member}"


def _ending_rules(org: Org, index: _Index, now: str | None) -> Iterator[Finding]:
    zone = org.timezone
    if zone is not None and not valid_zone(zone):
        yield error("invalid-timezone", f"timezone {zone!r} is not an IANA time zone name "
                                        "(like America/Chicago or Europe/Paris)", ("timezone",))
        zone = None
    for ending, at, what in _endings(org):
        try:
            end = end_instant(ending.until, zone)
        except OutOfRange:
            yield error("time-out-of-range", f"{what}: until {ending.until!r} is outside the "
                                             f"years {FIRST_YEAR} to {LAST_YEAR}",
                        at + ("until",))
            continue
        except ValueError:
            yield error("invalid-until", f"{what}: until {ending.until!r} is not a real date or "
                                         "time", at + ("until",))
            continue
        if now is not None and end <= now:
            yield warning("expired-grant", f"{what} ended at {end}: it is revoked by the next "
                                           "plan, and this entry can be removed",
                          at + ("until",))
        if ending.reason is None:
            yield warning("until-without-reason", f"{what} has an until but no reason; say why "
                                                  "(reason: ...) for the audit log",
                          at + ("until",))
    policy = org.policy.break_glass if org.policy else None
    for j, who in enumerate(policy.who if policy else ()):
        if who not in ROLE_NAMES and "@" not in who:
            yield error("invalid-policy", f"break_glass.who names {who!r}: give a role "
                                          f"({', '.join(ROLE_NAMES)}) or a member's email",
                        ("policy", "break_glass", "who", j))
        elif "@" in who and not index.knows(who.lower()):
            yield error("unknown-member", f"break_glass.who names {who}, who is not a member",
                        ("policy", "break_glass", "who", j))
    if policy is not None and not _sane_length(policy.max):
        yield error("invalid-policy", f"break_glass.max {policy.max!r} must be from 1m to "
                                      f"{MAX_BREAK_GLASS_MINUTES // 1440}d (like 8h, 90m or "
                                      "1h30m; at most 168h)", ("policy", "break_glass", "max"))
    yield from _approval_rules(org)


MAX_APPROVALS = 20


def _approval_rules(org: Org) -> Iterator[Finding]:
    approvals = org.policy.approvals if org.policy else None
    for kind in APPROVAL_KINDS if approvals else ():
        count = getattr(approvals, kind)
        if not 0 <= count <= MAX_APPROVALS:
            yield error("invalid-policy", f"approvals.{kind} is {count}: give how many "
                                          f"administrators must approve, 0 to {MAX_APPROVALS}",
                        ("policy", "approvals", kind))


ROLE_NAMES = ("practitioner", "supervisor", "scheduler", "biller", "forms_admin", "admin")


def check_snapshot(snapshot: Snapshot, unchecked: frozenset[str] = frozenset()) -> list[Finding]:
    index = _Index(snapshot.members, unchecked)
    client_ids = {c.id for c in snapshot.clients}
    findings = [*_text_rules(snapshot.practice, index), *_member_rules(index),
                *_supervision_rules(index),
                *_client_rules(snapshot.clients, index)]
    sources: tuple[tuple[str, Sequence[Appointment | Note], str], ...] = (
        ("appointments", snapshot.appointments, "practitioner"),
        ("notes", snapshot.notes, "author"))
    for kind, items, field in sources:
        for i, item in enumerate(items):
            who = getattr(item, field)
            if not index.knows(who):
                findings.append(error("unknown-member", f"{who} is not a member", (kind, i, field)))
            if item.client not in client_ids and item.client not in unchecked:
                findings.append(error("unknown-client", f"client {item.client} is not declared",
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
    named += [(f"{m.email}'s {field}", getattr(m, field), ("members", i, field))
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
    for email, paths in _duplicates((m.email, ("members", i, "email"))
                                    for i, m in enumerate(members)):
        yield error("duplicate-email", f"member {email} is declared {len(paths)} times", *paths)
    for npi, paths in _duplicates((m.npi, ("members", i, "npi"))
                                  for i, m in enumerate(members) if m.npi):
        yield error("duplicate-npi", f"NPI {npi} is declared for {len(paths)} members", *paths)
    owners = [(i, m.email) for i, m in enumerate(members) if m.owner]
    if len(owners) > 1:
        for i, who in owners:
            others = [e for j, e in owners if j != i]
            also = (f"and so is {others[0]}" if len(others) == 1
                    else f"and so are {', '.join(others[:-1])} and {others[-1]}")
            yield error("multiple-owners", f"{who} is marked owner, {also}; a practice has one "
                                           "owner", ("members", i, "owner"))
    if not any(m.admin for m in members) and not index.unchecked:
        yield error("no-admin", "no member is an administrator (admin: true); a practice needs "
                                "at least one", ("members",))
    for i, m in enumerate(members):
        yield from _one_member(i, m)


def _one_member(i: int, m: Member) -> Iterator[Finding]:
    at: Path = ("members", i)
    if not m.roles and not m.admin:
        yield error("no-role", f"member {m.email} has no role and is not an administrator; give "
                               "them a role or admin: true", at + (KeyOf("email"),))
    if m.npi and (expected := npi_check_digit(m.npi[:9])) != int(m.npi[9]):
        yield error("invalid-npi", f'"{m.npi}" fails the NPI check digit (expected '
                                   f'{m.npi[:9]}{expected})', at + ("npi",))
    if m.owner and not m.admin:
        yield error("owner-not-admin", f"the owner {m.email} must be an administrator "
                                       "(admin: true)", at + ("owner",))
    if not m.is_practitioner:
        for field in PRACTITIONER_ONLY:
            if getattr(m, field) is not None:
                yield error("practitioner-only", f"{field} is only for practitioners, and "
                                                 f"{m.email} does not have the practitioner role",
                            at + (KeyOf(field),))
    elif m.npi is None and m.billing_access is not False:
        yield warning("missing-npi", f"practitioner {m.email} has billing access but no NPI; "
                                     "claims for their sessions cannot be submitted",
                      at + (KeyOf("email"),))


def _supervision_rules(index: _Index) -> Iterator[Finding]:
    for i, m in enumerate(index.members):
        sup = m.supervised_by
        if m.cosign and sup is None:
            yield error("cosign-without-supervisor", f"{m.email} requires co-signatures but has "
                                                     "no supervised_by", ("members", i, "cosign"))
        if sup is None:
            continue
        at = ("members", i, "supervised_by")
        if sup == m.email:
            yield error("self-supervision", f"{m.email} cannot supervise themselves", at)
        elif not index.knows(sup):
            yield error("unknown-supervisor", f"{m.email} is supervised by {sup}, who is not a "
                                              "member", at)
        elif not index.has_role(sup, "supervisor"):
            yield error("not-a-supervisor", f"{m.email} is supervised by {sup}, who does not "
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
            current = found[1].supervised_by if found else None
        if current is not None and current in on_trail:
            cycle = trail[trail.index(current):]
            if len(cycle) > 1:
                shown = " -> ".join([*cycle, cycle[0]])
                paths = [("members", index.by_email[e][0], "supervised_by") for e in cycle]
                yield error("supervision-cycle", f"supervision goes round in a cycle: {shown}",
                            *paths)
        done.update(trail)


def _client_rules(clients: Sequence[Client], index: _Index) -> Iterator[Finding]:
    for cid, paths in _duplicates((c.id, ("clients", i, "id")) for i, c in enumerate(clients)):
        yield error("duplicate-client", f"client {cid} is declared {len(paths)} times", *paths)
    for i, c in enumerate(clients):
        at: Path = ("clients", i)
        if not index.knows(c.practitioner):
            yield error("unknown-practitioner", f"client {c.id}'s practitioner {c.practitioner} "
                                                "is not a member", at + ("practitioner",))
        elif not index.has_role(c.practitioner, "practitioner"):
            yield error("not-a-practitioner", f"client {c.id}'s practitioner {c.practitioner} "
                                              "does not have the practitioner role",
                        at + ("practitioner",))
        seen: set[str] = set()
        for j, who in enumerate(c.grantees()):
            where = at + ("access", j) + (("member",) if isinstance(c.access[j], Grant) else ())
            if who in seen:
                yield error("duplicate-access", f"client {c.id} grants access to {who} twice",
                            where)
            elif who == c.practitioner:
                yield error("access-to-practitioner", f"client {c.id} grants access to {who}, "
                                                      "its own practitioner", where)
            elif not index.knows(who):
                yield error("unknown-member", f"client {c.id} grants access to {who}, who is "
                                              "not a member", where)
            elif not index.may_be_granted(who):
                yield error("access-not-practitioner", f"client {c.id} grants access to {who}, "
                                                       "who is neither a practitioner nor an "
                                                       "administrator (Manage Access lists "
                                                       "practitioners)", where)
            elif who in index.by_email and index.by_email[who][1].full_clinical_access:
                yield warning("redundant-access", f"client {c.id} grants access to {who}, who "
                                                  "already has full clinical access", where)
            seen.add(who)
        if c.supervisor is not None:
            where = at + ("supervisor",)
            if c.supervisor == c.practitioner:
                yield error("client-supervisor-is-practitioner", f"client {c.id}'s supervisor "
                                                                 "is its own practitioner", where)
            elif not index.knows(c.supervisor):
                yield error("unknown-supervisor", f"client {c.id}'s supervisor {c.supervisor} is "
                                                  "not a member", where)
            elif not index.has_role(c.supervisor, "supervisor"):
                yield error("not-a-supervisor", f"client {c.id}'s supervisor {c.supervisor} does "
                                                "not have the supervisor role", where)


def _handoff_rules(handoffs: Sequence[Handoff], index: _Index) -> Iterator[Finding]:
    for who, paths in _duplicates((h.from_, ("handoffs", i, "from"))
                                  for i, h in enumerate(handoffs)):
        yield error("duplicate-handoff", f"{who} has {len(paths)} handoffs; give one", *paths)
    for i, h in enumerate(handoffs):
        if h.from_ in index.by_email:
            yield error("handoff-from-member", f"{h.from_} is handed off but still declared as a "
                                               "member; remove them from members:",
                        ("handoffs", i, "from"))
        for field in ("clients", "notes"):
            target = getattr(h, field)
            if target is not None and not index.has_role(target, "practitioner"):
                yield error("handoff-target", f"{h.from_}'s {field} go to {target}, who is not a "
                                              "declared practitioner", ("handoffs", i, field))
        if h.signatures is not None and not index.has_role(h.signatures, "supervisor"):
            yield error("handoff-target", f"{h.from_}'s notes awaiting signature go to "
                                          f"{h.signatures}, who is not a declared supervisor",
                        ("handoffs", i, "signatures"))


def _sane_length(text: str) -> bool:
    """A break-glass max the store can hold: 1 minute to a week (never a crash on 0m or 9999h)."""
    try:
        minutes = duration(text).total_seconds() / 60
    except (ValueError, OverflowError):
        return False
    return 1 <= minutes <= MAX_BREAK_GLASS_MINUTES
