"""The jobs shsync does, as one application object: files -> model -> plan -> store -> report.

`Shsync` holds the three things every job needs: the store, who is acting, and the clock. The
command line builds one from its options; the server builds one per request from a token's
identity and its own clock. Neither holds any logic of its own. Nothing here prints. User
mistakes are raised as `UserError` (or returned as diagnostics) with messages safe to show: no
secrets, no client data beyond ids.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from shsync.format import fileio

from shsync.jobs import outfile
from shsync.audit.chain import head, replay_steps, verify_chain
from shsync.core.entry import AuditEntry
from shsync.stores.base import Backend, Progress
from shsync.model.diagnostics import Diagnostic, Severity
from shsync.errors import (
    AlreadyApplied,
    AuditBroken,
    InvalidInput,
    InvalidPlan,
    NothingToApply,
    PlanRefused,
    Refused,
    UserError,
)  # fmt: skip
from shsync.model.clock import length_text, now, now_real, parse_time, span_text  # noqa: F401  (app.now etc., as before)
from shsync.gcpause import paused
from shsync.core import access, planner, runbook
from shsync.core.approvals import StoredPlan
from shsync.core.authorize import Actor
from shsync.core.observe import observe
from shsync.core.operations import in_order, op
from shsync.core.plan import Message, Plan, from_file
from shsync.core.state import (
    ClientState,
    Desired,
    MemberState,
    PracticeState,
    desired_from_values,
    fingerprint,
    holds,
    state_from_snapshot,
)  # fmt: skip
from shsync.format.load import load_org, load_snapshot, status_unstated
from shsync.format.yamlload import scalar_kind

__all__ = ["Batch", "InvalidInput", "OrgFile", "Planned", "PlanRefused", "Shsync", "StoredPlan",
           "UserError", "actor", "now", "read_org", "read_plan_file", "read_snapshot",
           "saved_plan"]


def actor(email: str | None) -> Actor:
    """The member acting (--actor / SHSYNC_ACTOR), or else the operator holding the store's
    credentials, with administrator rights. An empty actor is refused, never the operator."""
    if email is not None:
        if not email.strip():
            raise UserError("the actor is empty: name a member with --actor EMAIL (or "
                            "SHSYNC_ACTOR), or leave it unset to act as the operator",
                            "empty-actor")
        return Actor.member(email.strip())
    try:
        return Actor.operator(f"operator:{getpass.getuser()}")
    except (KeyError, OSError):
        return Actor.operator("operator")


@dataclass(frozen=True)
class Planned:
    plan: Plan
    diagnostics: tuple[Diagnostic, ...]  # warnings from the org file
    # A refresh: pending runbook steps the observation shows carried out, and those it shows
    # not carried out yet (their difference is left out of the plan: not drift, just not done)
    carried_out: tuple[runbook.Step, ...] = ()
    not_carried_out: tuple[runbook.Step, ...] = ()


@dataclass(frozen=True)
class Batch:
    number: int
    invited: int  # invitations so far, this run
    pending: int  # invitations still to come
    entry: AuditEntry | None
    final: bool  # the last wave: it also applies everything that is not an invitation
    total: int = 1  # batches in this run, this one included


@dataclass(frozen=True)
class LogCheck:
    entries: int
    head: str
    replayed: bool  # False: an older log that can only be checked by its hash chain
    note: str | None = None


def _messages(diagnostics: Sequence[Diagnostic]) -> tuple[Message, ...]:
    return tuple(Message(d.code, d.message, str(d.location) if d.location else None)
                 for d in diagnostics if d.severity is Severity.WARNING)


@dataclass(frozen=True)
class OrgFile:
    """An org file read and checked as of `at`, the time it is planned at (`Shsync.plan_org`)."""

    desired: Desired
    diagnostics: tuple[Diagnostic, ...]
    at: str


def read_org(path: Path, at: str | None) -> tuple[OrgFile | None, tuple[Diagnostic, ...]]:
    """The org file at `path` checked as of `at`, and its diagnostics. The OrgFile is None when
    the file has errors, or when no time was given (one that could not be read: the file is
    then checked without the rules that need a time, for its diagnostics). Reading it before a
    store is opened lets a command report the file's errors with the store's, and create no
    store for a bad file."""
    desired, diagnostics = _read(path, at)
    found = OrgFile(desired, diagnostics, at) if desired is not None and at is not None else None
    return found, diagnostics


def _read(path: Path, at: str | None) -> tuple[Desired | None, tuple[Diagnostic, ...]]:
    with paused():  # large acyclic structures: see shsync/gcpause.py
        loaded = load_org(path, at)
        if loaded.value is None:
            return None, loaded.diagnostics
        return desired_from_values(loaded.value), loaded.diagnostics


def _org(path: Path, at: str | None = None) -> tuple[Desired, tuple[Diagnostic, ...]]:
    desired, diagnostics = _read(path, at)
    if desired is None:
        raise InvalidInput(diagnostics)
    return desired, diagnostics


def read_snapshot(path: Path) -> PracticeState:
    """A practice snapshot (`shsync seed`), read and checked: InvalidInput when it has errors.
    Read before a store is opened, a snapshot with errors creates no store."""
    loaded = load_snapshot(path)
    if loaded.value is None:
        raise InvalidInput(loaded.diagnostics)
    return state_from_snapshot(loaded.value)


class Shsync:
    """The application: one store, one identity, one clock."""

    def __init__(self, backend: Backend, who: Actor, clock: Callable[[], str] = now):
        self.backend = backend
        self.who = who
        self.clock = clock
        # Audit entries this object has committed, newest last: a face that then fails to
        # report (a full disk on stdout) can still say what was changed.
        self.written: list[AuditEntry] = []

    def _wrote(self, entry: AuditEntry) -> AuditEntry:
        self.written.append(entry)
        return entry

    # --- reading ------------------------------------------------------------------------------
    def read(self) -> PracticeState:
        return self.backend.read()

    def history(self, after: int = 0, limit: int | None = None) -> list[AuditEntry]:
        return self.backend.history(after, limit)

    def check_log(self, expect_head: str | None = None) -> LogCheck:
        """The hash chain, then a replay of the whole log against the live practice, then the
        log's end against the head the store keeps beside the practice (which finds a deleted
        tail whose effects cancel out, so that the replay cannot)."""
        entries, anchor = self.backend.anchored_history()
        broken = verify_chain(entries)
        if broken:
            raise AuditBroken(f"the audit log is not intact: {broken}")
        last = head(entries)
        if expect_head is not None and expect_head != last:
            raise AuditBroken(f"the audit log ends at {last}, not at the expected head "
                              f"{expect_head}: entries were added or removed since", "head-moved")
        if any(e.kind is None for e in entries):
            _check_anchor(entries, anchor)
            return LogCheck(len(entries), last, False,
                            "the log was started by an older shsync, so only its hash chain "
                            "was checked")
        problem, steps_problem = replay_steps(entries, self.backend.runbook_steps(),
                                              self.backend.read())
        if problem:
            raise AuditBroken("the audit log does not explain the practice in shsync's store: "
                              f"{problem}")
        _check_anchor(entries, anchor)
        if steps_problem:
            raise AuditBroken("the audit log does not explain the runbook steps in shsync's "
                              f"store: {steps_problem}")
        return LogCheck(len(entries), last, True)

    # --- planning -----------------------------------------------------------------------------
    def plan(self, path: Path, options: planner.Options = planner.DEFAULTS) -> Planned:
        """Plan the org file at `path`, as of this application's clock."""
        at = self.clock()
        desired, diagnostics = _org(path, at)
        return self.plan_org(OrgFile(desired, diagnostics, at), options)

    def plan_org(self, org: OrgFile, options: planner.Options = planner.DEFAULTS) -> Planned:
        """Plan an org file read already (`read_org`), as of the time it was checked at."""
        with paused():  # large acyclic structures: see shsync/gcpause.py
            live, kept = self.backend.read_fingerprinted()
            result = planner.plan(org.desired, live, practice=self.backend.practice,
                                  now=org.at, options=options, actor=self.who,
                                  warnings=_messages(org.diagnostics), live_fingerprint=kept)
        return Planned(result, org.diagnostics)

    def plan_acceptance(self, emails: Iterable[str]) -> Plan:
        """A plan that records that these members accepted their invitations."""
        wanted = sorted({e.strip().lower() for e in emails})
        if not wanted:  # an entry that records nobody would move the log's head for nothing
            raise UserError("name at least one member who accepted their invitation", "usage")
        live = self.backend.read()
        problems = []
        for email in wanted:
            member = live.members.get(email)
            if member is None:
                problems.append(f"{_shown(email)} is not a member of this practice")
            elif member.active:
                problems.append(f"{_shown(email)} is already an active member")
        if problems:
            raise UserError(_bounded(problems), "not-invited")
        return _single(live, [op("accept_invitation", e) for e in wanted], self, "accepted")

    def plan_refresh(self, path: Path) -> Planned:
        """The drift between the store and an observation of Sessions Health (a snapshot, or an
        org file as `export` writes it: its desired-state keys ignored with a warning each, and
        the store's status kept for members whose status it does not give)."""
        loaded = load_snapshot(path, observation=True)
        if loaded.value is None:
            raise InvalidInput(loaded.diagnostics)
        live = self.backend.read()
        observed = state_from_snapshot(loaded.value)
        handoffs = {h.from_: h for h in loaded.value.handoffs}
        operations, problems = observe(observed, live, handoffs, self.clock(),
                                       unstated=status_unstated(loaded.value))
        # What the observation shows of changes recorded here and not yet carried out there is
        # the runbook's business, not drift: recording it would undo them in the store.
        carried, waiting = runbook.observed(self.backend.runbook_steps(pending_only=True),
                                            operations)
        held_back = {x for s in waiting for x in runbook.subjects(s)}
        operations = [o for o in operations if o.target not in held_back]
        result = _single(live, operations, self, "refresh",
                         errors=tuple(Message("refresh-needs-handoff", p) for p in problems),
                         warnings=_messages(loaded.diagnostics))
        return Planned(result, loaded.diagnostics, tuple(carried), tuple(waiting))

    def record_observed(self, steps: Sequence[runbook.Step]) -> AuditEntry | None:
        """Record that a refresh saw these pending steps carried out (one `observed` entry)."""
        if not steps:
            return None
        return self._wrote(self.backend.confirm_steps([s.id for s in steps], how="observed",
                                                      actor=self.who, now=self.clock()))

    def plan_expiry(self) -> Plan:
        """A plan that takes back every access whose end has passed (`shsync expire`)."""
        from shsync.core.break_glass import expired_operations

        live = self.backend.read()
        return _single(live, expired_operations(live, self.clock()), self, "expire")

    def plan_break_glass(self, client: str, reason: str, length: str | None) -> Plan:
        """Emergency access to one client for the acting member, as the policy the live
        practice keeps allows (the store checks it again in its transaction)."""
        from shsync.core.break_glass import break_glass_operation

        live = self.backend.read()
        operation = break_glass_operation(live, self.who, client, reason, length, self.clock())
        result = _single(live, [operation], self, "break_glass")
        if result.errors:
            raise PlanRefused(result)
        return result

    def emergencies(self) -> list[Any]:
        """Emergency access not yet reviewed by an administrator, oldest first."""
        from shsync.core.break_glass import unreviewed

        return unreviewed(self.backend.history())

    def review(self, seq: int, note: str) -> AuditEntry:
        """An administrator's review of one emergency access, recorded in the audit log."""
        from shsync.core.break_glass import review_details

        def check(entries: list[AuditEntry], live: PracticeState) -> dict[str, Any]:
            return review_details(entries, live, self.who, seq, note)

        # Run by the store inside its transaction: two reviews of one emergency at once
        # cannot both be recorded.
        return self._wrote(self.backend.record("review", actor=self.who, now=self.clock(),
                                               details=check))

    # --- the runbook: what people must still do in Sessions Health ---------------------------
    def runbook_steps(self, which: runbook.Filter | None = None) -> list[runbook.Step]:
        """The steps `which` keeps, oldest first (the outstanding ones by default)."""
        which = which or runbook.Filter()
        steps = self.backend.runbook_steps(pending_only=not which.everything)
        return runbook.select(steps, which, self.clock())

    def steps_of(self, entry: AuditEntry) -> list[runbook.Step]:
        """The runbook steps an apply recorded (none for an entry that asked for none)."""
        if not isinstance(entry.details.get("runbook"), dict):
            return []
        return self.runbook_steps(runbook.Filter(everything=True, entry=entry.seq))

    def judge_now(self) -> str:
        """The time a step's deadline is judged by: the real clock, or a later SHSYNC_NOW (a
        preview); an earlier one never hides an overdue step."""
        return max(self.clock(), now_real())

    def done(self, labels: Sequence[str], note: str | None = None) -> AuditEntry:
        """Record that the acting member carried out these steps in Sessions Health."""
        ids, bad = [], []
        for text in labels:
            step_id = runbook.parse_label(text)
            if step_id is None:
                bad.append(f"{_shown(text)} is not a runbook step id (R-17)")
            else:
                ids.append(step_id)
        if bad:
            held = {s.id for s in self.backend.runbook_steps()}
            bad += [f"there is no runbook step {runbook.label(i)} in this practice" for i in ids
                    if i not in held]
            raise Refused(bad, "no-such-step", lead="nothing was recorded")
        if len(ids) > runbook.MAX_CONFIRM:
            raise UserError(f"name at most {runbook.MAX_CONFIRM} steps at once", "usage")
        if note is not None:
            note = note.strip() or None
        return self._wrote(self.backend.confirm_steps(ids, how="done", actor=self.who,
                                                      now=self.clock(), note=note))

    # --- changing -----------------------------------------------------------------------------
    def apply(self, plan: Plan, progress: Progress | None = None) -> AuditEntry:
        if plan.errors:
            raise PlanRefused(plan)
        return self._wrote(self.backend.apply(plan, actor=self.who, now=self.clock(),
                                              progress=progress))

    def check_unchanged(self, plan: Plan) -> None:
        """An empty plan writes nothing, but is refused like any other when it was made for
        another practice, another actor, a practice that has changed since, or by an actor who
        may make no change: the store's own apply checks it (one check), and records nothing."""
        if plan.operations:
            raise ValueError("check_unchanged takes a plan without steps")
        try:
            self.apply(plan)
        except NothingToApply:
            pass

    # --- stored plans and the two-person rule -------------------------------------------------
    def save_plan(self, plan: Plan) -> StoredPlan:
        """Keep `plan` in the store for approval (author: the acting member; created: now)."""
        if plan.errors:
            raise PlanRefused(plan)
        return self.backend.save_plan(plan, author=self.who.email, now=self.clock())

    def stored_plan(self, plan_id: str) -> StoredPlan:
        return self.backend.stored_plan(plan_id)

    def stored_plans(self) -> list[StoredPlan]:
        return self.backend.stored_plans()

    def approve(self, plan_id: str) -> StoredPlan:
        """The acting member approves a stored plan (checked in the store's transaction)."""
        return self.backend.approve(plan_id, approver=self.who, now=self.clock())

    def apply_stored(self, plan_id: str, progress: Progress | None = None) -> AuditEntry:
        """Apply exactly the stored plan `plan_id`; the store counts its approvals."""
        stored = self.stored_plan(plan_id)
        if stored.applied_entry is not None:
            raise AlreadyApplied(f"plan {plan_id} was already applied, as audit entry "
                                 f"#{stored.applied_entry}; nothing was applied again")
        return self.apply(stored.plan, progress)

    def seed(self, path: Path) -> tuple[PracticeState, AuditEntry]:
        state = read_snapshot(path)
        return state, self.seed_state(state)

    def adopt(self, org: OrgFile) -> tuple[PracticeState, AuditEntry]:
        """Record an org file (read with `read_org`) as what Sessions Health already has: every
        member active (an administrator has checked the Members page), in one `adopt` entry;
        refused (`not-empty`) when the store holds the practice already. Appointments and notes
        are not in an org file: they stay unknown until a `refresh`."""
        state = adopted(org.desired)
        self._may_load(state, "adopt")
        return state, self._wrote(self.backend.seed(state, actor=self.who, now=self.clock(),
                                                    kind="adopt"))

    def _may_load(self, state: PracticeState, what: str) -> None:
        """A member who loads a practice (not the operator, who holds the store's credentials)
        must be one of its active administrators: the log names them as having done it."""
        email = self.who.email
        if email is None:
            return
        member = state.members.get(email)
        if member is None or not member.admin or not member.active:
            from shsync.errors import Forbidden

            raise Forbidden(f"{email} may not {what} this practice: only one of its active "
                            "administrators, or the operator, loads a practice")

    def seed_state(self, state: PracticeState) -> AuditEntry:
        """Seed an empty store with a practice state already read (a server's seed)."""
        self._may_load(state, "seed")
        return self._wrote(self.backend.seed(state, actor=self.who, now=self.clock()))

    def apply_in_batches(self, path: Path, *, size: int,
                         options: planner.Options = planner.DEFAULTS,
                         on_batch: Callable[[Batch], None] | None = None) -> list[Batch]:
        """Apply an onboarding as consecutive transactions of `size` invitations each.

        Each wave is planned afresh from the live practice and applied all or nothing, so
        running the same command again after an interruption continues where it stopped and
        never invites anyone twice. A wave invites its members and creates the clients that
        only need members already there; the last wave (the only one when nobody is left to
        invite) also applies everything else. So each batch is one transaction, and the number
        of batches is known before the first: ceil(invitations / size), at least 1.
        """
        desired, _ = _org(path)
        batches: list[Batch] = []
        invited = 0
        while True:
            live = self.backend.read()
            pending = [e for e in desired.members if e not in live.members]
            final = len(pending) <= size
            wave = desired if final else _wave(desired, live, set(pending[:size]))
            result = planner.plan(wave, live, practice=self.backend.practice, now=self.clock(),
                                  options=options, actor=self.who)
            if result.errors:
                raise PlanRefused(result)
            entry = self.apply(result) if result.operations else None
            invited += min(size, len(pending))
            total = len(batches) + max(1, -(-len(pending) // size))
            batch = Batch(len(batches) + 1, invited, max(0, len(pending) - size), entry, final,
                          total)
            batches.append(batch)
            if on_batch:
                on_batch(batch)
            if final:
                return batches


NAMED = 5  # problems one message names; the rest are counted
NAME_CHARS = 64  # of a caller's value, at most this many of their characters are echoed


def _shown(value: str) -> str:
    from shsync.render.escape import shown

    return shown(value, NAME_CHARS)


def _bounded(problems: Sequence[str]) -> str:
    """At most NAMED problems, then a count: a request of a million emails is not echoed."""
    more = f" (and {len(problems) - NAMED:,} more)" if len(problems) > NAMED else ""
    return "; ".join(problems[:NAMED]) + more


def _check_anchor(entries: list[AuditEntry], anchor: tuple[int, str] | None) -> None:
    """Does the log end at the head the store recorded beside the practice (when it keeps
    one)? Whoever can edit the store can edit both: `--expect-head` is the real assurance."""
    newest = (entries[-1].seq, entries[-1].entry_hash) if entries else None
    if anchor is None or anchor == newest:
        return
    ends = f"entry #{newest[0]}" if newest else "no entry"
    cut = ("entries were removed from the end of the log" if newest is None
           or anchor[0] > newest[0] else "the log's end was rewritten")
    raise AuditBroken(f"the audit log ends at {ends}, but the practice recorded its log's head "
                      f"as entry #{anchor[0]} ({anchor[1]}): {cut}", "log-truncated")


def _single(live: PracticeState, operations: list[Any], app: Shsync, kind: str, *,
            errors: tuple[Message, ...] = (), warnings: tuple[Message, ...] = ()) -> Plan:
    """A plan of operations made outside the planner (acceptances, observations), checked and
    summarised by the same code as every other plan."""
    from shsync.core.verify import verify

    at = app.clock()
    ordered = tuple(in_order(operations))
    verdict = verify(ordered, live, app.who, at, kind=kind)
    found = list(errors)
    found += [Message("forbidden", f) for f in verdict.forbidden]
    if not errors:
        found += [Message("broken-invariant", f"this cannot be recorded: {p}")
                  for p in verdict.problems]
    if verdict.need.count:
        from shsync.core.approvals import notice

        warnings += (Message("approvals-required", notice(verdict.need)),)
    return Plan(practice=app.backend.practice, fingerprint=fingerprint(live),
                operations=ordered, summary=verdict.summary, errors=tuple(found),
                warnings=warnings, created_at=at, actor=app.who.email,
                access_changes=access.delta(live, verdict.final),
                practice_name=verdict.final.name, kind=kind,
                statuses=tuple(sorted((o.target, live.members[o.target].status)
                                      for o in ordered if o.target in live.members)))


def _wave(desired: Desired, live: PracticeState, joining: set[str]) -> Desired:
    """The live practice plus one wave of new members and the new clients they make possible."""
    members: dict[str, MemberState] = dict(live.members)
    for email in joining:
        members[email] = desired.members[email]
    for email in joining:
        sup = members[email].supervisor
        if sup is not None and not holds(members, sup, "supervisor"):
            members[email] = replace(members[email], supervisor=None, cosign=())

    clients = {}
    for cid, c in desired.clients.items():
        if cid in live.clients or not holds(members, c.practitioner, "practitioner"):
            continue  # existing clients change in the last pass
        supervisor = c.supervisor if holds(members, c.supervisor, "supervisor") else None
        clients[cid] = ClientState(cid, c.practitioner,
                                   tuple(a for a in c.access if a in members), supervisor,
                                   tuple(e for e in c.ends if e.member in members))
    return Desired(members, clients, {}, prune=False, name=live.name)


def org_timezone(path: Path) -> str | None:
    """The `timezone` an org file (or directory) sets, or None (also when it cannot be read:
    the report it is for still shows UTC)."""
    loaded = load_org(path)
    zone = loaded.value.data.get("timezone") if loaded.value is not None else None
    return zone if isinstance(zone, str) else None


def adopted(desired: Desired) -> PracticeState:
    """An org file as a practice that runs already: its members active, its policies kept."""
    members = {e: replace(m, status="active", invited_at=None) for e, m in desired.members.items()}
    return PracticeState(members, dict(desired.clients), name=desired.name,
                         approval_policy=desired.approval_policy or (),
                         break_glass_policy=desired.break_glass_policy,
                         deadline_policy=desired.deadline_policy or ())


def nothing_yet(practice: str) -> Backend:
    """A practice with nothing in it, in memory: what `plan` plans against where the store, or
    the practice in it, does not exist yet. It is written nowhere, and the plan made against it
    applies to the real store once that is created (the same empty practice, the same
    fingerprint)."""
    from shsync.stores.sqlite import SqliteBackend

    class NothingYet(SqliteBackend):
        nothing_yet = True

    backend = NothingYet(":memory:", practice, create=True)
    backend.display_url = f"(no practice {practice!r} yet)"
    return backend


def made_from_nothing(plan: Plan) -> bool:
    """Was this plan made against a practice that did not exist yet (`nothing_yet`, which
    holds the empty practice)?"""
    return plan.fingerprint == fingerprint(PracticeState())


def read_plan_file(path: Path) -> Plan:
    """A saved plan, read once through `shsync.format.fileio`."""
    return _plan_from(fileio.read_bytes(path), path)


def saved_plan(path: Path) -> Plan | None:
    """The saved plan at `path`, or None when it is an org file or directory instead.

    A saved plan is a .json file, or JSON naming its kind. The file is read once: what decides
    is what gets parsed. A FIFO or a device is refused (`not-a-file`), never waited on."""
    if os.path.isdir(path) or not os.path.exists(path):  # never raises: the org loader tells
        return None
    raw = fileio.read_bytes(path)
    start = raw[:4096]
    if path.suffix.lower() != ".json" and not (start.lstrip().startswith(b"{")
                                               and b'"kind": "shsync-plan"' in start):
        return None
    return _plan_from(raw, path)


def _plan_from(raw: bytes, path: Path) -> Plan:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError("cannot read the plan: it is not UTF-8 text", "encoding",
                        str(path)) from None
    try:
        return from_file(text)
    except InvalidPlan as exc:
        raise InvalidPlan(f"refusing this plan: {exc}", exc.code, str(path)) from None


def desired_state(path: Path) -> PracticeState:
    """An org file as the practice it declares (for `shsync access --file`)."""
    desired, _ = _org(path)
    return PracticeState(dict(desired.members), dict(desired.clients), name=desired.name)


def seen_access(lookup: access.Lookup, pending: Sequence[runbook.Step],
                every: Callable[[], Sequence[runbook.Step]], *, client: str | None,
                member: str | None) -> tuple[list[access.Row], list[runbook.Seen]]:
    """`shsync access` over a store, and the server's: what shsync holds for a client or a
    member, and beside it what Sessions Health still has until the runbook is carried out
    (`pending`: the pending steps; `every`: all steps, read only when some are pending). A
    member shsync has removed, whose removal is pending, is still answered for."""
    steps = runbook.around_pending(pending, every()) if pending else []
    email = member.strip().lower() if member else None
    if email is not None and email not in lookup.state.members and any(
            email in (s.member, *(row[1] for row in s.access)) for s in pending):
        rows: list[access.Row] = []  # removed in shsync, not yet in Sessions Health
    else:
        rows = access_rows(lookup, client=client, member=member)
    return rows, runbook.two_truths(rows, steps, client=client, member=email)


@dataclass(frozen=True)
class AccessAt:
    """`shsync access --at`: what shsync's store held at a past time (the log replayed up to
    the last entry written by then, `entry`), and the runbook steps not yet carried out in
    Sessions Health at that time, beside it."""

    at: str
    entry: int | None
    state: PracticeState
    rows: list[access.Row]
    seen: list[runbook.Seen]


def access_at(store: Backend, moment: str, *, client: str | None,
              member: str | None) -> AccessAt:
    from shsync.audit.chain import state_at

    entries = store.history()
    state, entry = state_at(entries, moment)
    if entry is None:
        first = entries[0].written_at or entries[0].at if entries else None
        raise UserError(f"no entry was written by {moment}" + (
            f": the audit log begins at {first}" if first else ": the audit log is empty"),
            "no-practice")
    # Each step recorded by then, as it stood then: one confirmed later was still pending.
    every = [s if s.state == "pending" or (s.at or "") <= moment else s.derived()
             for s in store.runbook_steps() if s.recorded_at <= moment]
    pending = [s for s in every if s.state == "pending"]
    rows, seen = seen_access(access.Lookup(state), pending, lambda: every, client=client,
                             member=member)
    return AccessAt(moment, entry, state, rows, seen)


def access_rows(lookup: access.Lookup, *, client: str | None,
                member: str | None) -> list[access.Row]:
    """`shsync access`: who can see a client, or what a member can see."""
    if client is not None:
        require_client(lookup.state, client)
        return lookup.client(client)
    if member is None:
        raise UserError("give exactly one of --client ID or --member EMAIL", "usage")
    email = member.lower()
    if email not in lookup.state.members:
        raise UserError(f"{email} is not a member of this practice", "unknown-member")
    return lookup.member(email)


def require_client(state: PracticeState, client: str) -> None:
    if client not in state.clients:
        raise UserError(f"there is no client {client} in this practice", "unknown-client")


SPLIT_ORDER = ("supervisor", "practitioner", "scheduler", "biller")
HEADER = "# Exported by shsync from the live practice. Clients appear by id only.\n"


def export(state: PracticeState) -> str:
    """The live practice as an org file that validates and plans to no changes."""
    _exportable(state)
    doc: dict[str, Any] = {"version": 1}
    if state.name:
        doc["practice"] = state.name
    doc.update(prune=True, **_export_policy(state),
               members=_export_members(state.members.values()), clients=_export_clients(state))
    return HEADER + dump_yaml(doc)


def export_split(state: PracticeState, directory: Path, *, replace: bool = False) -> list[Path]:
    """Write `export_files` as a complete new directory (see `shsync.jobs.outfile.write_tree`)."""
    _exportable(state)
    files = export_files(state)
    outfile.write_tree(directory, files, replace=replace)
    return [directory / name for name in files]


def _exportable(state: PracticeState) -> None:
    """A store changed outside shsync can hold text no org file may (an ESC, a newline, a bidi
    override; in a name, an email, a client id, ...): refuse to write a file that would then
    fail `validate`, naming each member or client and field."""
    from shsync.format.rules import first_unsafe

    def unsafe(value: Any, field: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, str):
            if (c := first_unsafe(value)) is not None:
                yield field, c
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from unsafe(item, f"{field}.{key}" if field else key)
        elif isinstance(value, list):
            for item in value:
                yield from unsafe(item, field)

    found = [f"the practice's {field} holds {c}" for field, c in unsafe(
        {"name": state.name or "", **_export_policy(state)}, "")]
    found += [f"{m['email']}'s {field} holds {c}" for m in _export_members(state.members.values())
              for field, c in unsafe(m, "")]
    found += [f"client {c['id']}'s {field} holds {ch}" for c in _export_clients(state)
              for field, ch in unsafe(c, "")]
    if found:
        raise UserError("the live practice holds text an org file may not (a control "
                        "character, bidi override or line separator), so nothing was written; "
                        "correct it in Sessions Health and record it with `shsync refresh`: "
                        + "; ".join(found), "control-character")


def export_files(state: PracticeState) -> dict[str, str]:
    """The live practice as a directory a team can own in parts (CODEOWNERS-friendly):
    `org.yaml` (settings), `members/<role>.yaml` by each member's main role, `clients.yaml`."""
    groups: dict[str, list[MemberState]] = {}
    for m in state.members.values():
        role = next((r for r in SPLIT_ORDER if m.has(r)), "admins")
        groups.setdefault(role + "s" if role != "admins" else role, []).append(m)
    docs: dict[str, dict[str, Any]] = {
        "org.yaml": {"version": 1, **({"practice": state.name} if state.name else {}),
                     "prune": True, **_export_policy(state)}}
    for name, members in sorted(groups.items()):
        docs[f"members/{name}.yaml"] = {"version": 1, "members": _export_members(members)}
    docs["clients.yaml"] = {"version": 1, "clients": _export_clients(state)}
    return {name: HEADER + dump_yaml(doc) for name, doc in docs.items()}


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """PyYAML writes YAML 1.1; shsync reads YAML 1.2, where `0E0` is a number. Quote every
    string that shsync's loader would read as something else, so an export always loads back."""


def _str(dumper: Any, value: str) -> Any:
    style = "'" if scalar_kind(value) != "str" else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_yaml(doc: dict[str, Any]) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _export_policy(state: PracticeState) -> dict[str, Any]:
    """The policies the live practice keeps: the two-person rule and who may break glass."""
    policy: dict[str, Any] = {}
    if state.break_glass_policy is not None:
        who, minutes = state.break_glass_policy
        policy["break_glass"] = {"who": list(who), "max": length_text(minutes)}
    if state.approval_policy:
        policy["approvals"] = dict(state.approval_policy)
    if state.deadline_policy:
        kept = dict(runbook.DEFAULT_DEADLINES) | dict(state.deadline_policy)
        policy["deadlines"] = {kind: span_text(minutes) for kind, minutes in kept.items()}
    return {"policy": policy} if policy else {}


def _export_members(members: Iterable[MemberState]) -> list[dict[str, Any]]:
    out = []
    for m in sorted(members, key=lambda m: (not m.owner, m.email)):
        item: dict[str, Any] = {"email": m.email, "first_name": m.first_name,
                                "last_name": m.last_name}
        if m.owner:
            item["owner"] = True
        if m.admin:
            item["admin"] = True
        item["roles"] = list(m.roles)
        if m.has("practitioner"):
            for name in ("npi", "taxonomy"):
                if getattr(m, name):
                    item[name] = getattr(m, name)
            if not m.billing_access:
                item["billing_access"] = False
            if m.full_clinical_access and m.clinical_until:
                item["full_clinical_access"] = _ending(m.clinical_until, m.clinical_reason)
            elif m.full_clinical_access:
                item["full_clinical_access"] = True
            if m.supervisor:
                item["supervised_by"] = m.supervisor
            if m.cosign:
                item["cosign"] = list(m.cosign)
        out.append(item)
    return out


def _ending(until: str, reason: str | None) -> dict[str, str]:
    return {"until": until, **({"reason": reason} if reason else {})}


def _export_clients(state: PracticeState) -> list[dict[str, Any]]:
    clients = []
    for c in sorted(state.clients.values(), key=lambda c: c.id):
        client: dict[str, Any] = {"id": c.id, "practitioner": c.practitioner}
        access: list[Any] = []
        for who in c.access:
            end = c.end_of(who)
            if end is None:
                access.append(who)
            elif not end.break_glass:  # emergency access is never part of the org file
                access.append({"member": who, **_ending(end.until, end.reason)})
        if access:
            client["access"] = access
        if c.supervisor:
            client["supervisor"] = c.supervisor
        clients.append(client)
    return clients
