"""The audit log: entries chained by hash, and a replay that checks the log explains the state.

Each entry records what kind of change it was (seed, apply, accepted, refresh, break_glass,
expire, review; done and observed confirm runbook steps), who made it, the
operations, the fingerprint of the practice before and after, when it was planned for (`at`)
and when it was really written (`written_at`, the store's own clock). Its hash covers all of
that and the previous entry's hash, so editing or removing an entry breaks every hash after it.
A deleted *tail* leaves the chain intact, so `replay` goes further: starting from the seed
entry's recorded state (or an empty practice), it re-applies every entry's operations with the
same code the planner uses and checks each entry's fingerprints, then compares the result with
the live practice. A log that does not explain the state is reported, never trusted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from shsync.core.access import Lookup, Row
from shsync.core.actions.members import with_figures
from shsync.core.operations import from_dict
from shsync.core.entry import GENESIS, LOADS, AuditEntry, entry_digest
from shsync.core.simulate import simulate
from shsync.core import runbook
from shsync.core.runbook import Step
from shsync.core.state import PracticeState, fingerprint, state_from_dict
from shsync.errors import AuditBroken
from shsync.model.clock import parse_instant


def verify_chain(entries: Sequence[AuditEntry]) -> str | None:
    """None when the chain is intact, else what is wrong with the first broken entry."""
    prev = GENESIS
    for expected_seq, e in enumerate(entries, 1):
        if e.seq != expected_seq:
            return f"entry #{expected_seq} is missing (found #{e.seq} in its place)"
        if e.prev_hash != prev:
            return f"entry #{e.seq} does not follow entry #{e.seq - 1} (its previous hash differs)"
        if entry_digest(e.body()) != e.entry_hash:
            return f"entry #{e.seq} was changed after it was written (its hash does not match)"
        prev = e.entry_hash
    return None


Replayed = Callable[[AuditEntry, PracticeState, PracticeState], None]


def replay(entries: Sequence[AuditEntry], live: PracticeState,
           each: Replayed | None = None) -> str | None:
    """None when replaying the log reproduces the live practice, else the first discrepancy.
    `each(entry, before, after)` is called for every entry replayed (the runbook's replay)."""
    state = PracticeState()
    # The fingerprint of `state`, computed once per state: an entry's result is the next one's
    # start, and an entry that changes nothing (a review, a step done) keeps the state it found.
    printed: str | None = fingerprint(state)
    for e in entries:
        if e.kind is None:
            return (f"entry #{e.seq} was written by an older shsync, before the log recorded "
                    "enough to be replayed; only its hash chain can be checked")
        if e.kind not in LOADS:
            printed = printed or fingerprint(state)
            if printed != e.fingerprint:
                return (f"entry #{e.seq} was made from a state the entries before it do not "
                        "explain (an entry is missing, or the store was changed outside shsync)")
        before = state
        try:
            state = after_entry(state, e)
        except Exception as exc:  # noqa: BLE001 - any failure means the log does not replay
            return f"entry #{e.seq} cannot be replayed: {type(exc).__name__}: {exc}"[:300]
        if state is not before:
            printed = None
        if each is not None:
            each(e, before, state)
        if e.result is not None:
            printed = printed or fingerprint(state)
            if printed != e.result:
                return f"entry #{e.seq} does not reproduce the state it recorded"
    if (printed or fingerprint(state)) != fingerprint(live):
        last = f"entry #{entries[-1].seq}" if entries else "an empty log"
        return (f"the log ends at {last} but does not explain the live practice: entries are "
                "missing from its end, or the store was changed outside shsync")
    return None


def after_entry(state: PracticeState, e: AuditEntry) -> PracticeState:
    """The practice once entry `e` is applied to `state`: a load replaces it, operations change
    it, anything else (a review, a step done) leaves it."""
    if e.kind in LOADS:
        return state_from_dict(e.details["state"])
    if e.operations:
        return simulate(state, [from_dict(o) for o in e.operations], e.at)
    return state


def state_at(entries: Sequence[AuditEntry], moment: str) -> tuple[PracticeState, int | None]:
    """The practice as shsync's store held it at `moment`: the log replayed up to the last entry
    written by then, and that entry's seq (None: no entry yet). The chain is checked first, so
    an edited or missing entry is an error, never a wrong answer."""
    state, last = PracticeState(), None
    for e, _, after in _replayed(entries, moment):
        state, last = after, e.seq
    return state, last


def _replayed(entries: Sequence[AuditEntry],
              until: str) -> Iterator[tuple[AuditEntry, datetime, PracticeState]]:
    """Each entry written by `until`, when it was written, and the practice after it, for the
    questions about a past time. The chain is checked first, so an edited or missing entry is
    an error, never a wrong answer; an entry that does not replay is one too."""
    problem = verify_chain(entries)
    if problem is not None:
        raise AuditBroken(f"the audit log cannot answer for a past time: {problem}")
    end = parse_instant(until)
    state = PracticeState()
    for e in entries:
        when = parse_instant(e.written_at or e.at)
        if when > end:
            return
        try:
            state = after_entry(state, e)
        except Exception as exc:  # noqa: BLE001 - a log that does not replay answers nothing
            raise AuditBroken(f"entry #{e.seq} cannot be replayed: {type(exc).__name__}"
                              ) from None
        yield e, when, state


def head(entries: Sequence[AuditEntry]) -> str:
    return entries[-1].entry_hash if entries else GENESIS


def replay_steps(entries: Sequence[AuditEntry], stored: Sequence[Step],
                 live: PracticeState) -> tuple[str | None, str | None]:
    """`replay`'s answer, then None when the log explains every runbook step the store holds,
    derived again from each entry that recorded steps and confirmed by each `done` and
    `observed` entry, else the first discrepancy (the steps are derived from the replay)."""
    expected: dict[int, Step] = {}
    trouble: list[str] = []

    def each(e: AuditEntry, before: PracticeState, after: PracticeState) -> None:
        if trouble:
            return
        recorded = e.details.get("runbook") if isinstance(e.details, dict) else None
        if e.kind in ("done", "observed"):
            for text in e.details.get("steps") or []:
                step_id = runbook.parse_label(str(text))
                if step_id is None or step_id not in expected or \
                        expected[step_id].state != "pending":
                    trouble.append(f"entry #{e.seq} confirms {str(text)[:20]!r}, which no "
                                   "earlier entry left pending")
                    return
                expected[step_id] = runbook.confirmed(
                    expected[step_id], how=e.kind, by=e.actor, at=e.written_at or e.at,
                    note=e.details.get("note"), entry=e.seq)
            return
        if not e.operations or e.kind in LOADS or not isinstance(recorded, dict):
            return  # no steps, or recorded before shsync kept runbook steps (store schema 10)
        first = recorded.get("first") if isinstance(recorded, dict) else None
        figures = _figures(e.details.get("as_applied"))
        if figures is None:
            trouble.append(f"entry #{e.seq} records figures as applied that are not counts")
            return
        derived = runbook.derive(with_figures([from_dict(o) for o in e.operations], figures),
                                 before, after,
                                 entry=e.seq, first_id=first if isinstance(first, int) else 0,
                                 recorded_at=e.written_at or e.at, kind=e.kind or "apply",
                                 deadlines=before.deadline_policy)
        count = recorded.get("count")
        if len(derived) != count:
            trouble.append(f"entry #{e.seq} records {count} runbook step(s), but its changes "
                           f"ask for {len(derived)}")
            return
        expected.update((s.id, s) for s in derived)

    problem = replay(entries, live, each)
    if problem or trouble:
        return problem, (trouble[0] if trouble else None)
    return None, _compare(expected, {s.id: s for s in stored})


def _figures(recorded: object) -> dict[str, int] | None:
    """An entry's `as_applied` figures (the counts of appointments each removal cancelled, where
    time had changed them since the plan), or None when the store holds something else."""
    if recorded is None:
        return {}
    counts = recorded.get("cancel_appointments") if isinstance(recorded, dict) else None
    if not isinstance(counts, dict) or not all(
            isinstance(k, str) and type(v) is int and v >= 0 for k, v in counts.items()):
        return None
    return dict(counts)


def _compare(expected: dict[int, Step], held: dict[int, Step]) -> str | None:
    for step_id in sorted(set(expected) | set(held)):
        want, have = expected.get(step_id), held.get(step_id)
        if want is None:
            return f"the store holds runbook step {runbook.label(step_id)}, which no entry recorded"
        if have is None:
            return (f"runbook step {runbook.label(step_id)} (entry #{want.entry}) is missing "
                    "from the store")
        if have != want:
            return (f"runbook step {runbook.label(step_id)} in the store is not the one the log "
                    f"explains (its state, its confirmation or the step itself differ)")
    return None


@dataclass(frozen=True)
class AccessChange:
    """One capability gained or lost by one entry of the log, for `access --between`, and
    beside it what Sessions Health had: the runbook steps that entry recorded about the member
    and when they were carried out (`carried_out`: the last one's time; None while any is
    pending, or when the change asked nothing of Sessions Health, `steps` empty)."""

    entry: int
    written_at: str
    kind: str
    actor: str
    change: str  # gained | lost
    row: Row
    steps: tuple[str, ...] = ()
    carried_out: str | None = None


def access_changes(entries: Sequence[AuditEntry], steps: Sequence[Step], start: str, end: str,
                   *, client: str | None, member: str | None) -> list[AccessChange]:
    """Every change of a client's (or a member's) access over (start, end], entry by entry,
    from the log replayed once (its chain checked first, as for `state_at`)."""
    since = parse_instant(start)
    found: list[AccessChange] = []
    held = PracticeState()  # the practice at `start`, until the first entry after it
    before: frozenset[Row] | None = None
    for e, when, state in _replayed(entries, end):
        if when <= since:
            held = state
            continue
        if before is None:
            before = _rows(held, client, member)
        after = _rows(state, client, member)
        for change, rows in (("gained", after - before), ("lost", before - after)):
            for row in sorted(rows, key=lambda r: (r.member, r.client or "", r.capability,
                                                   r.reason)):
                mine = [s for s in steps if s.entry == e.seq and (
                    s.member == row.member or any(a[1] == row.member for a in s.access))]
                done = None if any(s.state == "pending" for s in mine) or not mine else max(
                    s.at or "" for s in mine)
                found.append(AccessChange(e.seq, e.written_at or e.at, e.kind or "apply",
                                          e.actor, change, row,
                                          tuple(runbook.label(s.id) for s in mine), done))
        before = after
    return found


def _rows(state: PracticeState, client: str | None, member: str | None) -> frozenset[Row]:
    lookup = Lookup(state)
    if client is not None:
        return frozenset(lookup.client(client)) if client in state.clients else frozenset()
    email = (member or "").lower()
    return frozenset(lookup.member(email)) if email in state.members else frozenset()
