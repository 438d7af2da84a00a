"""Screens of Sessions Health and preconditions that several families of actions share."""

from __future__ import annotations

from shsync.core.operation import Operation
from shsync.core.working import Working

# --- the screens of Sessions Health the runbook points at ---------------------------------------

MEMBERS = "Account Settings > Account > Members"
EDIT = MEMBERS + ' > "..." next to {t} > Edit Permissions'


def or_nobody(email: str | None) -> str:
    return email if email else "nobody"


def either(value: bool, on: str, off: str) -> str:
    return on if value else off


# --- shared preconditions ----------------------------------------------------------------------

def no_member(w: Working, o: Operation) -> str | None:
    if o.target not in w.members:
        return f"{o.target} is not a member of this practice"
    return None


def no_client(w: Working, o: Operation) -> str | None:
    if o.target not in w.clients:
        return f"there is no client {o.target} in this practice"
    return None


def not_role_holder(w: Working, email: str | None, role: str, what: str) -> str | None:
    if email is None:
        return None
    if email not in w.members:
        return f"{what} {email} is not a member of this practice"
    if not w.members[email].has(role):
        return f"{what} {email} does not hold the {role} role"
    return None


def cannot_see_clients(w: Working, email: str, client: str) -> str | None:
    """Manage Access lists practitioners; an administrator may add themselves."""
    if email not in w.members:
        return f"client {client}: {email} is not a member of this practice"
    m = w.members[email]
    if not (m.has("practitioner") or m.admin):
        return (f"client {client}: {email} is neither a practitioner nor an administrator; "
                "Manage Access lists only practitioners (and administrators adding themselves)")
    return None


def first_problem(*problems: str | None) -> str | None:
    return next((p for p in problems if p), None)




def not_yet_expired(w: Working, o: Operation) -> str | None:
    """A step marked `expired` is only allowed once that end has passed."""
    if o.get("expired") is not None and o.get("expired") > w.now:
        return f"{o.target}: marked expired at {o.get('expired')}, which has not passed " \
               f"(now {w.now})"
    # Every end is judged by the store's clock as it writes: a planning clock set ahead
    # (SHSYNC_NOW, `plan --at`, a runner's clock running fast) only previews an expiry.
    if o.get("expired") is not None and w.written is not None and o.get("expired") > w.written:
        return f"{o.target}: marked expired at {o.get('expired')}, which has not passed by " \
               f"the store's clock ({w.written}); the planning clock only previews it"
    return None


def until_text(o: Operation) -> str:
    ending = f" until {o.get('until')}" if o.get("until") else ""
    return ending + (f" (reason: {o.get('reason')})" if o.get("reason") else "")


def expired_text(o: Operation) -> str:
    return f" [expired {o.get('expired')}]" if o.get("expired") else ""




def end_step(o: Operation) -> str:
    if o.get("expired"):
        return f" Do it now: this access ended at {o.get('expired')}."
    if o.get("until"):
        return (f" It ends at {o.get('until')}: shsync takes it back in the first plan or "
                "`shsync expire` after that.")
    return ""
