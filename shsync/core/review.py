"""The quarterly access review as data: what `shsync report` renders into one HTML page.

Everything comes from one store, read once (`shsync.jobs.review`): the practice (members,
seats, each member's access with its reasons) and the audit log (the recent entries, whether
the hash chain holds, and every step since a date that widened someone's access). Pure: no
I/O; rendering is `shsync.render.report`'s job.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shsync.core.entry import LOADS, AuditEntry
from shsync.core.runbook import Step
from shsync.model.clock import parse_instant
from shsync.core.access import CAPABILITIES, AccessIndex, practice_wide
from shsync.core.actions import widens
from shsync.core.operations import Operation, from_dict
from shsync.core.state import PracticeState
from shsync.errors import InvalidPlan

RECENT = 20  # audit entries shown, newest first
LISTED = 10  # clients named per access line; the rest are counted


@dataclass(frozen=True)
class AccessLine:
    """Some capabilities one member holds for one reason, on some clients (or all, or none:
    practice-wide capabilities)."""

    member: str
    capabilities: tuple[str, ...]
    reason: str
    clients: tuple[str, ...]  # up to LISTED
    client_count: int
    scope: str  # "clients" | "all" | "practice"


@dataclass(frozen=True)
class Ending:
    """Access that ends by itself: a time-bound grant, full clinical access with an end, or
    emergency (break-glass) access."""

    member: str
    what: str  # "grant" | "full clinical access" | "break-glass"
    client: str | None  # None: every client (full clinical access)
    until: str  # an instant, UTC
    reason: str | None
    passed: bool  # already ended: the next plan or `shsync expire` revokes it


@dataclass(frozen=True)
class Widening:
    """One step of an audit entry that widened someone's access."""

    seq: int
    at: str
    actor: str
    kind: str
    operation: Operation


@dataclass(frozen=True)
class Review:
    practice: str
    name: str | None
    source: str  # the store's URL, secrets redacted
    generated_at: str
    since: str
    state: PracticeState
    access: tuple[AccessLine, ...]
    recent: tuple[AuditEntry, ...]  # newest first
    entries: int
    chain_problem: str | None  # None: the hash chain is intact
    widenings: tuple[Widening, ...]
    unreadable: tuple[int, ...] = ()  # entries whose operations could not be read
    endings: tuple[Ending, ...] = ()  # soonest first
    # What is recorded in shsync and not yet carried out in Sessions Health, oldest first
    pending: tuple[Step, ...] = ()
    terminations: tuple[Termination, ...] = ()  # every removal, oldest first
    judged_at: str = ""  # the time deadlines are judged by (the real clock, or a later one)


@dataclass(frozen=True)
class Termination:
    """One member's removal: when shsync recorded it, when it was carried out in Sessions
    Health (None: not yet), and whether that was within the practice's deadline."""

    member: str
    step: str
    entry: int
    recorded_at: str
    due: str
    carried_out: str | None
    how: str  # pending | done | observed
    minutes: int | None  # from recorded to carried out
    met: bool | None  # None: pending and not yet due

    @classmethod
    def of(cls, step: Step, now: str) -> Termination:
        done = step.at if step.state != "pending" else None
        minutes = None
        if done is not None:
            minutes = int((parse_instant(done) - parse_instant(step.recorded_at)
                           ).total_seconds() // 60)
        met = (done <= step.due if done is not None else
               False if step.overdue(now) else None)
        return cls(step.member or "", step.label, step.entry, step.recorded_at, step.due, done,
                   step.state, minutes, met)


def build(state: PracticeState, entries: list[AuditEntry], *, practice: str, source: str,
          since: str, now: str, chain_problem: str | None,
          steps: Sequence[Step] = (), judged_at: str | None = None) -> Review:
    """The review of `state` and its audit log; `chain_problem` is the hash chain's verdict
    (`shsync.audit.chain.verify_chain`), which the caller runs; `steps`: every runbook step."""
    widenings, unreadable = _widenings(entries, since)
    ordered = sorted(steps, key=lambda s: s.id)
    judged = max(now, judged_at or now)
    return Review(practice=practice, name=state.name, source=source, generated_at=now,
                  since=since, state=state, access=access_lines(state),
                  recent=tuple(reversed(entries[-RECENT:])), entries=len(entries),
                  chain_problem=chain_problem, widenings=tuple(widenings),
                  unreadable=tuple(unreadable), endings=endings(state, now),
                  pending=tuple(s for s in ordered if s.state == "pending"),
                  terminations=tuple(Termination.of(s, judged) for s in ordered
                                     if "remove_member" in s.actions), judged_at=judged)


def endings(state: PracticeState, now: str) -> tuple[Ending, ...]:
    """Every access that ends by itself, soonest end first (then member, client)."""
    found = [Ending(m.email, "full clinical access", None, m.clinical_until, m.clinical_reason,
                    m.clinical_until <= now)
             for m in state.members.values() if m.full_clinical_access and m.clinical_until]
    found += [Ending(e.member, "break-glass" if e.break_glass else "grant", c.id, e.until,
                     e.reason, e.passed(now))
              for c in state.clients.values() for e in c.ends]
    return tuple(sorted(found, key=lambda x: (x.until, x.member, x.client or "")))


def access_lines(state: PracticeState) -> tuple[AccessLine, ...]:
    """Every member's access, grouped by reason and capabilities, members in email order."""
    index = AccessIndex(state)
    total = len(state.clients)
    lines: list[AccessLine] = []
    for email, member in sorted(state.members.items()):
        wide: dict[str, list[str]] = defaultdict(list)
        for cap, reason in practice_wide(member):
            wide[reason].append(cap)
        lines += [AccessLine(email, tuple(caps), reason, (), 0, "practice")
                  for reason, caps in sorted(wide.items())]
        profile = index.profile(email)
        everywhere: dict[str, set[str]] = defaultdict(set)
        for cap, reason in profile.everywhere:
            everywhere[reason].add(cap)
        lines += [AccessLine(email, _ordered(caps), reason, (), total, "all")
                  for reason, caps in sorted(everywhere.items()) if total]
        grouped: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
        for cid, held in sorted(profile.per_client.items()):
            per_reason: dict[str, set[str]] = defaultdict(set)
            for cap, reason in held:
                per_reason[reason].add(cap)
            for reason, caps in per_reason.items():
                grouped[(reason, _ordered(caps))].append(cid)
        lines += [AccessLine(email, caps, reason, tuple(cids[:LISTED]), len(cids), "clients")
                  for (reason, caps), cids in sorted(grouped.items())]
    return tuple(lines)


def _ordered(caps: set[str]) -> tuple[str, ...]:
    return tuple(sorted(caps, key=CAPABILITIES.index))


def _widenings(entries: list[AuditEntry], since: str) -> tuple[list[Widening], list[int]]:
    """Steps that widened access in entries made at or after `since` (seeding excluded: it is
    the starting state, not a change)."""
    found: list[Widening] = []
    unreadable: list[int] = []
    for e in entries:
        if e.at < since or e.kind in LOADS:
            continue
        operations = _operations(e.operations)
        if operations is None:
            unreadable.append(e.seq)
            continue
        found += [Widening(e.seq, e.at, e.actor, e.kind or "apply", o)
                  for o in operations if widens(o)]
    return found, unreadable


def _operations(data: list[dict[str, Any]]) -> list[Operation] | None:
    try:
        return [from_dict(o) for o in data]
    except (InvalidPlan, KeyError, TypeError, ValueError):
        return None
