"""Runbook steps as records: what a person must do in Sessions Health for each applied change,
and whether they have. Pure.

Sessions Health has no API. An apply changes shsync's store at once; each thing a person must
then do in Sessions Health's web page becomes a `Step`, written in the apply's own transaction,
and stays `pending` until someone confirms it (`done`) or a refresh of an observation of
Sessions Health shows it carried out (`observed`). Every view of access reads the pending steps
beside the store, so nothing presents the store as what Sessions Health has.

A step is derived from the applied entry alone (its operations, the practice before and after
it, the store's clock when it was written, the deadlines the practice held), so `history
--verify` derives every step again and compares (`audit.chain.replay_steps`).

One step per thing to do in Sessions Health, each once: a removal that transfers notes is one
Permanently Remove, and steps that need nothing there ("Nothing to do in Sessions Health: ...")
are not recorded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from shsync.core import access
from shsync.core.actions import ACTIONS, grantees, widens
from shsync.core.authorize import Actor
from shsync.core.operation import Operation
from shsync.core.state import PracticeState
from shsync.model import vocabulary
from shsync.model.clock import later, span_minutes

__all__ = ["DEADLINE_OF", "DEFAULT_DEADLINES", "EFFECTS", "STATES", "Step", "derive",
           "deadline_text", "label", "parse_label", "step_text"]

STATES = ("pending", "done", "observed")
EFFECTS = ("narrows", "widens", "other")  # what a step does to anyone's access
# The practice's deadline for each kind of step, in minutes (`policy.deadlines`): access taken
# away within the hour (HIPAA's termination procedure; the proposed 2025 Security Rule update
# sets one hour), new access within three days, the rest within a week.
DEADLINE_OF = {"narrows": "narrows_access", "widens": "widens_access", "other": "other"}
DEFAULT_DEADLINES: tuple[tuple[str, int], ...] = tuple(
    (kind, span_minutes(length)) for kind, length in vocabulary.DEFAULT_DEADLINES)
MEMBERS = "Account Settings > Account > Members"

# (gain | lose, member, client: an id, "*" for every client, None for the practice itself,
#  capability, reason)
AccessRow = tuple[str, str, str | None, str, str]


@dataclass(frozen=True)
class Step:
    id: int  # shown as R-<id>; one sequence per practice
    entry: int  # the audit entry that recorded the change
    actions: tuple[str, ...]  # the operations it carries out
    member: str | None
    client: str | None
    text: str  # the screen and control in Sessions Health
    effect: str  # narrows | widens | other
    recorded_at: str  # the store's clock when the change was recorded
    due: str
    waits_for: str | None = None  # a member who must accept their invitation first
    access: tuple[AccessRow, ...] = ()  # the access this step gives or takes in Sessions Health
    state: str = "pending"
    by: str | None = None  # who confirmed it (done), or the refresh's actor (observed)
    at: str | None = None
    note: str | None = None
    confirmed_in: int | None = None  # the audit entry that recorded it done or observed

    @property
    def label(self) -> str:
        return label(self.id)

    def overdue(self, now: str) -> bool:
        return self.state == "pending" and self.due < now

    def derived(self) -> Step:
        """The step as its apply recorded it, before anyone confirmed it."""
        return replace(self, state="pending", by=None, at=None, note=None, confirmed_in=None)

    def to_dict(self, now: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.label, "entry": self.entry, "actions": list(self.actions),
            "member": self.member, "client": self.client, "step": self.text,
            "effect": self.effect, "recorded_at": self.recorded_at, "due": self.due,
            "waits_for": self.waits_for, "state": self.state, "by": self.by, "at": self.at,
            "note": self.note, "confirmed_in": self.confirmed_in,
            "access": [{"change": c, "member": m, "client": cl, "capability": cap,
                        "reason": why} for c, m, cl, cap, why in self.access]}
        if now is not None:
            out["overdue"] = self.overdue(now)
        return out


def label(step_id: int) -> str:
    return f"R-{step_id}"


def parse_label(text: str) -> int | None:
    """`R-17` (or `r-17`, or `17`) as 17; None when it is no step id."""
    body = text.strip()
    if body[:2].upper() == "R-":
        body = body[2:]
    if not body.isdigit() or len(body) > 12 or not body.isascii():
        return None
    return int(body)


def deadline_text(minutes: int) -> str:
    days, rest = divmod(int(minutes), 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return "".join(parts) or "0m"


def step_text(o: Operation, status_of: Mapping[str, str]) -> str:
    """Where and how a person does this step in Sessions Health."""
    if o.action == "remove_member" and status_of.get(o.target) == "invited":
        return f'{MEMBERS} > "..." next to {o.target} (invited) > Revoke Invitation.'
    return ACTIONS[o.action].step(o)


def _nothing_to_do(text: str) -> bool:
    return text.startswith(("Nothing to do", "Nothing to change"))


@dataclass
class _ToDo:
    operations: list[Operation]
    text: str
    member: str | None = None
    client: str | None = None
    people: set[str] = field(default_factory=set)


def _people(o: Operation) -> set[str]:
    named = {o.get(p) for p in ("member", "practitioner", "previous", "supervisor", "to")
             if isinstance(o.get(p), str)}
    if ACTIONS[o.action].kind == "member":
        named.add(o.target)
    return {e for e in (*named, *grantees(o)) if e}


def _todos(operations: Sequence[Operation], status_of: Mapping[str, str]) -> list[_ToDo]:
    todos: list[_ToDo] = []
    handoffs = {o.target: o for o in operations if o.action == "handoff_notes"}
    removed = {o.target for o in operations if o.action == "remove_member"}
    for o in operations:
        if o.action == "handoff_notes" and o.target in removed:
            continue  # transferred when asked, inside the one Permanently Remove below
        text = step_text(o, status_of)
        if o.action == "remove_member" and o.target in handoffs:
            h = handoffs[o.target]
            text = text.replace(
                "Permanently Remove. ",
                f"Permanently Remove: when asked, transfer their {h.get('count')} incomplete "
                f"note(s) to {h.get('to')}. ", 1)
        if _nothing_to_do(text):
            continue
        kind = ACTIONS[o.action].kind
        people = _people(o) | (_people(handoffs[o.target]) if o.action == "remove_member"
                               and o.target in handoffs else set())
        todo = _ToDo([o], text, people=people)
        if kind == "member":
            todo.member = o.target
        elif kind == "client":
            todo.client = o.target
            todo.member = o.get("member") or o.get("practitioner")
        todos.append(todo)
    return todos


def _client_access(before: PracticeState, after: PracticeState, client: str,
                   people: set[str]) -> list[AccessRow]:
    rows: list[AccessRow] = []
    for email in sorted(people):
        was = access.held_on(before, email, client)
        now = access.held_on(after, email, client)
        rows += [("lose", email, client, cap, why) for cap, why in sorted(was - now)]
        rows += [("gain", email, client, cap, why) for cap, why in sorted(now - was)]
    return rows


def _key(row: tuple[str | None, str, str]) -> tuple[str, str, str]:
    return (row[0] or "", row[1], row[2])


# Entries whose changes were seen in Sessions Health, not asked of it: a refresh records what an
# observation of Sessions Health showed, so it leaves nobody anything to do there.
OBSERVED_KINDS = frozenset({"refresh"})


def derive(operations: Sequence[Operation], before: PracticeState, after: PracticeState, *,
           entry: int, first_id: int, recorded_at: str, kind: str = "apply",
           deadlines: Sequence[tuple[str, int]] | None = None) -> tuple[Step, ...]:
    """The steps an applied entry of this kind asks of a person, numbered from `first_id`.
    `deadlines`: the practice's `policy.deadlines` before the change (None: the defaults)."""
    if kind in OBSERVED_KINDS:
        return ()
    status_of = {e: m.status for e, m in after.members.items()}
    status_of.update({e: m.status for e, m in before.members.items() if e not in status_of})
    todos = _todos(operations, status_of)
    if not todos:
        return ()
    minutes = dict(DEFAULT_DEADLINES) | dict(deadlines or ())
    by_client = {t.client for t in todos if t.client is not None}
    member_people = sorted({e for t in todos if t.client is None for e in t.people})
    held_before = access.holdings(before, member_people) if member_people else {}
    held_after = access.holdings(after, member_people) if member_people else {}
    steps = []
    for number, todo in enumerate(todos, first_id):
        if todo.client is not None:
            rows = _client_access(before, after, todo.client, todo.people)
        else:
            rows = []
            # A removal ends everything its member holds, whichever other step also would;
            # other member steps leave the clients that client steps of the plan move.
            leaving = {o.target for o in todo.operations if o.action == "remove_member"}
            for email in sorted(todo.people):
                was, now = held_before[email], held_after[email]
                everything = email in leaving
                rows += [("lose", email, *h) for h in sorted(was - now, key=_key)
                         if everything or h[0] not in by_client]
                rows += [("gain", email, *h) for h in sorted(now - was, key=_key)
                         if h[0] not in by_client]
        if any(r[0] == "lose" for r in rows):
            effect = "narrows"
        elif rows or any(widens(o) for o in todo.operations):
            effect = "widens"
        else:
            effect = "other"
        waits = None
        if todo.member is not None and status_of.get(todo.member) == "invited" and not any(
                o.action in ("invite_member", "remove_member") for o in todo.operations):
            waits = todo.member
        due = later(recorded_at, timedelta(minutes=minutes[DEADLINE_OF[effect]]))
        steps.append(Step(number, entry, tuple(o.action for o in todo.operations),
                          todo.member, todo.client, todo.text, effect, recorded_at, due, waits,
                          tuple(rows)))
    return tuple(steps)


NOTE_LIMIT = 2000
MAX_CONFIRM = 10_000  # step ids one `done` may name


def confirmation(steps: Mapping[int, Step], asked: Sequence[int], actor: Actor,
                 live: PracticeState, note: str | None) -> list[str]:
    """Why `actor` may not record these steps as carried out, one sentence per problem (empty:
    they may). `steps`: the practice's steps by id, as its store read them in the transaction
    that records the confirmation. An administrator (or the operator) may confirm any step; a
    member, only the steps addressed to them."""
    problems = []
    if note is not None and (len(note) > NOTE_LIMIT or not note.isprintable()):
        problems.append(f"the note must be one line of at most {NOTE_LIMIT} printable "
                        "characters (no control characters)")
    me = live.members.get(actor.email) if actor.email else None
    admin = actor.email is None or (me is not None and me.admin and me.active)
    if actor.email is not None and (me is None or not me.active):
        problems.append(f"{actor.email} is not an active member of this practice")
    seen: set[int] = set()
    for step_id in asked:
        if step_id in seen:
            problems.append(f"{label(step_id)} is named twice")
            continue
        seen.add(step_id)
        step = steps.get(step_id)
        if step is None:
            problems.append(f"there is no runbook step {label(step_id)} in this practice "
                            "(`shsync runbook --all` lists them)")
        elif step.state != "pending":
            problems.append(f"{step.label} is already {step.state} (by {step.by} at "
                            f"{step.at}, audit entry #{step.confirmed_in})")
        elif step.waits_for is not None and _invited(live, step.waits_for):
            problems.append(f"{step.label} waits for {step.waits_for} to accept their "
                            f"invitation (record it with `shsync accepted {step.waits_for}`)")
        elif not admin and me is not None and me.active and step.member != actor.email:
            problems.append(f"{step.label} is addressed to "
                            f"{step.member or 'an administrator'}, not to {actor.email}: only "
                            "an administrator or that member may confirm it")
    return problems


def as_of(steps: Sequence[Step], live: PracticeState) -> list[Step]:
    """The steps as they stand now: a step that waited for a member who has since accepted
    their invitation waits no longer (the record keeps whom it waited for; a view should not)."""
    return [s if s.waits_for is None or _invited(live, s.waits_for) else replace(s, waits_for=None)
            for s in steps]


def _invited(live: PracticeState, email: str) -> bool:
    m = live.members.get(email)
    return m is not None and m.status == "invited"


def confirmed(step: Step, *, how: str, by: str, at: str, note: str | None, entry: int) -> Step:
    return replace(step, state=how, by=by, at=at, note=note, confirmed_in=entry)


def from_dict(data: Any) -> Step:
    """A step as `Step.to_dict` wrote it (a server's answer); ValueError for anything else."""
    try:
        step_id = parse_label(str(data["id"]))
        if step_id is None or data["state"] not in STATES or data["effect"] not in EFFECTS:
            raise ValueError("not a runbook step")
        return Step(step_id, int(data["entry"]), tuple(str(a) for a in data["actions"]),
                    data["member"], data["client"], str(data["step"]), str(data["effect"]),
                    str(data["recorded_at"]), str(data["due"]), data["waits_for"],
                    tuple((str(a["change"]), str(a["member"]), a["client"],
                           str(a["capability"]), str(a["reason"])) for a in data["access"]),
                    str(data["state"]), data["by"], data["at"], data["note"],
                    data["confirmed_in"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a runbook step: {exc}") from None


@dataclass(frozen=True)
class Filter:
    """Which steps `shsync runbook` shows: the outstanding ones unless `everything`."""

    everything: bool = False
    entry: int | None = None
    member: str | None = None
    client: str | None = None
    overdue: bool = False

    def keeps(self, step: Step, now: str) -> bool:
        if not self.everything and step.state != "pending":
            return False
        if self.entry is not None and step.entry != self.entry:
            return False
        if self.member is not None and step.member != self.member and not any(
                row[1] == self.member for row in step.access):
            return False
        if self.client is not None and step.client != self.client and not any(
                row[2] == self.client for row in step.access):
            return False
        return not self.overdue or step.overdue(now)


def select(steps: Sequence[Step], which: Filter, now: str) -> list[Step]:
    """The steps `which` keeps, oldest first."""
    return sorted((s for s in steps if which.keeps(s, now)), key=lambda s: s.id)


# --- two truths: what shsync holds, and what Sessions Health has until the runbook is done ----

@dataclass(frozen=True)
class Seen:
    """One access row as both records have it. `in_sessions_health`: True once carried out (or
    nothing is pending about it); False for access shsync holds whose step to give it is still
    pending ("not yet in Sessions Health"); "pending" for access shsync has ended whose step to
    take it away is still pending: the member can STILL see it in Sessions Health."""

    row: access.Row
    in_shsync: bool
    in_sessions_health: bool | str
    step: Step | None = None  # the pending step it waits for


def _covers(where: str | None, client: str | None) -> bool:
    return where == client or (where == access.EVERY_CLIENT and client is not None)


def two_truths(rows: Sequence[access.Row], steps: Sequence[Step], *, client: str | None,
               member: str | None) -> list[Seen]:
    """`rows` (what shsync holds, for one client or one member) beside the runbook: `steps`
    holds every step of each entry that still has a pending one. Access a step gives is not
    yet in Sessions Health while every step that gives it is pending; access a step takes away
    is still there while every step that takes it away is pending (any one of them ends it: a
    member removed cannot see the client whose Manage Access still lists them)."""
    givers: dict[tuple[str, str | None, str, str], list[Step]] = defaultdict(list)
    takers: dict[tuple[str, str | None, str, str], list[Step]] = defaultdict(list)
    for step in sorted(steps, key=lambda s: s.id):
        for change, who, where, cap, why in step.access:
            (givers if change == "gain" else takers)[(who, where, cap, why)].append(step)

    def waiting(found: list[Step]) -> Step | None:
        return found[0] if found and all(s.state == "pending" for s in found) else None

    out: list[Seen] = []
    held = set()
    for r in rows:
        held.add((r.member, r.client, r.capability, r.reason))
        giving = (waiting(givers.get((r.member, r.client, r.capability, r.reason), []))
                  or waiting(givers.get((r.member, access.EVERY_CLIENT, r.capability,
                                         r.reason), [])))
        out.append(Seen(r, True, giving is None, giving))
    still: dict[tuple[str, str | None, str, str], Step] = {}
    for (who, where, cap, why), found in takers.items():
        if client is not None and not _covers(where, client):
            continue
        if member is not None and who != member:
            continue
        first = waiting(found)
        if first is None:
            continue
        shown = client if client is not None else where
        if (who, shown, cap, why) not in held:
            previous = still.get((who, shown, cap, why))
            if previous is None or first.id < previous.id:
                still[(who, shown, cap, why)] = first
    for (who, shown, cap, why), step in sorted(still.items(), key=lambda kv: (
            kv[0][0], kv[0][1] or "", kv[0][2], kv[0][3])):
        out.append(Seen(access.Row(who, shown, cap, why), False, "pending", step))
    return out


def around_pending(pending: Sequence[Step], every: Sequence[Step]) -> list[Step]:
    """The steps `two_truths` needs: every step of each entry with a pending one."""
    entries = {s.entry for s in pending}
    return [s for s in every if s.entry in entries]


# --- a refresh: which pending steps an observation of Sessions Health shows carried out --------

def subjects(step: Step) -> set[str]:
    """What a step changes in Sessions Health: its member, its client, or the practice."""
    found = {x for x in (step.member, step.client) if x}
    if step.client is not None and step.member is not None:
        found.discard(step.member)  # a client's step is about the client's record
    return found or {"practice"}


def observed(pending: Sequence[Step], drift: Sequence[Operation]
             ) -> tuple[list[Step], list[Step]]:
    """(steps carried out, steps not) by an observation whose difference from the store is
    `drift` (core/observe.py): a step is carried out when the observation no longer differs
    from the store about what it changes. Conservative: a member with two pending steps, one of
    them carried out, shows drift, and both stay pending. An accepted invitation is not such a
    difference."""
    # A member seen to have accepted their invitation is evidence that the invitation was
    # sent, not a difference about what the store recorded: it is drift to record.
    touched = {o.target for o in drift if o.action != "accept_invitation"}
    done: list[Step] = []
    waiting: list[Step] = []
    for step in sorted(pending, key=lambda s: s.id):
        (waiting if subjects(step) & touched else done).append(step)
    return done, waiting
