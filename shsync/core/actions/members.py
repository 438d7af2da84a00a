"""Members: invitations, acceptance, names and licence numbers, roles, administrator rights,
billing and full clinical access; and leaving: notes and signatures handed off, then removal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

from shsync.core.actions.common import (
    EDIT,
    MEMBERS,
    either,
    end_step,
    expired_text,
    no_member,
    not_role_holder,
    not_yet_expired,
    until_text,
)  # fmt: skip
from shsync.core.actions.registry import Action, Check, Phase, register
from shsync.core.operation import Operation
from shsync.core.state import MemberState, PracticeState
from shsync.core.working import Working

# --- members -----------------------------------------------------------------------------------

def _invite_text(o: Operation) -> str:
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


def _invite_pre(w: Working, o: Operation) -> str | None:
    if o.target in w.members:
        return f"{o.target} is already a member; they cannot be invited again"
    if o.get("full_clinical_access") and o.get("status") != "active":
        return f"{o.target} cannot be given full clinical access before they accept"
    if o.get("owner"):
        # Only a new practice gets its owner so: the one whose sign-up made the account.
        if not w.was_new or any(m.owner for m in w.members.values()):
            return (f"{o.target} is marked owner, but the practice has members already; "
                    "shsync never transfers ownership")
        if o.get("status") != "active" or not o.get("admin"):
            return f"{o.target}, the account's owner, is an active administrator"
    return None


def _invite(w: Working, o: Operation) -> None:
    w.put_member(MemberState(
        email=o.target, first_name=o.get("first_name"), last_name=o.get("last_name"),
        roles=tuple(sorted(o.get("roles"))), admin=o.get("admin"), npi=o.get("npi"),
        taxonomy=o.get("taxonomy"), billing_access=o.get("billing_access"),
        full_clinical_access=o.get("full_clinical_access"), owner=bool(o.get("owner")),
        status=o.get("status") or "invited",
        invited_at=None if o.get("owner") else w.now))


register(Action(
    "invite_member", Phase.INVITE,
    {"first_name": "name", "last_name": "name", "roles": "roles", "admin": "bool",
     "npi": "str?", "taxonomy": "str?", "billing_access": "bool", "full_clinical_access": "bool",
     "status": "status?", "owner": "bool?"},
    "member", _invite_pre, _invite,
    describe=lambda o: ("+", ("record as the account's owner (Sessions Health's sign-up made "
                              "them): " if o.get("owner") else
                              "record as an active member: " if o.get("status") == "active"
                              else "invite as ") + _invite_text(o)),
    step=lambda o: (f"Sessions Health's sign-up makes the account's owner: sign up as "
                    f"{o.target} (name {o.get('first_name')} {o.get('last_name')}) if the "
                    f"practice has no account yet. Then {MEMBERS} > \"...\" next to "
                    f"{o.target} > Edit: {_invite_text(o)}. Save." if o.get("owner") else
                    f"{MEMBERS} > + Add Member: email {o.target}, name {o.get('first_name')} "
                    f"{o.get('last_name')}; {_invite_text(o)}. Send Invite."),
    widens=lambda o: bool(o.get("admin") or o.get("full_clinical_access")
                          or {"scheduler", "biller", "forms_admin"} & set(o.get("roles")))))


def _accept_pre(w: Working, o: Operation) -> str | None:
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


def _update_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_member(w, o)) is not None:
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


def _grant_role_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_member(w, o)) is not None:
        return problem
    if w.members[o.target].has(o.get("role")):
        return f"{o.target} already holds the {o.get('role')} role"
    return None


def _revoke_role_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_member(w, o)) is not None:
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


def _set_roles(w: Working, o: Operation, add: bool) -> None:
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


def _set_admin_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_member(w, o)) is not None:
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
    describe=lambda o: ("~", either(o.get("admin"), "make administrator",
                                   "remove administrator rights (Basic Member)")),
    step=lambda o: EDIT.format(t=o.target) + ": Access level "
                   + either(o.get("admin"), "Administrator", "Basic Member") + ". Save.",
    widens=lambda o: bool(o.get("admin")),
    # rights taken away wait until nobody depends on them; given, they come with the grants
    phase_of=lambda o: Phase.GRANT if o.get("admin") else Phase.REVOKE))


def _practitioner_flag(name: str) -> Check:
    def check(w: Working, o: Operation) -> str | None:
        if (problem := no_member(w, o)) is not None:
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
    describe=lambda o: ("~", either(o.get("billing_access"), "turn billing access on",
                                   "turn billing access off")),
    step=lambda o: EDIT.format(t=o.target) + ": " + either(
        o.get("billing_access"), "tick", "untick") + " Billing Access. Save.",
    widens=lambda o: bool(o.get("billing_access"))))
def _clinical_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_member(w, o)) is not None:
        return problem
    m = w.members[o.target]
    if not m.has("practitioner"):
        return f"{o.target} is not a practitioner, so has no full clinical access"
    want = (o.get("full_clinical_access"), o.get("until"), o.get("reason"))
    if (m.full_clinical_access, m.clinical_until, m.clinical_reason) == want:
        return f"{o.target}'s full clinical access is already {o.get('full_clinical_access')}"
    if o.get("until") is not None and not o.get("full_clinical_access"):
        return f"{o.target}: an end is given for full clinical access that is taken away"
    return not_yet_expired(w, o)




def _clinical(w: Working, o: Operation) -> None:
    on = o.get("full_clinical_access")
    w.change_member(o.target, full_clinical_access=on,
                    clinical_until=o.get("until") if on else None,
                    clinical_reason=o.get("reason") if on else None)


register(Action(
    "set_full_clinical_access", Phase.GRANT,
    {"full_clinical_access": "bool", "until": "time?", "reason": "text?", "expired": "time?"},
    "member", _clinical_pre, _clinical,
    describe=lambda o: ("~", either(o.get("full_clinical_access"),
                                   "grant full clinical access" + until_text(o),
                                   "remove full clinical access") + expired_text(o)),
    step=lambda o: EDIT.format(t=o.target) + ": " + either(
        o.get("full_clinical_access"), "tick", "untick") + " Full Clinical Access. Save."
        + end_step(o),
    widens=lambda o: bool(o.get("full_clinical_access")),
    grantees=lambda o: (o.target,) if o.get("full_clinical_access") else ()))




# --- handoffs and removal ----------------------------------------------------------------------

def _handoff_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_member(w, o)) is not None:
        return problem
    have = len(w.notes_of(o.target, "incomplete"))
    if have != o.get("count"):
        return f"{o.target} has {have} incomplete note(s), not {o.get('count')}"
    if o.get("to") == o.target:
        return f"{o.target} cannot hand notes off to themselves"
    return not_role_holder(w, o.get("to"), "practitioner", "the handoff target")


def _handoff(w: Working, o: Operation) -> None:
    for n in w.notes_of(o.target, "incomplete"):
        w.put_note(replace(n, author=o.get("to")))


register(Action(
    "handoff_notes", Phase.HANDOFF, {"to": "email", "count": "int"}, "member", _handoff_pre,
    _handoff,
    describe=lambda o: ("~", f"hand off {o.get('count')} incomplete note(s) to {o.get('to')}"),
    step=lambda o: (f"{MEMBERS} > \"...\" next to {o.target} > Permanently Remove: when asked, "
                    f"transfer their {o.get('count')} incomplete note(s) to {o.get('to')}."),
    grantees=lambda o: (o.get("to"),)))


def _signatures_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_member(w, o)) is not None:
        return problem
    have = len(w.awaiting(o.target))
    if have != o.get("count"):
        return f"{have} note(s) await {o.target}'s signature, not {o.get('count')}"
    if o.get("to") == o.target:
        return f"{o.target} cannot hand signatures off to themselves"
    return not_role_holder(w, o.get("to"), "supervisor", "the signatures handoff target")


def _signatures(w: Working, o: Operation) -> None:
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


def _remove_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_member(w, o)) is not None:
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
    # A saved plan is applied later than it was made: appointments in between have passed, and
    # the removal cancels fewer (the audit entry records how many: `applied_figures`). Only
    # more than the plan says, which no passing of time explains, is refused.
    if future > o.get("cancel_appointments"):
        return f"removing {t} cancels {future} future appointment(s), not " \
               f"{o.get('cancel_appointments')}"
    return None


def applied_figures(operations: Sequence[Operation], live: PracticeState,
                    now: str) -> dict[str, int]:
    """For each removal whose member has fewer future appointments at `now` than its plan
    counted (time passed, nothing else changed): the count it really cancels."""
    removing = {o.target: o.get("cancel_appointments") for o in operations
                if o.action == "remove_member"}
    if not removing:
        return {}
    found = Counter(a.practitioner for a in live.appointments
                    if a.practitioner in removing and a.starts_at > now)
    return {t: found[t] for t, planned in removing.items() if found[t] != planned}


def with_figures(operations: Sequence[Operation],
                 figures: Mapping[str, int]) -> list[Operation]:
    """The operations as applied: each removal's count of cancelled appointments as recorded
    (what the runbook step and the audit entry say)."""
    if not figures:
        return list(operations)
    return [replace(o, params=tuple((k, figures[o.target] if k == "cancel_appointments" else v)
                                    for k, v in o.params))
            if o.action == "remove_member" and o.target in figures else o
            for o in operations]


def _remove(w: Working, o: Operation) -> None:
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
                             "appointment(s))" if o.get("cancel_appointments") else "remove"),
    step=lambda o: (f"{MEMBERS} > \"...\" next to {o.target} > Permanently Remove. Confirm that "
                    + (f"their {o.get('cancel_appointments')} future appointment(s) are "
                       "cancelled and " if o.get("cancel_appointments") else "")
                    + "their supervisees lose supervision.")))
