"""The planner: `plan(desired, live) -> Plan`. Pure, deterministic, linear in the org's size.

Members are matched by email and clients by id, each compared field by field; every difference
becomes an `Operation`. The practice's rules for removal, supervision and ownership become
errors (the plan cannot be applied) or warnings (a reviewer must see them).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from shsync.core import access
from shsync.core import approvals as two_person
from shsync.core.actions import (
    ACTIONS,
    DEFAULT_BREAK_GLASS,
    Phase,
    grantees,
    makes_cycle,
    phase,
    precondition,
)
from shsync.core.authorize import Actor
from shsync.core.operations import UPDATABLE, Operation, in_order, op, sort_key
from shsync.core.plan import Deferred, Message, Plan
from shsync.core.simulate import apply
from shsync.core.state import (
    ClientState,
    Desired,
    Handoff,
    MemberState,
    PracticeState,
    fingerprint,
)  # fmt: skip
from shsync.core.verify import verify
from shsync.core.working import Working

GUARD_FRACTION = 0.10


OPERATOR = Actor.operator("operator")


@dataclass(frozen=True)
class Options:
    max_removals: int | None = None  # None: 10% of the live practice, at least 1
    allow_mass_removal: bool = False
    # Adopting a practice whose members are all known to have accepted (a migration): members
    # are recorded active, so nothing waits for an acceptance.
    assume_accepted: bool = False


DEFAULTS = Options()


@dataclass
class _Draft:
    """What the planner collects before it freezes a plan."""

    live: PracticeState
    desired: Desired
    now: str
    options: Options = DEFAULTS
    ops: list[Operation] = field(default_factory=list)
    errors: list[Message] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)

    def error(self, code: str, message: str) -> None:
        self.errors.append(Message(code, message))

    def warn(self, code: str, message: str) -> None:
        self.warnings.append(Message(code, message))


def _ids(items: list[str], limit: int = 10) -> str:
    shown = ", ".join(sorted(items)[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def plan(desired: Desired, live: PracticeState, *, practice: str, now: str,
         options: Options = DEFAULTS, actor: Actor = OPERATOR,
         warnings: tuple[Message, ...] = (), live_fingerprint: str | None = None) -> Plan:
    """`live_fingerprint`: the one the store keeps for `live` (hashed here when not given)."""
    draft = _Draft(live, desired, now, options)
    draft.warnings.extend(warnings)
    removed = _removals(draft)
    _practice_name(draft)
    _policy(draft)
    _members(draft, removed)
    _clients(draft, removed)
    _handoffs(draft, removed)
    _guards(draft, removed, options)
    ordered = in_order(draft.ops)
    applicable, deferred = _defer(draft, ordered)
    operations = tuple(_supervision_safe(in_order(applicable), live))
    verdict = verify(operations, live, actor, now)
    for refusal in verdict.forbidden:
        draft.error("forbidden", refusal)
    if not draft.errors:
        # The planner's own safety net: a plan that breaks a precondition or a rule is never
        # applicable. Stores run the same check again inside their transaction.
        for problem in verdict.problems:
            draft.error("broken-invariant", f"this plan cannot be applied: {problem}")
    if verdict.need.count and operations:
        draft.warn("approvals-required", two_person.notice(verdict.need))
    return Plan(
        practice=practice, fingerprint=live_fingerprint or fingerprint(live),
        operations=operations,
        summary=verdict.summary, warnings=tuple(draft.warnings),
        errors=tuple(draft.errors), statuses=_statuses(operations, deferred, live),
        created_at=now, actor=actor.email, access_changes=access.delta(live, verdict.final),
        deferred=deferred, practice_name=verdict.final.name)


def _supervision_safe(steps: list[Operation], live: PracticeState) -> list[Operation]:
    """The steps in order, except that a change of supervisor that would make a cycle with the
    supervision as it stands then waits until the steps that undo the cycle are placed: sorted
    by member alone, swapping who supervises whom (m3 under m2 becoming m2 under m3) attached
    m2 under m3 while m3 was still under m2, and the plan was refused as broken.

    Each pass places, in order, every change that makes no cycle given those placed before it.
    When the practice the steps lead to has no cycle, every pass places one at least: the
    member nearest the top of the final tree among those waiting meets only final supervisors
    above its new one."""
    at = [i for i, o in enumerate(steps) if o.action == "set_supervisor"]
    if len(at) < 2:
        return steps
    supervisor_of = {e: m.supervisor for e, m in live.members.items()}
    waiting, placed = [steps[i] for i in at], []
    while waiting:
        still = []
        for o in waiting:
            if makes_cycle(o.target, o.get("supervisor"), supervisor_of.get):
                still.append(o)
            else:
                placed.append(o)
                supervisor_of[o.target] = o.get("supervisor")
        if len(still) == len(waiting):  # a cycle in the steps themselves: the check names it
            placed += still
            break
        waiting = still
    out = list(steps)
    for i, o in zip(at, placed, strict=True):
        out[i] = o
    return out


# --- steps that wait for an acceptance -----------------------------------------------------------

def _pending(draft: _Draft, operations: list[Operation]) -> set[str]:
    pending = {e for e, m in draft.live.members.items() if not m.active}
    return pending | {o.target for o in operations
                      if o.action == "invite_member" and o.get("status") != "active"}


def _defer(draft: _Draft, ordered: list[Operation]) -> tuple[list[Operation], tuple[Deferred, ...]]:
    """One rule for every step that gives a member access: it waits until they accept.

    Such steps (a grant, a client assigned or handed to them, full clinical access, supervision
    by them) are deferred: left out of the operations, listed with who they wait for, and
    planned again once `shsync accepted` records the acceptance. Steps that depend on a deferred
    one (the previous practitioner or supervisor losing the role or leaving) wait with it.
    """
    if draft.options.assume_accepted:
        return _assume_accepted(draft, ordered), ()
    pending = _pending(draft, ordered)
    if not pending:
        return ordered, ()
    waiting: dict[Operation, str] = {}
    for o in ordered:
        who = next((g for g in grantees(o) if g in pending), None)
        if who is not None:
            waiting[o] = who
    if not waiting:
        return ordered, ()
    blocked: dict[str, str] = {}  # member -> who their leaving waits for
    for o, who in waiting.items():
        leaving = o.get("previous") if o.action in (
            "reassign_client", "set_supervisor", "set_client_supervisor") else (
            o.target if o.action in ("handoff_notes", "handoff_signatures") else None)
        if leaving:
            blocked.setdefault(leaving, who)
    supervision = {o.target: who for o, who in waiting.items() if o.action == "set_supervisor"}
    for o in ordered:
        if o in waiting:
            continue
        if o.action in ("revoke_role", "remove_member") and o.target in blocked:
            waiting[o] = blocked[o.target]
        elif o.action == "set_cosign" and o.target in supervision:
            waiting[o] = supervision[o.target]
    return ([o for o in ordered if o not in waiting],
            tuple(Deferred(o, who) for o, who in waiting.items()))


def _assume_accepted(draft: _Draft, ordered: list[Operation]) -> list[Operation]:
    pending = {e for e, m in draft.live.members.items() if not m.active}
    if not pending:  # an onboarding: 200k steps at L, nobody among them to wait for
        return ordered
    touched = {g for o in ordered for g in grantees(o)} & pending
    return ordered + [op("accept_invitation", e) for e in sorted(touched)]


def _practice_name(draft: _Draft) -> None:
    want, have = draft.desired.name, draft.live.name
    if want is not None and want != have:
        draft.ops.append(op("set_practice_name", "practice", name=want, previous=have))


def _policy(draft: _Draft) -> None:
    want, have = draft.desired.approval_policy, draft.live.approval_policy
    if want is not None and want != have:
        draft.ops.append(op("set_policy", "practice", approvals=want, previous=have))
    deadlines, kept = draft.desired.deadline_policy, draft.live.deadline_policy
    if deadlines is not None and deadlines != kept:
        draft.ops.append(op("set_deadline_policy", "practice", deadlines=deadlines,
                            previous=kept))
    glass, had = draft.desired.break_glass_policy, draft.live.break_glass_policy
    if glass is not None and glass != (had or DEFAULT_BREAK_GLASS):
        draft.ops.append(op("set_break_glass_policy", "practice", who=glass[0],
                            max_minutes=glass[1], previous_who=had[0] if had else None,
                            previous_max_minutes=had[1] if had else None))


# --- members -----------------------------------------------------------------------------------

def _removals(draft: _Draft) -> list[str]:
    if not draft.desired.prune:
        return []
    return sorted(e for e in draft.live.members if e not in draft.desired.members)


def _members(draft: _Draft, removed: list[str]) -> None:
    live, desired = draft.live, draft.desired
    live_owner = live.owner()
    status = "active" if draft.options.assume_accepted else "invited"
    for email, want in desired.members.items():
        have = live.members.get(email)
        if have is None:
            # A new practice's owner signed up, which made the account: active at once, never
            # invited (Sessions Health has no invitation for its owner).
            founder = want.owner and not live.members
            joins = "active" if founder else status
            # Full clinical access is a separate step: it waits until they accept.
            draft.ops.append(op("invite_member", email, first_name=want.first_name,
                                last_name=want.last_name, roles=want.roles, admin=want.admin,
                                npi=want.npi, taxonomy=want.taxonomy,
                                billing_access=want.billing_access,
                                full_clinical_access=want.full_clinical_access
                                and joins == "active" and not want.clinical_until,
                                status=joins, **({"owner": True} if founder else {})))
            if want.full_clinical_access and (joins != "active" or want.clinical_until):
                draft.ops.extend(_clinical_changes(
                    replace(want, full_clinical_access=False, clinical_until=None,
                            clinical_reason=None), want, draft.now))
            if want.owner and live_owner is not None:
                draft.error("owner-change", f"{email} is marked owner, but {live_owner} owns "
                                            "the account; shsync never transfers ownership")
        else:
            draft.ops.extend(_member_changes(have, want, draft.now))
            _owner_checks(draft, have, want, live_owner)
        if want.supervisor != (have.supervisor if have else None):
            draft.ops.append(_supervise(draft, email, want.supervisor,
                                        have.supervisor if have else None))
        if want.cosign != (have.cosign if have else ()):
            draft.ops.append(op("set_cosign", email, cosign=want.cosign,
                                previous=have.cosign if have else ()))
    for email in removed:
        _removal(draft, email)
    for email, have in sorted(live.members.items()):
        if email not in desired.members and email not in removed and have.clinical_until:
            draft.ops.extend(_clinical_changes(have, replace(have, full_clinical_access=False),
                                               draft.now))  # kept by prune: false
    _dependants_of_lost_supervisors(draft, removed)


def _member_changes(have: MemberState, want: MemberState,
                    now: str | None = None) -> Iterator[Operation]:
    changes = tuple((name, (getattr(have, name), getattr(want, name))) for name in UPDATABLE
                    if getattr(have, name) != getattr(want, name))
    if changes:
        yield op("update_member", have.email, changes=changes)
    for role in sorted(set(want.roles) - set(have.roles)):
        yield op("grant_role", have.email, role=role)
    for role in sorted(set(have.roles) - set(want.roles)):
        yield op("revoke_role", have.email, role=role)
    if have.admin != want.admin:
        yield op("set_admin", have.email, admin=want.admin)
    if have.billing_access != want.billing_access:
        yield op("set_billing_access", have.email, billing_access=want.billing_access)
    if now is not None:
        yield from _clinical_changes(have, want, now)
    elif have.full_clinical_access != want.full_clinical_access:
        yield op("set_full_clinical_access", have.email,
                 full_clinical_access=want.full_clinical_access)


def _clinical_changes(have: MemberState, want: MemberState, now: str) -> Iterator[Operation]:
    """Full clinical access, with its end: what the file wants once past ends are dropped."""
    on = want.full_clinical_access and not (want.clinical_until and want.clinical_until <= now)
    until, reason = (want.clinical_until, want.clinical_reason) if on else (None, None)
    if (have.full_clinical_access, have.clinical_until, have.clinical_reason) == (
            on, until, reason):
        return
    if not have.full_clinical_access and not on:
        return
    expired = None
    if not on:
        expired = next((t for t in (have.clinical_until, want.clinical_until)
                        if t and t <= now), None)
    yield op("set_full_clinical_access", have.email, full_clinical_access=on,
             **_given(until=until, reason=reason, expired=expired))


def _given(**params: Any) -> dict[str, Any]:
    """Optional parameters that hold something: a plain grant reads as it always did."""
    return {k: v for k, v in params.items() if v is not None}


def _owner_checks(draft: _Draft, have: MemberState, want: MemberState,
                  live_owner: str | None) -> None:
    if have.owner and not want.admin:
        draft.error("owner-demotion", f"{have.email} owns the account and cannot lose "
                                      "administrator rights")
    if want.owner and not have.owner and live_owner is not None:
        draft.error("owner-change", f"{want.email} is marked owner, but {live_owner} owns the "
                                    "account; shsync never transfers ownership")
    if have.owner and draft.desired.declares_owner and not want.owner:
        draft.error("owner-change", f"{have.email} owns the account but is not marked owner: "
                                    "true; shsync never transfers ownership")


def _supervise(draft: _Draft, email: str, new: str | None, old: str | None) -> Operation:
    """Say where each note awaiting signature goes when a supervisee's supervisor changes."""
    if email in draft.live.members and old is not None:
        awaiting = sorted(n.id for n in draft.live.notes if n.author == email
                          and n.status == "awaiting_signature" and n.supervisor == old)
        if awaiting and new is not None:
            draft.warn("signatures-move", f"{len(awaiting)} note(s) by {email} awaiting "
                                          f"{old}'s signature go to {new} (notes "
                                          f"{_ids([str(i) for i in awaiting])})")
        elif awaiting:
            draft.warn("signatures-stay", f"{len(awaiting)} note(s) by {email} still await "
                                          f"{old}'s signature after supervision ends (notes "
                                          f"{_ids([str(i) for i in awaiting])})")
    if new is not None and email in draft.live.members:
        signed = sum(n.status == "signed" for n in draft.live.notes if n.author == email)
        if signed:
            draft.warn("supervisor-notes", f"{email}'s supervisor becomes {new}: {signed} "
                                           f"note(s) signed earlier stay unassociated ({email} "
                                           "must unlock and resave them to associate them)")
    return op("set_supervisor", email, supervisor=new, previous=old)


def _client_override(state: PracticeState, client: str) -> str | None:
    found = state.clients.get(client)
    return found.supervisor if found else None


def _removal(draft: _Draft, email: str) -> None:
    live = draft.live
    member = live.members[email]
    if member.owner:
        draft.error("owner-removal", f"{email} owns the account and is never removed; declare "
                                     "them in members:")
    future = sorted(a.starts_at for a in live.appointments
                    if a.practitioner == email and a.starts_at > draft.now)
    supervisees = sorted(m.email for m in live.members.values() if m.supervisor == email
                         and (want := draft.desired.members.get(m.email)) is not None
                         and want.supervisor is None)
    if supervisees:
        draft.warn("unsupervised", f"removing {email} leaves {len(supervisees)} supervisee(s) "
                                   f"without a supervisor: {_ids(supervisees)}")
    awaiting = [n for n in live.notes if n.author == email and n.status == "awaiting_signature"
                and n.supervisor is not None]
    if awaiting:
        draft.warn("signatures-stay", f"removing {email}: their {len(awaiting)} note(s) awaiting "
                                      f"signature stay with "
                                      f"{_ids(sorted({n.supervisor or '' for n in awaiting}))}")
    if future:
        draft.warn("appointments-cancelled",
                   f"removing {email} cancels {len(future)} future appointment(s), "
                   f"{future[0][:10]} to {future[-1][:10]}")
    draft.ops.append(op("remove_member", email, cancel_appointments=len(future)))


def _dependants_of_lost_supervisors(draft: _Draft, removed: list[str]) -> None:
    """Members the file does not declare (leaving, or kept by prune: false) must not be left
    pointing at a supervisor who loses the role before they go."""
    losing = {e for e, want in draft.desired.members.items()
              if e in draft.live.members and draft.live.members[e].has("supervisor")
              and not want.has("supervisor")}
    leaving = set(removed)
    for m in draft.live.members.values():
        if m.email not in draft.desired.members and m.supervisor in losing:
            if m.email not in leaving:
                draft.warn("unsupervised", f"{m.email} (not in the file) loses their supervisor "
                                           f"{m.supervisor}, who loses the supervisor role")
            draft.ops.append(op("set_supervisor", m.email, supervisor=None,
                                previous=m.supervisor))


# --- clients -----------------------------------------------------------------------------------

def _clients(draft: _Draft, removed: list[str]) -> None:
    live = draft.live
    for cid, want in draft.desired.clients.items():
        have = live.clients.get(cid)
        if have is None:
            access = want.access
            if want.ends:  # grants that end are granted apart, with their ends (most have none)
                ending = {e.member for e in want.ends}
                access = tuple(a for a in access if a not in ending)
            draft.ops.append(op("create_client", cid, practitioner=want.practitioner,
                                access=access, supervisor=want.supervisor))
            if want.ends:
                draft.ops.extend(op("grant_access", cid, member=e.member,
                                    **_given(until=e.until, reason=e.reason))
                                 for e in want.ends if not e.passed(draft.now))
            continue
        if (not want.ends and not have.ends and have.access == want.access
                and have.practitioner == want.practitioner and have.supervisor == want.supervisor):
            continue  # most clients: nothing to compare (with no ends, nothing can expire)
        draft.ops.extend(_client_changes(have, want, grants=False))
        draft.ops.extend(_grant_changes(draft, have, want))
    _unlisted_clients(draft, set(removed))


def _client_changes(have: ClientState, want: ClientState,
                    grants: bool = True) -> Iterator[Operation]:
    if have.practitioner != want.practitioner:
        yield op("reassign_client", have.id, practitioner=want.practitioner,
                 previous=have.practitioner)
    if have.supervisor != want.supervisor:
        yield op("set_client_supervisor", have.id, supervisor=want.supervisor,
                 previous=have.supervisor)
    if not grants:
        return  # the planner compares grants with their ends (`_grant_changes`)
    for member in sorted(set(want.access) - set(have.access)):
        yield op("grant_access", have.id, member=member)
    for member in sorted(set(have.access) - set(want.access)):
        yield op("revoke_access", have.id, member=member)


def _grant_changes(draft: _Draft, have: ClientState, want: ClientState) -> Iterator[Operation]:
    """Grants, with their ends. A grant whose end has passed is revoked, marked expired, even
    though the file still lists it; emergency access stays until its own end."""
    now = draft.now
    wanted = {m: want.end_of(m) for m in want.access}
    live = {m: have.end_of(m) for m in have.access}
    for member in sorted(set(wanted) | set(live)):
        w_end, l_end = wanted.get(member), live.get(member)
        keep = member in wanted and not (w_end and w_end.passed(now))
        if keep and member not in live:
            yield op("grant_access", have.id, member=member,
                     **_given(until=w_end and w_end.until, reason=w_end and w_end.reason))
        elif keep:
            was = (l_end.until, l_end.reason, l_end.break_glass) if l_end else (None, None, False)
            if was != ((w_end.until, w_end.reason, False) if w_end else (None, None, False)):
                yield op("set_access_end", have.id, member=member, until=w_end and w_end.until,
                         reason=w_end and w_end.reason, previous=l_end and l_end.until)
        elif member in live:
            if l_end and l_end.break_glass and not l_end.passed(now):
                _emergency(draft, have.id, l_end)
                continue
            expired = next((e.until for e in (l_end, w_end) if e and e.passed(now)), None)
            yield op("revoke_access", have.id, member=member, **_given(expired=expired))


def _emergency(draft: _Draft, client: str, end: Any) -> None:
    draft.warn("break-glass", f"break-glass: {end.member} on {client} until {end.until}, "
                              f"reason: {end.reason}")


def _unlisted_clients(draft: _Draft, removed: set[str]) -> None:
    """Clients the file does not list stay as they are, except where a member they depend on
    leaves or loses a role: then the plan must say what happens to them."""
    desired = draft.desired
    final_roles = {e: m.roles for e, m in desired.members.items()}
    for e, m in draft.live.members.items():
        if e not in desired.members and e not in removed:
            final_roles[e] = m.roles  # prune: false keeps undeclared members as they are
    orphaned: dict[str, list[str]] = defaultdict(list)
    for client in draft.live.clients.values():
        if client.id in desired.clients:
            continue
        if "practitioner" not in final_roles.get(client.practitioner, ()):
            orphaned[client.practitioner].append(client.id)
        for member in client.access:
            end = client.end_of(member)
            if member in removed:
                draft.ops.append(op("revoke_access", client.id, member=member))
            elif end and end.passed(draft.now):
                draft.ops.append(op("revoke_access", client.id, member=member,
                                    expired=end.until))
            elif end and end.break_glass:
                _emergency(draft, client.id, end)
        if client.supervisor and "supervisor" not in final_roles.get(client.supervisor, ()):
            draft.warn("client-supervisor-cleared", f"client {client.id} loses its own "
                                                    f"supervisor {client.supervisor}")
            draft.ops.append(op("set_client_supervisor", client.id, supervisor=None,
                                previous=client.supervisor))
    for email, ids in sorted(orphaned.items()):
        target = _handoff(draft, email).clients if email in removed else None
        if target is None:
            why = "is removed" if email in removed else "loses the practitioner role"
            draft.error("clients-need-handoff", f"{email} {why} but still has {len(ids)} "
                                                f"client(s) ({_ids(ids)}): reassign them under "
                                                "clients:, or add a handoff with clients:")
            continue
        draft.ops.extend(op("reassign_client", cid, practitioner=target, previous=email)
                         for cid in ids)


def _handoffs(draft: _Draft, removed: list[str]) -> None:
    incomplete = Counter(n.author for n in draft.live.notes if n.status == "incomplete")
    for email in removed:
        count = incomplete.get(email, 0)
        if not count:
            continue
        target = _handoff(draft, email).notes
        if target is None:
            draft.error("notes-need-handoff", f"{email} is removed but has {count} incomplete "
                                              "note(s): add a handoff with notes:")
        else:
            draft.ops.append(op("handoff_notes", email, to=target, count=count))
    _signature_handoffs(draft, removed)
    for email in sorted(set(draft.desired.handoffs) - set(removed)):
        if email not in draft.live.members:
            draft.warn("stale-handoff", f"the handoff from {email} has nothing left to do: they "
                                        "are not a live member (delete it once applied)")


def _handoff(draft: _Draft, email: str) -> Handoff:
    return draft.desired.handoffs.get(email) or Handoff()


def _signature_handoffs(draft: _Draft, removed: list[str]) -> None:
    """Notes awaiting the signature of a supervisor who leaves or loses the role, and that no
    supervision change in this plan moves, go where a handoff says, or the plan is refused."""
    losing = {e for e, want in draft.desired.members.items()
              if draft.live.members.get(e) is not None
              and draft.live.members[e].has("supervisor") and not want.has("supervisor")}
    leaving = set(removed) | losing
    if not leaving or not any(n.status == "awaiting_signature" for n in draft.live.notes):
        return
    working = Working(draft.live, draft.now)
    for o in sorted(draft.ops, key=sort_key):
        if phase(o) >= Phase.HANDOFF:
            break  # what the supervision and client changes before this step leave behind
        if precondition(working, o) is None:
            apply(working, o)  # a step that cannot apply is reported by verify
    for email in sorted(leaving):
        notes = sorted(str(n.id) for n in working.awaiting(email))
        if not notes:
            continue
        target = _handoff(draft, email).signatures if email in removed else None
        if target is None:
            how = ("add a handoff with signatures: naming another supervisor"
                   if email in removed else "keep the role until they are signed")
            draft.error("signatures-need-handoff", f"{email} "
                        f"{'is removed' if email in removed else 'loses the supervisor role'} "
                        f"but {len(notes)} note(s) await their signature (notes {_ids(notes)}): "
                        f"{how}")
        else:
            draft.warn("signatures-move", f"{len(notes)} note(s) awaiting {email}'s signature "
                                          f"go to {target} (notes {_ids(notes)})")
            draft.ops.append(op("handoff_signatures", email, to=target, count=len(notes)))


# --- guards and summary ------------------------------------------------------------------------

def _guards(draft: _Draft, removed: list[str], options: Options) -> None:
    live_count = len(draft.live.members)
    limit = options.max_removals
    if limit is None:
        limit = max(1, math.floor(live_count * GUARD_FRACTION))
    if len(removed) > limit and not options.allow_mass_removal:
        draft.error("mass-removal", f"this plan removes {len(removed)} of {live_count} members, "
                                    f"more than the limit of {limit}; check that the file is "
                                    "complete, or pass --allow-mass-removal (or a higher "
                                    "--max-removals)")


def _statuses(operations: tuple[Operation, ...], deferred: tuple[Deferred, ...],
              live: PracticeState) -> tuple[tuple[str, str], ...]:
    touched: set[str] = set()
    for o in (*operations, *(d.operation for d in deferred)):
        if ACTIONS[o.action].kind == "member":
            touched.add(o.target)
        for name in ("supervisor", "practitioner", "member", "to"):
            value = o.get(name)
            if isinstance(value, str):
                touched.add(value)
    return tuple(sorted((e, live.members[e].status if e in live.members else "new")
                        for e in touched))
