"""Clients and grants: new clients, their practitioner and supervisor, access granted to
others, and its ends."""

from __future__ import annotations

from dataclasses import replace

from shsync.core.actions.common import (
    cannot_see_clients,
    end_step,
    expired_text,
    first_problem,
    no_client,
    not_role_holder,
    not_yet_expired,
    or_nobody,
    until_text,
)  # fmt: skip
from shsync.core.actions.registry import Action, Phase, register
from shsync.core.operation import Operation
from shsync.core.state import ClientState, End
from shsync.core.working import Working

# --- clients -----------------------------------------------------------------------------------

def _create_pre(w: Working, o: Operation) -> str | None:
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


def create_problem(w: Working, o: Operation) -> str | None:
    """The first problem of a new client's practitioner, supervisor or access, by the rules."""
    return first_problem(
        not_role_holder(w, o.get("practitioner"), "practitioner",
                        f"client {o.target}'s practitioner"),
        not_role_holder(w, o.get("supervisor"), "supervisor", f"client {o.target}'s supervisor"),
        *(cannot_see_clients(w, who, o.target) for who in o.get("access")))


def _create_text(o: Operation) -> str:
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


def _reassign_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_client(w, o)) is not None:
        return problem
    if w.clients[o.target].practitioner != o.get("previous"):
        return f"client {o.target}'s practitioner is no longer {o.get('previous')}"
    return not_role_holder(w, o.get("practitioner"), "practitioner",
                        f"client {o.target}'s new practitioner")


def _reassign(w: Working, o: Operation) -> None:
    w.put_client(replace(w.clients[o.target], practitioner=o.get("practitioner")))


register(Action(
    "reassign_client", Phase.CLIENTS, {"practitioner": "email", "previous": "email"}, "client",
    _reassign_pre, _reassign,
    describe=lambda o: ("~", f"practitioner: {o.get('previous')} -> {o.get('practitioner')}"),
    step=lambda o: f"Clients > {o.target} > Profile > Assigned Practitioner: "
                   f"{o.get('practitioner')}. Save.",
    widens=lambda o: True, grantees=lambda o: (o.get("practitioner"),)))


def _client_sup_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_client(w, o)) is not None:
        return problem
    if w.clients[o.target].supervisor != o.get("previous"):
        return f"client {o.target}'s supervisor is no longer {or_nobody(o.get('previous'))}"
    return not_role_holder(w, o.get("supervisor"), "supervisor", f"client {o.target}'s supervisor")


def _client_sup(w: Working, o: Operation) -> None:
    w.put_client(replace(w.clients[o.target], supervisor=o.get("supervisor")))
    w.resign_client(o.target)


register(Action(
    "set_client_supervisor", Phase.CLIENTS, {"supervisor": "email?", "previous": "email?"},
    "client", _client_sup_pre, _client_sup,
    describe=lambda o: ("~", f"supervisor: {or_nobody(o.get('previous'))} -> "
                             f"{or_nobody(o.get('supervisor'))}"),
    step=lambda o: f"Clients > {o.target} > Profile > Supervisor: "
                   f"{or_nobody(o.get('supervisor'))}. Save.",
    widens=lambda o: o.get("supervisor") is not None,
    grantees=lambda o: (o.get("supervisor"),) if o.get("supervisor") else ()))


def _grant_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_client(w, o)) is not None:
        return problem
    who = o.get("member")
    if who in w.clients[o.target].access:
        return f"client {o.target} already grants access to {who}"
    if o.get("until") is not None and o.get("until") <= w.now:
        return f"client {o.target}: the grant to {who} would end at {o.get('until')}, " \
               "which has passed"
    return cannot_see_clients(w, who, o.target)


def _revoke_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_client(w, o)) is not None:
        return problem
    if o.get("member") not in w.clients[o.target].access:
        return f"client {o.target} does not grant access to {o.get('member')}"
    return not_yet_expired(w, o)


def set_access(w: Working, o: Operation, add: bool, break_glass: bool = False) -> None:
    client = w.clients[o.target]
    who = o.get("member")
    access = set(client.access) | {who} if add else set(client.access) - {who}
    ends = [e for e in client.ends if e.member != who]
    if add and o.get("until"):
        ends.append(End(who, o.get("until"), o.get("reason"), break_glass))
    w.put_client(replace(client, access=tuple(sorted(access)),
                         ends=tuple(sorted(ends, key=lambda e: e.member))))


def _grant_text(o: Operation) -> str:
    return f"grant access to {o.get('member')}{until_text(o)}"


register(Action(
    "grant_access", Phase.CLIENTS,
    {"member": "email", "until": "time?", "reason": "text?"}, "client", _grant_pre,
    lambda w, o: set_access(w, o, True),
    describe=lambda o: ("+", _grant_text(o)),
    step=lambda o: f"Clients > {o.target} > Manage Access: tick {o.get('member')}. Save."
                   + end_step(o),
    widens=lambda o: True, grantees=lambda o: (o.get("member"),)))
register(Action(
    "revoke_access", Phase.CLIENTS, {"member": "email", "expired": "time?"}, "client",
    _revoke_pre, lambda w, o: set_access(w, o, False),
    describe=lambda o: ("-", f"revoke access of {o.get('member')}{expired_text(o)}"),
    step=lambda o: f"Clients > {o.target} > Manage Access: untick {o.get('member')}. Save."
                   + end_step(o)))


def _end_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_client(w, o)) is not None:
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


def _end_widens(o: Operation) -> bool:
    previous, until = o.get("previous"), o.get("until")
    return previous is not None and (until is None or until > previous)


def _end_text(o: Operation) -> str:
    until = o.get("until") or "no end"
    return f"access of {o.get('member')} ends: {o.get('previous') or 'no end'} -> {until}" + (
        f" (reason: {o.get('reason')})" if o.get("reason") else "")


register(Action(
    "set_access_end", Phase.CLIENTS,
    {"member": "email", "until": "time?", "reason": "text?", "previous": "time?"}, "client",
    _end_pre, lambda w, o: set_access(w, o, True),
    describe=lambda o: ("~", _end_text(o)),
    step=lambda o: (f"Nothing to change in Clients > {o.target} > Manage Access: "
                    f"{o.get('member')} stays ticked." + end_step(o)),
    widens=_end_widens, grantees=lambda o: (o.get("member"),) if _end_widens(o) else ()))
