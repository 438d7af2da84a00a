"""Who may make a change. Checked when planning, and again by the backend inside apply.

Without an actor, shsync acts as the operator who holds the backend's credentials, with
administrator rights. An actor (a member's email) narrows that: member management, roles, admin,
billing and supervision need an administrator; a practitioner who is not an administrator may
change access only on clients assigned to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shsync.core.operations import Operation
from shsync.core.state import PracticeState

OWN_CLIENT_ACTIONS = frozenset({"grant_access", "revoke_access"})


@dataclass(frozen=True)
class Actor:
    email: str | None  # None: the operator
    name: str  # what the audit log records

    @classmethod
    def operator(cls, name: str) -> Actor:
        return cls(None, name)

    @classmethod
    def member(cls, email: str) -> Actor:
        return cls(email.lower(), email.lower())


def forbidden(operations: Iterable[Operation], live: PracticeState, actor: Actor) -> list[str]:
    """Each change the actor may not make, as a sentence; empty when all are allowed."""
    if actor.email is None:
        return []
    me = live.members.get(actor.email)
    if me is None or me.status != "active":
        return [f"{actor.email} is not an active member of this practice and may make no change"]
    if me.admin:
        return [f"break_glass on client {o.target}: only for the acting member themselves"
                for o in operations
                if o.action == "break_glass" and o.get("member") != actor.email]
    refused = []
    for o in operations:
        if o.action == "break_glass" and o.get("member") == actor.email:
            continue  # emergency access for oneself; who may, and how long, is the policy's
        if o.action in OWN_CLIENT_ACTIONS:
            client = live.clients.get(o.target)
            if client is not None and client.practitioner == actor.email:
                continue
            refused.append(f"{o.action} on client {o.target}: {actor.email} may change access "
                           "only on clients assigned to them")
        else:
            refused.append(f"{o.action} {o.target}: needs an administrator")
    return refused
