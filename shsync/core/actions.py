"""Every action a plan can hold, each defined once.

An `Action` carries everything shsync knows about one kind of step: its phase in the plan's
order, the parameters it takes and their types, its precondition against the practice it meets,
its effect on that practice, who must have accepted their invitation before it may give them
access, whether it widens access, how it reads in a plan, where a person does it in Sessions
Health, and the name of the store's handler. A new action is one `register(...)` call here
plus one SQL handler; a test checks every store has a handler for every action.

Preconditions see a `Working` practice (with counts kept up to date), so each step is checked
against the state it will really meet, not the state the plan started from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import IntEnum
from typing import Any

from shsync.model.clock import length_text, later
from shsync.core.simulate import Working
from shsync.core.state import ClientState, End, MemberState, holds

ROLES = ("practitioner", "supervisor", "scheduler", "biller", "forms_admin")
COSIGN = ("progress_notes", "treatment_plans", "assessments")
UPDATABLE = ("first_name", "last_name", "npi", "taxonomy")
PRACTICE = "practice"  # the target of practice-wide steps


class Phase(IntEnum):
    """The order of a plan. Each phase only needs what earlier phases set up."""

    INVITE = 0  # new members exist, with their roles, before anyone points at them
    GRANT = 1  # acceptances, roles, admin and settings that add or change, never take away
    SUPERVISE = 2  # supervisees move (or are cleared) before a supervisor loses role or leaves
    CLIENTS = 3  # clients and grants move before a practitioner loses role or leaves
    HANDOFF = 4  # notes move before their author or signer leaves
    REVOKE = 5  # roles and admin taken away once nobody depends on them
    REMOVE = 6  # members leave last


Check = Callable[[Working, Any], "str | None"]


@dataclass(frozen=True)
class Action:
    name: str
    phase: Phase
    params: dict[str, str]  # name -> kind (see operations._check); "?" marks optional
    kind: str  # what it targets: member, client or practice
    precondition: Check
    effect: Callable[[Working, Any], None]
    describe: Callable[[Any], tuple[str, str]]  # (+ ~ -, text)
    step: Callable[[Any], str]  # where and how a person does it in Sessions Health
    widens: Callable[[Any], bool] = lambda o: False
    grantees: Callable[[Any], tuple[str, ...]] = lambda o: ()  # must be active to receive it
    sql: str = ""  # the store's handler; defaults to the action's name

    def phase_of(self, o: Any) -> Phase:
        if self.name == "set_admin" and not o.get("admin"):
            return Phase.REVOKE
        return self.phase


ACTIONS: dict[str, Action] = {}


def register(action: Action) -> Action:
    if action.name in ACTIONS:
        raise ValueError(f"action {action.name} is registered twice")
    ACTIONS[action.name] = action if action.sql else replace(action, sql=action.name)
    return action


# --- the screens of Sessions Health the runbook points at ---------------------------------------

MEMBERS = "Account Settings > Account > Members"
EDIT = MEMBERS + ' > "..." next to {t} > Edit Permissions'


def _who(email: str | None) -> str:
    return email if email else "nobody"


def _flag(value: bool, on: str, off: str) -> str:
    return on if value else off


# --- shared preconditions ----------------------------------------------------------------------

def _member(w: Working, o: Any) -> str | None:
    if o.target not in w.members:
        return f"{o.target} is not a member of this practice"
    return None


def _client(w: Working, o: Any) -> str | None:
    if o.target not in w.clients:
        return f"there is no client {o.target} in this practice"
    return None


def _role_holder(w: Working, email: str | None, role: str, what: str) -> str | None:
    if email is None:
        return None
    if email not in w.members:
        return f"{what} {email} is not a member of this practice"
    if not w.members[email].has(role):
        return f"{what} {email} does not hold the {role} role"
    return None


def _may_see_clients(w: Working, email: str, client: str) -> str | None:
    """Manage Access lists practitioners; an administrator may add themselves."""
    if email not in w.members:
        return f"client {client}: {email} is not a member of this practice"
    m = w.members[email]
    if not (m.has("practitioner") or m.admin):
        return (f"client {client}: {email} is neither a practitioner nor an administrator; "
                "Manage Access lists only practitioners (and administrators adding themselves)")
    return None


def _first(*problems: str | None) -> str | None:
    return next((p for p in problems if p), None)


# --- members -----------------------------------------------------------------------------------

def _invite_text(o: Any) -> str:
    parts = [", ".join(o.get("roles")) or "no role"]
    if o.get("admin"):
        parts.append("administrator")
    if o.get("npi"):
        parts.append(f"NPI {o.get('npi')}")
    if o.get("taxonomy"):
        parts.append(f"taxonomy {o.get('taxonomy')}")
    if "practitioner" in o.get("roles"):
        if not o.get("billing_access"):
            parts.append("billing access off")
        if o.get("full_clinical_access"):
            parts.append("full clinical access")
    return "; ".join(parts)


def _invite_pre(w: Working, o: Any) -> str | None:
    if o.target in w.members:
        return f"{o.target} is already a member; they cannot be invited again"
    if o.get("full_clinical_access") and o.get("status") != "active":
        return f"{o.target} cannot be given full clinical access before they accept"
    return None


def _invite(w: Working, o: Any) -> None:
    w.put_member(MemberState(
        email=o.target, first_name=o.get("first_name"), last_name=o.get("last_name"),
        roles=tuple(sorted(o.get("roles"))), admin=o.get("admin"), npi=o.get("npi"),
        taxonomy=o.get("taxonomy"), billing_access=o.get("billing_access"),
        full_clinical_access=o.get("full_clinical_access"),
        status=o.get("status") or "invited", invited_at=w.now))


register(Action(
    "invite_member", Phase.INVITE,
    {"first_name": "name", "last_name": "name", "roles": "roles", "admin": "bool",
     "npi": "str?", "taxonomy": "str?", "billing_access": "bool", "full_clinical_access": "bool",
     "status": "status?"},
    "member", _invite_pre, _invite,
    describe=lambda o: ("+", ("record as an active member: " if o.get("status") == "active"
                              else "invite as ") + _invite_text(o)),
    step=lambda o: (f"{MEMBERS} > + Add Member: email {o.target}, name {o.get('first_name')} "
                    f"{o.get('last_name')}; {_invite_text(o)}. Send Invite."),
    widens=lambda o: bool(o.get("admin") or o.get("full_clinical_access")
                          or {"scheduler", "biller", "forms_admin"} & set(o.get("roles"))),
    sql="invite"))


def _accept_pre(w: Working, o: Any) -> str | None:
    if o.target not in w.members:
        return f"{o.target} is not a member of this practice"
    if w.members[o.target].active:
        return f"{o.target} is already an active member"
    return None


register(Action(
    "accept_invitation", Phase.GRANT, {}, "member", _accept_pre,
    lambda w, o: w.change_member(o.target, status="active"),
    describe=lambda o: ("~", "record that they accepted the invitation"),
    step=lambda o: f"Nothing to do: {o.target} accepted the invitation (recorded from "
                   f"{MEMBERS}).",
    widens=lambda o: True))


def _update_pre(w: Working, o: Any) -> str | None:
    if (problem := _member(w, o)) is not None:
        return problem
    m = w.members[o.target]
    for name, (old, _) in o.get("changes"):
        if getattr(m, name) != old:
            return f"{o.target}'s {name} is no longer {old!r}"
    return None


register(Action(
    "update_member", Phase.GRANT, {"changes": "changes"}, "member", _update_pre,
    lambda w, o: w.change_member(o.target, **{n: new for n, (_, new) in o.get("changes")}),
    describe=lambda o: ("~", "; ".join(f"{name}: {old or '(none)'} -> {new or '(none)'}"
                                       for name, (old, new) in o.get("changes"))),
    step=lambda o: EDIT.format(t=o.target) + ": " + "; ".join(
        f"{name.replace('_', ' ')} {new or '(empty)'}" for name, (_, new) in o.get("changes"))
        + ". Save."))


def _grant_role_pre(w: Working, o: Any) -> str | None:
    if (problem := _member(w, o)) is not None:
        return problem
    if w.members[o.target].has(o.get("role")):
        return f"{o.target} already holds the {o.get('role')} role"
    return None


def _revoke_role_pre(w: Working, o: Any) -> str | None:
    if (problem := _member(w, o)) is not None:
        return problem
    t, role = o.target, o.get("role")
    if not w.members[t].has(role):
        return f"{t} does not hold the {role} role"
    if role == "practitioner" and w.assigned[t]:
        return f"{t} cannot lose the practitioner role: {w.assigned[t]} client(s) are assigned"
    if role == "practitioner" and w.members[t].supervisor:
        return f"{t} cannot lose the practitioner role while supervised by " \
               f"{w.members[t].supervisor}"
    if role == "supervisor":
        if w.supervisees[t]:
            return f"{t} cannot lose the supervisor role: {w.supervisees[t]} supervisee(s)"
        if w.client_supervising[t]:
            return f"{t} cannot lose the supervisor role: supervises {w.client_supervising[t]} " \
                   "client(s)"
        if w.awaiting(t):
            return f"{t} cannot lose the supervisor role: notes await their signature"
    return None


def _set_roles(w: Working, o: Any, add: bool) -> None:
    roles = set(w.members[o.target].roles)
    roles = roles | {o.get("role")} if add else roles - {o.get("role")}
    w.change_member(o.target, roles=tuple(sorted(roles)))


register(Action(
    "grant_role", Phase.GRANT, {"role": "role"}, "member", _grant_role_pre,
    lambda w, o: _set_roles(w, o, True),
    describe=lambda o: ("~", f"grant role {o.get('role')}"),
    step=lambda o: EDIT.format(t=o.target) + f": tick the {o.get('role')} role. Save.",
    widens=lambda o: True))
register(Action(
    "revoke_role", Phase.REVOKE, {"role": "role"}, "member", _revoke_role_pre,
    lambda w, o: _set_roles(w, o, False),
    describe=lambda o: ("~", f"revoke role {o.get('role')}"),
    step=lambda o: EDIT.format(t=o.target) + f": untick the {o.get('role')} role. Save."))


def _set_admin_pre(w: Working, o: Any) -> str | None:
    if (problem := _member(w, o)) is not None:
        return problem
    m = w.members[o.target]
    if m.admin == o.get("admin"):
        return f"{o.target} is already {'an' if m.admin else 'not an'} administrator"
    if not o.get("admin"):
        if m.owner:
            return f"{o.target} owns the account and cannot lose administrator rights"
        if w.admins <= 1:
            return f"{o.target} is the last administrator"
    return None


register(Action(
    "set_admin", Phase.GRANT, {"admin": "bool"}, "member", _set_admin_pre,
    lambda w, o: w.change_member(o.target, admin=o.get("admin")),
    describe=lambda o: ("~", _flag(o.get("admin"), "make administrator",
                                   "remove administrator rights (Basic Member)")),
    step=lambda o: EDIT.format(t=o.target) + ": Access level "
                   + _flag(o.get("admin"), "Administrator", "Basic Member") + ". Save.",
    widens=lambda o: bool(o.get("admin")), sql="set_flag"))


def _practitioner_flag(name: str) -> Check:
    def check(w: Working, o: Any) -> str | None:
        if (problem := _member(w, o)) is not None:
            return problem
        if not w.members[o.target].has("practitioner"):
            return f"{o.target} is not a practitioner, so has no {name.replace('_', ' ')}"
        if getattr(w.members[o.target], name) == o.get(name):
            return f"{o.target}'s {name.replace('_', ' ')} is already {o.get(name)}"
        return None
    return check


register(Action(
    "set_billing_access", Phase.GRANT, {"billing_access": "bool"}, "member",
    _practitioner_flag("billing_access"),
    lambda w, o: w.change_member(o.target, billing_access=o.get("billing_access")),
    describe=lambda o: ("~", _flag(o.get("billing_access"), "turn billing access on",
                                   "turn billing access off")),
    step=lambda o: EDIT.format(t=o.target) + ": " + _flag(
        o.get("billing_access"), "tick", "untick") + " Billing Access. Save.",
    widens=lambda o: bool(o.get("billing_access")), sql="set_flag"))
def _clinical_pre(w: Working, o: Any) -> str | None:
    if (problem := _member(w, o)) is not None:
        return problem
    m = w.members[o.target]
    if not m.has("practitioner"):
        return f"{o.target} is not a practitioner, so has no full clinical access"
    want = (o.get("full_clinical_access"), o.get("until"), o.get("reason"))
    if (m.full_clinical_access, m.clinical_until, m.clinical_reason) == want:
        return f"{o.target}'s full clinical access is already {o.get('full_clinical_access')}"
    if o.get("until") is not None and not o.get("full_clinical_access"):
        return f"{o.target}: an end is given for full clinical access that is taken away"
    return _expired_pre(w, o)


def _expired_pre(w: Working, o: Any) -> str | None:
    """A step marked `expired` is only allowed once that end has passed."""
    if o.get("expired") is not None and o.get("expired") > w.now:
        return f"{o.target}: marked expired at {o.get('expired')}, which has not passed " \
               f"(now {w.now})"
    return None


def _until(o: Any) -> str:
    ending = f" until {o.get('until')}" if o.get("until") else ""
    return ending + (f" (reason: {o.get('reason')})" if o.get("reason") else "")


def _expired(o: Any) -> str:
    return f" [expired {o.get('expired')}]" if o.get("expired") else ""


def _clinical(w: Working, o: Any) -> None:
    on = o.get("full_clinical_access")
    w.change_member(o.target, full_clinical_access=on,
                    clinical_until=o.get("until") if on else None,
                    clinical_reason=o.get("reason") if on else None)


register(Action(
    "set_full_clinical_access", Phase.GRANT,
    {"full_clinical_access": "bool", "until": "time?", "reason": "text?", "expired": "time?"},
    "member", _clinical_pre, _clinical,
    describe=lambda o: ("~", _flag(o.get("full_clinical_access"),
                                   "grant full clinical access" + _until(o),
                                   "remove full clinical access") + _expired(o)),
    step=lambda o: EDIT.format(t=o.target) + ": " + _flag(
        o.get("full_clinical_access"), "tick", "untick") + " Full Clinical Access. Save."
        + _end_step(o),
    widens=lambda o: bool(o.get("full_clinical_access")),
    grantees=lambda o: (o.target,) if o.get("full_clinical_access") else (), sql="set_clinical"))


def _end_step(o: Any) -> str:
    if o.get("expired"):
        return f" Do it now: this access ended at {o.get('expired')}."
    if o.get("until"):
        return (f" It ends at {o.get('until')}: shsync takes it back in the first plan or "
                "`shsync expire` after that.")
    return ""


def _practice_name_pre(w: Working, o: Any) -> str | None:
    if o.target != PRACTICE:
        return f"set_practice_name targets {PRACTICE!r}, not {o.target!r}"
    if w.name != o.get("previous"):
        return f"the practice's name is no longer {o.get('previous')!r}"
    return None


def _set_name(w: Working, o: Any) -> None:
    w.name = o.get("name")


register(Action(
    "set_practice_name", Phase.GRANT, {"name": "name?", "previous": "name?"}, "practice",
    _practice_name_pre, _set_name,
    describe=lambda o: ("~", f"name: {o.get('previous') or '(none)'} -> "
                             f"{o.get('name') or '(none)'}"),
    step=lambda o: f"Settings > Practice Details: Practice Name {o.get('name')}. Save."))


def _policy_pre(w: Working, o: Any) -> str | None:
    if o.target != PRACTICE:
        return f"set_policy targets {PRACTICE!r}, not {o.target!r}"
    if w.approval_policy != o.get("previous"):
        return f"the practice's approvals policy is no longer {_approvals_text(o.get('previous'))}"
    return None


def _approvals_text(pairs: Any) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in pairs) or "none"


def _set_policy(w: Working, o: Any) -> None:
    w.approval_policy = o.get("approvals")


register(Action(
    "set_policy", Phase.GRANT, {"approvals": "approvals", "previous": "approvals"}, "practice",
    _policy_pre, _set_policy,
    describe=lambda o: ("~", f"approvals policy (two-person rule): "
                             f"{_approvals_text(o.get('previous'))} -> "
                             f"{_approvals_text(o.get('approvals'))}"),
    step=lambda o: ("Nothing to do in Sessions Health: shsync's two-person rule becomes "
                    f"{_approvals_text(o.get('approvals'))}.")))


# Without a `policy.break_glass` the practice keeps: active practitioners, for up to 8 hours.
DEFAULT_BREAK_GLASS: tuple[tuple[str, ...], int] = (("practitioner",), 8 * 60)


def policy_text(who: Any, minutes: Any) -> str:
    if who is None:
        who, minutes = DEFAULT_BREAK_GLASS
    return f"{', '.join(who)} for up to {length_text(minutes)}"


def _glass_policy_pre(w: Working, o: Any) -> str | None:
    if o.target != PRACTICE:
        return f"set_break_glass_policy targets {PRACTICE!r}, not {o.target!r}"
    had = w.break_glass_policy
    previous = (tuple(o.get("previous_who")), o.get("previous_max_minutes")) \
        if o.get("previous_who") is not None else None
    if had != previous:
        return "the practice's break-glass policy is no longer " \
               f"{policy_text(o.get('previous_who'), o.get('previous_max_minutes'))}"
    return None


def _set_glass_policy(w: Working, o: Any) -> None:
    w.break_glass_policy = (tuple(o.get("who")), o.get("max_minutes"))


register(Action(
    "set_break_glass_policy", Phase.GRANT,
    {"who": "who", "max_minutes": "minutes", "previous_who": "who?",
     "previous_max_minutes": "minutes?"}, "practice",
    _glass_policy_pre, _set_glass_policy,
    describe=lambda o: ("~", "break-glass policy: "
                             f"{policy_text(o.get('previous_who'), o.get('previous_max_minutes'))}"
                             f" -> {policy_text(o.get('who'), o.get('max_minutes'))}"),
    step=lambda o: ("Nothing to do in Sessions Health: who may use shsync's emergency access "
                    f"becomes {policy_text(o.get('who'), o.get('max_minutes'))}."),
    # who may give themselves access to any client: counted as a widening by the two-person rule
    widens=lambda o: True))


# --- supervision -------------------------------------------------------------------------------

def _set_supervisor_pre(w: Working, o: Any) -> str | None:
    if (problem := _member(w, o)) is not None:
        return problem
    t, new = o.target, o.get("supervisor")
    if w.members[t].supervisor != o.get("previous"):
        return f"{t}'s supervisor is no longer {_who(o.get('previous'))}"
    if new is None:
        return None
    if new == t:
        return f"{t} cannot supervise themselves"
    if not w.members[t].has("practitioner"):
        return f"{t} is not a practitioner, so cannot be supervised"
    if (problem := _role_holder(w, new, "supervisor", "supervisor")) is not None:
        return problem
    if makes_cycle(t, new, lambda e: w.members[e].supervisor if e in w.members else None):
        return f"supervising {t} by {new} makes a cycle"
    return None


def makes_cycle(member: str, supervisor: str | None,
                supervisor_of: Callable[[str], str | None]) -> bool:
    """Whether putting `member` under `supervisor` closes a loop of supervision, given who
    supervises whom (`supervisor_of`; None for nobody, or someone who is not a member)."""
    seen, above = {member}, supervisor
    while above is not None:
        if above in seen:
            return True
        seen.add(above)
        above = supervisor_of(above)
    return False


def _set_supervisor(w: Working, o: Any) -> None:
    w.change_member(o.target, supervisor=o.get("supervisor"))
    if o.get("supervisor") is None:
        w.change_member(o.target, cosign=())
    w.resign_notes(o.target)


def _supervision_step(o: Any) -> str:
    if o.get("supervisor") is None:
        return EDIT.format(t=o.target) + ": Supervisor: none. Save."
    return EDIT.format(t=o.target) + f": Supervisor: {o.get('supervisor')}. Save."


register(Action(
    "set_supervisor", Phase.SUPERVISE, {"supervisor": "email?", "previous": "email?"}, "member",
    _set_supervisor_pre, _set_supervisor,
    describe=lambda o: ("~", f"supervisor: {_who(o.get('previous'))} -> "
                             f"{_who(o.get('supervisor'))}"),
    step=_supervision_step,
    widens=lambda o: o.get("supervisor") is not None,
    grantees=lambda o: (o.get("supervisor"),) if o.get("supervisor") else ()))


def _cosign_pre(w: Working, o: Any) -> str | None:
    if (problem := _member(w, o)) is not None:
        return problem
    m = w.members[o.target]
    if m.cosign != tuple(o.get("previous")):
        return f"{o.target}'s co-signature requirements are no longer " \
               f"{', '.join(o.get('previous')) or 'none'}"
    if o.get("cosign") and m.supervisor is None:
        return f"{o.target} has no supervisor to co-sign their notes"
    return None


def _cosign_text(items: Any) -> str:
    return ", ".join(i.replace("_", " ") for i in items) or "nothing"


register(Action(
    "set_cosign", Phase.SUPERVISE, {"cosign": "cosign", "previous": "cosign"}, "member",
    _cosign_pre, lambda w, o: w.change_member(o.target, cosign=tuple(o.get("cosign"))),
    describe=lambda o: ("~", f"supervisor co-signs: {_cosign_text(o.get('previous'))} -> "
                             f"{_cosign_text(o.get('cosign'))}"),
    step=lambda o: EDIT.format(t=o.target) + ": under Supervisor, Require co-signature for: "
                   + _cosign_text(o.get("cosign")) + ". Save."))


# --- clients -----------------------------------------------------------------------------------

def _create_pre(w: Working, o: Any) -> str | None:
    if o.target in w.clients:
        return f"client {o.target} already exists"
    # Most steps of an onboarding (200,000 at L, checked twice per apply) meet no problem: the
    # checks below first, without the messages; the messages only for a step that fails them.
    members = w.members
    treating = members.get(o.get("practitioner"))
    supervisor = o.get("supervisor")
    signing = members.get(supervisor) if supervisor is not None else None
    if (treating is not None and treating.has("practitioner")
            and (supervisor is None or (signing is not None and signing.has("supervisor")))):
        for who in o.get("access"):  # a loop, not all(): no generator per step
            m = members.get(who)
            if m is None or not (m.has("practitioner") or m.admin):
                return create_problem(w, o)
        return None
    return create_problem(w, o)


def create_problem(w: Working, o: Any) -> str | None:
    """The first problem of a new client's practitioner, supervisor or access, by the rules."""
    return _first(
        _role_holder(w, o.get("practitioner"), "practitioner", f"client {o.target}'s practitioner"),
        _role_holder(w, o.get("supervisor"), "supervisor", f"client {o.target}'s supervisor"),
        *(_may_see_clients(w, who, o.target) for who in o.get("access")))


def _create_text(o: Any) -> str:
    text = f"create, practitioner {o.get('practitioner')}"
    if o.get("access"):
        text += f", access for {', '.join(o.get('access'))}"
    if o.get("supervisor"):
        text += f", supervisor {o.get('supervisor')}"
    return text


register(Action(
    "create_client", Phase.CLIENTS,
    {"practitioner": "email", "access": "emails", "supervisor": "email?"}, "client",
    _create_pre,
    lambda w, o: w.put_client(ClientState(o.target, o.get("practitioner"),
                                          tuple(sorted(o.get("access"))), o.get("supervisor"))),
    describe=lambda o: ("+", _create_text(o)),
    step=lambda o: f"Clients > + Add Client with reference {o.target}: {_create_text(o)}.",
    widens=lambda o: bool(o.get("access")) or o.get("supervisor") is not None,
    grantees=lambda o: tuple(filter(None, (o.get("practitioner"), *o.get("access"),
                                           o.get("supervisor"))))))


def _reassign_pre(w: Working, o: Any) -> str | None:
    if (problem := _client(w, o)) is not None:
        return problem
    if w.clients[o.target].practitioner != o.get("previous"):
        return f"client {o.target}'s practitioner is no longer {o.get('previous')}"
    return _role_holder(w, o.get("practitioner"), "practitioner",
                        f"client {o.target}'s new practitioner")


def _reassign(w: Working, o: Any) -> None:
    w.put_client(replace(w.clients[o.target], practitioner=o.get("practitioner")))


register(Action(
    "reassign_client", Phase.CLIENTS, {"practitioner": "email", "previous": "email"}, "client",
    _reassign_pre, _reassign,
    describe=lambda o: ("~", f"practitioner: {o.get('previous')} -> {o.get('practitioner')}"),
    step=lambda o: f"Clients > {o.target} > Profile > Assigned Practitioner: "
                   f"{o.get('practitioner')}. Save.",
    widens=lambda o: True, grantees=lambda o: (o.get("practitioner"),)))


def _client_sup_pre(w: Working, o: Any) -> str | None:
    if (problem := _client(w, o)) is not None:
        return problem
    if w.clients[o.target].supervisor != o.get("previous"):
        return f"client {o.target}'s supervisor is no longer {_who(o.get('previous'))}"
    return _role_holder(w, o.get("supervisor"), "supervisor", f"client {o.target}'s supervisor")


def _client_sup(w: Working, o: Any) -> None:
    w.put_client(replace(w.clients[o.target], supervisor=o.get("supervisor")))
    w.resign_client(o.target)


register(Action(
    "set_client_supervisor", Phase.CLIENTS, {"supervisor": "email?", "previous": "email?"},
    "client", _client_sup_pre, _client_sup,
    describe=lambda o: ("~", f"supervisor: {_who(o.get('previous'))} -> "
                             f"{_who(o.get('supervisor'))}"),
    step=lambda o: f"Clients > {o.target} > Profile > Supervisor: "
                   f"{_who(o.get('supervisor'))}. Save.",
    widens=lambda o: o.get("supervisor") is not None,
    grantees=lambda o: (o.get("supervisor"),) if o.get("supervisor") else ()))


def _grant_pre(w: Working, o: Any) -> str | None:
    if (problem := _client(w, o)) is not None:
        return problem
    who = o.get("member")
    if who in w.clients[o.target].access:
        return f"client {o.target} already grants access to {who}"
    if o.get("until") is not None and o.get("until") <= w.now:
        return f"client {o.target}: the grant to {who} would end at {o.get('until')}, " \
               "which has passed"
    return _may_see_clients(w, who, o.target)


def _revoke_pre(w: Working, o: Any) -> str | None:
    if (problem := _client(w, o)) is not None:
        return problem
    if o.get("member") not in w.clients[o.target].access:
        return f"client {o.target} does not grant access to {o.get('member')}"
    return _expired_pre(w, o)


def _set_access(w: Working, o: Any, add: bool, break_glass: bool = False) -> None:
    client = w.clients[o.target]
    who = o.get("member")
    access = set(client.access) | {who} if add else set(client.access) - {who}
    ends = [e for e in client.ends if e.member != who]
    if add and o.get("until"):
        ends.append(End(who, o.get("until"), o.get("reason"), break_glass))
    w.put_client(replace(client, access=tuple(sorted(access)),
                         ends=tuple(sorted(ends, key=lambda e: e.member))))


def _grant_text(o: Any) -> str:
    return f"grant access to {o.get('member')}{_until(o)}"


register(Action(
    "grant_access", Phase.CLIENTS,
    {"member": "email", "until": "time?", "reason": "text?"}, "client", _grant_pre,
    lambda w, o: _set_access(w, o, True),
    describe=lambda o: ("+", _grant_text(o)),
    step=lambda o: f"Clients > {o.target} > Manage Access: tick {o.get('member')}. Save."
                   + _end_step(o),
    widens=lambda o: True, grantees=lambda o: (o.get("member"),)))
register(Action(
    "revoke_access", Phase.CLIENTS, {"member": "email", "expired": "time?"}, "client",
    _revoke_pre, lambda w, o: _set_access(w, o, False),
    describe=lambda o: ("-", f"revoke access of {o.get('member')}{_expired(o)}"),
    step=lambda o: f"Clients > {o.target} > Manage Access: untick {o.get('member')}. Save."
                   + _end_step(o)))


def _end_pre(w: Working, o: Any) -> str | None:
    if (problem := _client(w, o)) is not None:
        return problem
    client, who = w.clients[o.target], o.get("member")
    if who not in client.access:
        return f"client {o.target} does not grant access to {who}"
    end = client.end_of(who)
    if (end.until if end else None) != o.get("previous"):
        return f"client {o.target}: the grant to {who} no longer ends at " \
               f"{o.get('previous') or 'no time'}"
    if o.get("until") is not None and o.get("until") <= w.now:
        return f"client {o.target}: the grant to {who} would end at {o.get('until')}, " \
               "which has passed"
    return None


def _end_widens(o: Any) -> bool:
    previous, until = o.get("previous"), o.get("until")
    return previous is not None and (until is None or until > previous)


def _end_text(o: Any) -> str:
    until = o.get("until") or "no end"
    return f"access of {o.get('member')} ends: {o.get('previous') or 'no end'} -> {until}" + (
        f" (reason: {o.get('reason')})" if o.get("reason") else "")


register(Action(
    "set_access_end", Phase.CLIENTS,
    {"member": "email", "until": "time?", "reason": "text?", "previous": "time?"}, "client",
    _end_pre, lambda w, o: _set_access(w, o, True),
    describe=lambda o: ("~", _end_text(o)),
    step=lambda o: (f"Nothing to change in Clients > {o.target} > Manage Access: "
                    f"{o.get('member')} stays ticked." + _end_step(o)),
    widens=_end_widens, grantees=lambda o: (o.get("member"),) if _end_widens(o) else ()))


def sees_record(m: MemberState, client: ClientState) -> bool:
    """Does `m` already see the client's record (assigned, granted, full clinical access)?"""
    return (client.practitioner == m.email or m.email in client.access
            or (m.has("practitioner") and m.full_clinical_access))


def _break_glass_pre(w: Working, o: Any) -> str | None:
    if (problem := _client(w, o)) is not None:
        return problem
    who = o.get("member")
    if who not in w.members or not w.members[who].active:
        return f"{who} is not an active member of this practice, so cannot break glass"
    if sees_record(w.members[who], w.clients[o.target]):
        return f"{who} already sees client {o.target}; break-glass is for a client they do not"
    if o.get("until") <= w.now:
        return f"emergency access of {who} to client {o.target} would end at " \
               f"{o.get('until')}, which has passed"
    # The practice's own policy, as the live practice holds it: never one a file brings along.
    allowed_who, minutes = w.break_glass_policy or DEFAULT_BREAK_GLASS
    if not may_break_glass(w.members[who], allowed_who):
        return f"{who} may not break glass: the practice's policy allows " \
               f"{policy_text(allowed_who, minutes)}"
    if o.get("until") > _at_most(w.now, minutes):
        return f"emergency access of {who} to client {o.target} until {o.get('until')} is " \
               f"longer than the practice's policy allows ({policy_text(allowed_who, minutes)})"
    if w.written is not None and o.get("until") > _at_most(w.written, minutes):
        return f"emergency access of {who} to client {o.target} until {o.get('until')} is " \
               f"longer than the practice's policy allows ({policy_text(allowed_who, minutes)}) " \
               f"from now (the store's clock: {w.written})"
    return None


def _at_most(now: str, minutes: int) -> str:
    try:
        return later(now, timedelta(minutes=minutes))
    except OverflowError:  # within a week of year 9999: any time the format holds is sooner
        return "9999-12-31T23:59:59Z"


def may_break_glass(member: MemberState, who: Any) -> bool:
    """Does the policy's `who` (roles, admin, emails) include this member?"""
    return any(w.lower() == member.email if "@" in w else
               (member.admin if w == "admin" else member.has(w)) for w in who)


register(Action(
    "break_glass", Phase.CLIENTS,
    {"member": "email", "until": "time", "reason": "text"}, "client", _break_glass_pre,
    lambda w, o: _set_access(w, o, True, break_glass=True),
    describe=lambda o: ("+", f"break-glass: emergency access for {o.get('member')}"
                             f"{_until(o)}"),
    step=lambda o: (f"Clients > {o.target} > Manage Access: tick {o.get('member')} (emergency "
                    f"access). Save. Untick them at {o.get('until')}."),
    widens=lambda o: True, grantees=lambda o: (o.get("member"),)))


# --- handoffs and removal ----------------------------------------------------------------------

def _handoff_pre(w: Working, o: Any) -> str | None:
    if (problem := _member(w, o)) is not None:
        return problem
    have = len(w.notes_of(o.target, "incomplete"))
    if have != o.get("count"):
        return f"{o.target} has {have} incomplete note(s), not {o.get('count')}"
    if o.get("to") == o.target:
        return f"{o.target} cannot hand notes off to themselves"
    return _role_holder(w, o.get("to"), "practitioner", "the handoff target")


def _handoff(w: Working, o: Any) -> None:
    for n in w.notes_of(o.target, "incomplete"):
        w.put_note(replace(n, author=o.get("to")))


register(Action(
    "handoff_notes", Phase.HANDOFF, {"to": "email", "count": "int"}, "member", _handoff_pre,
    _handoff,
    describe=lambda o: ("~", f"hand off {o.get('count')} incomplete note(s) to {o.get('to')}"),
    step=lambda o: (f"{MEMBERS} > \"...\" next to {o.target} > Permanently Remove: when asked, "
                    f"transfer their {o.get('count')} incomplete note(s) to {o.get('to')}."),
    grantees=lambda o: (o.get("to"),)))


def _signatures_pre(w: Working, o: Any) -> str | None:
    if (problem := _member(w, o)) is not None:
        return problem
    have = len(w.awaiting(o.target))
    if have != o.get("count"):
        return f"{have} note(s) await {o.target}'s signature, not {o.get('count')}"
    if o.get("to") == o.target:
        return f"{o.target} cannot hand signatures off to themselves"
    return _role_holder(w, o.get("to"), "supervisor", "the signatures handoff target")


def _signatures(w: Working, o: Any) -> None:
    for n in w.awaiting(o.target):
        w.put_note(replace(n, supervisor=o.get("to")))


register(Action(
    "handoff_signatures", Phase.HANDOFF, {"to": "email", "count": "int"}, "member",
    _signatures_pre, _signatures,
    describe=lambda o: ("~", f"{o.get('count')} note(s) awaiting their signature go to "
                             f"{o.get('to')}"),
    step=lambda o: (f"Notes awaiting {o.target}'s signature ({o.get('count')}): have each "
                    f"author set {o.get('to')} as the signer (Note > Signature > Supervisor)."),
    widens=lambda o: True, grantees=lambda o: (o.get("to"),)))


def _remove_pre(w: Working, o: Any) -> str | None:
    if (problem := _member(w, o)) is not None:
        return problem
    t, m = o.target, w.members[o.target]
    future = w.future[t]
    if m.owner:
        return f"{t} owns the account and is never removed"
    if m.admin and w.admins <= 1:
        return f"{t} is the last administrator"
    if w.assigned[t]:
        return f"{t} still has {w.assigned[t]} client(s) assigned"
    if w.grants[t]:
        return f"{t} is still granted access to {w.grants[t]} client(s)"
    if w.client_supervising[t]:
        return f"{t} still supervises {w.client_supervising[t]} client(s)"
    if w.notes_of(t, "incomplete"):
        return f"{t} still has incomplete notes"
    if w.awaiting(t):
        return f"notes still await {t}'s signature"
    if future != o.get("cancel_appointments"):
        return f"removing {t} cancels {future} future appointment(s), not " \
               f"{o.get('cancel_appointments')}"
    return None


def _remove(w: Working, o: Any) -> None:
    w.drop_member(o.target)
    # As in Sessions Health, the removed member's remaining supervisees lose supervision.
    for email, member in list(w.members.items()):
        if member.supervisor == o.target:
            w.change_member(email, supervisor=None, cosign=())
    w.cancel_future(o.target)


register(Action(
    "remove_member", Phase.REMOVE, {"cancel_appointments": "int"}, "member", _remove_pre,
    _remove,
    describe=lambda o: ("-", f"remove (cancels {o.get('cancel_appointments')} future "
                             "appointment(s))"),
    step=lambda o: (f"{MEMBERS} > \"...\" next to {o.target} > Permanently Remove. Confirm that "
                    f"their {o.get('cancel_appointments')} future appointment(s) are cancelled "
                    "and their supervisees lose supervision.")))


def precondition(w: Working, o: Any, action: Action | None = None) -> str | None:
    """The one check of a step against the practice it meets, including the acceptance rule:
    nobody receives access to a client record before they accept their invitation. `action`:
    the step's registry entry, when the caller has looked it up already."""
    if action is None:
        action = ACTIONS[o.action]
    problem = action.precondition(w, o)
    if problem is not None:
        return problem
    for who in action.grantees(o):
        m = w.members.get(who)
        if m is not None and not m.active:
            return (f"{o.action} {o.target}: {who} has not accepted their invitation, so this "
                    "step must wait until they do")
    return None


def holds_role(w: Working, email: str | None, role: str) -> bool:
    return holds(w.members, email, role)
