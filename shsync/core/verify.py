"""The one check of whether operations may be applied: to this live state, by this actor, now.

The planner calls it on every plan it makes, and every store calls it inside its apply
transaction on the operations it is about to write (through `core.admit`), so a forged,
edited or stale plan file cannot do anything the planner would not have allowed.

It checks, in order of each step:
* the actor's rights (`authorize.forbidden`);
* each operation's precondition against the practice it will meet (the member exists or not,
  the value it changes from is the current one, nobody still depends on what it takes away, and
  nobody receives access before accepting their invitation);
* the whole practice's rules after the last step (owner, an administrator, supervision, ...),
  reporting only what the plan breaks, never what was already broken before it;
* the two-person rule the live practice holds (`reconcile.approvals`), when the caller gives
  the approvals it has (a store does, read in the same transaction; the planner only reports
  what a plan will need).

Everything a store records about an apply (its summary, its access delta, the state after it)
comes from `Verdict`, computed from the operations, never read from a plan file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from shsync.core import approvals as two_person
from shsync.core.actions import ACTIONS, precondition
from shsync.core.authorize import Actor, forbidden
from shsync.core.operations import Operation
from shsync.core.plan import Summary
from shsync.core.simulate import violations
from shsync.core.state import PracticeState
from shsync.core.working import Working


@dataclass(frozen=True)
class Verdict:
    forbidden: tuple[str, ...]  # what the actor may not do
    problems: tuple[str, ...]  # preconditions and broken rules
    final: PracticeState  # the practice after every step that could be applied
    summary: Summary
    need: two_person.Need = two_person.Need()  # approvals the live practice's rule asks for
    unapproved: str | None = None  # why the approvals given are not enough (None: they are)
    wrong_kind: str | None = None  # why the plan's kind does not fit its steps (also a problem)

    @property
    def ok(self) -> bool:
        return not self.forbidden and not self.problems


def kind_problem(kind: str, operations: Sequence[Operation],
                 live: PracticeState) -> str | None:
    """Does a plan of this kind hold only the steps such a plan is made of? The kind becomes the
    audit entry's kind, and the review of emergency access is found by it, so a plan file must
    not be able to hide a break-glass as an expiry, or dress an apply up as a break-glass."""
    glass = sum(o.action == "break_glass" for o in operations)
    if kind == "break_glass":
        if glass != 1 or len(operations) != 1:
            return "a break_glass plan holds exactly one break_glass step and nothing else"
    elif glass:
        return f"a break_glass step belongs only in a break_glass plan, not in a {kind} plan"
    elif kind == "expire" and not all(_takes_back_expired(o, live) for o in operations):
        return "an expire plan holds only steps that take back access whose end has passed " \
               "(marked expired at the end the live practice holds for it)"
    elif kind == "accepted" and any(o.action != "accept_invitation" for o in operations):
        return "an accepted plan holds only accept_invitation steps"
    elif kind == "refresh" and any(o.action in _NOT_OBSERVED
                                   or any(o.get(k) is not None for k in _DECIDED)
                                   for o in operations):
        return "a refresh plan records what Sessions Health shows; shsync's own policies " \
               "(set_policy, set_break_glass_policy), access ends and their reasons, and " \
               "expiries are an administrator's own change, never observed there: apply " \
               "them as a plan (kind apply)"
    return None


# Steps an observation of Sessions Health never yields (reconcile.observe): shsync's own rules.
_NOT_OBSERVED = frozenset({"set_policy", "set_break_glass_policy", "set_deadline_policy",
                           "set_access_end"})
# ... and what no observed step carries: Sessions Health shows a grant, never when shsync is
# to end it or why, so a step with these is an administrator's own decision. Logged as a
# refresh it would read, in the audit log and the access review, as something seen rather
# than something done.
_DECIDED = ("until", "reason", "expired")


def _takes_back_expired(o: Operation, live: PracticeState) -> bool:
    """What `emergency.expired_operations` builds: a revoke or a removal of full clinical
    access, marked with the end the live practice holds for it (so access that never had an
    end, or had another, cannot be taken away in an expiry's name)."""
    expired = o.get("expired")
    if not expired:
        return False
    if o.action == "revoke_access":
        client = live.clients.get(o.target)
        end = client.end_of(o.get("member")) if client is not None else None
        return end is not None and end.until == expired
    if o.action == "set_full_clinical_access" and o.get("full_clinical_access") is False:
        member = live.members.get(o.target)
        return member is not None and member.clinical_until == expired
    return False


def verify(operations: Sequence[Operation], live: PracticeState, actor: Actor,
           now: str, approvals: Sequence[two_person.Approval] | None = None,
           kind: str = "apply", written: str | None = None) -> Verdict:
    """`now` is the planning clock; `written` the store's own clock as it writes (a store
    passes it: some preconditions, like the end of an emergency access, are bounded by the real
    time, not by a clock the caller may fix)."""
    refused = tuple(forbidden(operations, live, actor))
    working = Working(live, now, written)
    problems: list[str] = []
    skipped: list[Operation] = []  # steps whose precondition failed (a plan with errors)
    wrong = kind_problem(kind, operations, live)
    if wrong is not None:
        problems.append(wrong)
    previous_phase = -1
    for o in operations:
        action = ACTIONS.get(o.action)
        if action is None:
            problems.append(f"unknown action {o.action!r}")
            continue
        phase = action.phase_for(o)  # `phase(o)`, the entry looked up once per step
        if phase < previous_phase:
            problems.append(f"{o.action} {o.target} is out of order (phase {phase.name} after "
                            "a later phase)")
        previous_phase = max(previous_phase, phase)
        problem = precondition(working, o, action)
        if problem is not None:
            problems.append(problem if problem.startswith(o.action)
                            else f"{o.action} {o.target}: {problem}")
            skipped.append(o)
            continue  # the step cannot happen; later steps meet the practice without it
        action.effect(working, o)  # `simulate.apply`, the entry already at hand
    final = working.freeze()
    before = set(violations(live, now))
    problems.extend(f"the practice would be left broken: {v}"
                    for v in violations(final, now) if v not in before)
    need = two_person.needed(operations, live.approval_policy)
    unapproved = None if approvals is None else two_person.missing(operations, live,
                                                                   actor.email, approvals)
    return Verdict(refused, tuple(problems), final,
                   summarize(operations, live, final, skipped), need, unapproved, wrong)


def _seat_change(o: Operation, final: PracticeState) -> int:
    """The practitioner seat a step that could not happen would have added (+1) or freed (-1)
    in `final`, the practice without it."""
    member = final.members.get(o.target)
    holds = member is not None and member.has("practitioner")
    if o.action == "remove_member" or (o.action == "revoke_role"
                                       and o.get("role") == "practitioner"):
        return -1 if holds else 0
    if (o.action == "grant_role" and o.get("role") == "practitioner") or (
            o.action == "invite_member" and "practitioner" in (o.get("roles") or ())):
        return 0 if holds else 1
    return 0


def summarize(operations: Sequence[Operation], live: PracticeState,
              final: PracticeState, skipped: Sequence[Operation] = ()) -> Summary:
    """The plan's counts. The seats are those the plan leads to when every step happens: a
    step whose precondition fails (a plan with errors) is left out of `final`, but not out of
    the seat count, so a plan shows the same seats with its errors as once they are fixed."""
    targets: dict[str, set[str]] = defaultdict(set)  # by action: one pass over 200k steps
    for o in operations:
        targets[o.action].add(o.target)
    invited, removed = targets["invite_member"], targets["remove_member"]
    kinds = {a: ACTIONS[a].kind if a in ACTIONS else "" for a in targets}
    changed = set().union(*(t for a, t in targets.items() if kinds[a] == "member"))
    changed -= invited | removed
    clients = set().union(*(t for a, t in targets.items() if kinds[a] == "client"))
    return Summary(invite=len(invited), change=len(changed), remove=len(removed),
                   clients=len(clients), seats_before=live.practitioner_count(),
                   seats_after=final.practitioner_count()
                   + sum(_seat_change(o, final) for o in skipped))
