"""Refresh: the drift between the store and an observation of the live Sessions Health practice.

Sessions Health has no API, so an operator records what they saw (a snapshot file): members who
accepted, were added, changed or removed in its web page, outside shsync. `observe` turns the
difference into ordinary operations, so a refresh is planned, shown, checked (`verify`),
applied and audited like any other change, and the log still replays. Unlike a plan it takes
what it is shown as fact: nothing is deferred or guarded, and no removal waits for a file.

What an observation does not say, a refresh leaves as the store has it: emergency access
(`shsync break-glass`) that has not ended, which no org file lists (so no export), stays until
its own end while its member is observed; and a member whose status the observation does not
state (`unstated`, as in an export) keeps the store's status.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from shsync.core.operations import Operation, op
from shsync.core.planner import _client_changes, _member_changes
from shsync.core.state import ClientState, PracticeState


def observe(observed: PracticeState, live: PracticeState, handoffs: Mapping[str, Any],
            now: str, unstated: Collection[str] = ()) -> tuple[list[Operation], list[str]]:
    """(operations that make the store match the observation, problems that block it).
    `unstated`: members whose status the observation does not give (they keep the store's)."""
    ops: list[Operation] = []
    problems: list[str] = []
    if observed.name is not None and observed.name != live.name:
        ops.append(op("set_practice_name", "practice", name=observed.name, previous=live.name))
    for email, seen in observed.members.items():
        have = live.members.get(email)
        if have is None:
            ops.append(op("invite_member", email, first_name=seen.first_name,
                          last_name=seen.last_name, roles=seen.roles, admin=seen.admin,
                          npi=seen.npi, taxonomy=seen.taxonomy,
                          billing_access=seen.billing_access,
                          full_clinical_access=seen.full_clinical_access and seen.active,
                          status=seen.status))
            if seen.full_clinical_access and not seen.active:
                problems.append(f"{email} is observed with full clinical access before accepting")
            if seen.supervisor:
                ops.append(op("set_supervisor", email, supervisor=seen.supervisor, previous=None))
            if seen.cosign:
                ops.append(op("set_cosign", email, cosign=seen.cosign, previous=()))
            continue
        if have.owner != seen.owner:
            problems.append(f"the observation moves ownership to or from {email}; shsync never "
                            "records a change of owner")
        if have.status != seen.status and email not in unstated:
            if seen.active:
                ops.append(op("accept_invitation", email))
            else:
                problems.append(f"{email} is active in the store but observed as invited")
        ops.extend(_member_changes(have, seen))
        if have.supervisor != seen.supervisor:
            ops.append(op("set_supervisor", email, supervisor=seen.supervisor,
                          previous=have.supervisor))
        if have.cosign != seen.cosign:
            ops.append(op("set_cosign", email, cosign=seen.cosign, previous=have.cosign))
    for cid, seen_client in observed.clients.items():
        found = live.clients.get(cid)
        if found is None:
            ops.append(op("create_client", cid, practitioner=seen_client.practitioner,
                          access=seen_client.access, supervisor=seen_client.supervisor))
        else:
            ops.extend(o for o in _client_changes(found, seen_client)
                       if not _emergency(o, found, observed, now))
    for email in sorted(set(live.members) - set(observed.members)):
        ops.extend(_gone(email, live, observed, handoffs.get(email), now, problems))
    return ops, problems


def _emergency(o: Operation, have: ClientState, observed: PracticeState, now: str) -> bool:
    """A revoke of emergency access that has not ended, from a member still observed: what the
    observation leaves out, not what it saw taken back (that access ends by itself)."""
    if o.action != "revoke_access":
        return False
    member = o.get("member")
    end = have.end_of(member)
    return (end is not None and end.break_glass and not end.passed(now)
            and member in observed.members)


def _gone(email: str, live: PracticeState, observed: PracticeState, handoff: Any, now: str,
          problems: list[str]) -> list[Operation]:
    """A member removed in Sessions Health: record where their work went, then the removal."""
    ops = []
    for client in live.clients.values():
        if client.id in observed.clients:
            continue  # the observation says who holds it now
        if client.practitioner == email:
            problems.append(f"{email} is no longer in Sessions Health but client {client.id} is "
                            "assigned to them in the store: add the client to the observation")
        if email in client.access:
            ops.append(op("revoke_access", client.id, member=email))
    incomplete = sum(n.author == email and n.status == "incomplete" for n in live.notes)
    awaiting = sum(n.supervisor == email and n.status == "awaiting_signature"
                   for n in live.notes)
    if incomplete:
        if handoff is None or handoff.notes is None:
            problems.append(f"{email} is no longer in Sessions Health but holds {incomplete} "
                            "incomplete note(s) in the store: add a handoff with notes: (who "
                            "received them) to the observation")
        else:
            ops.append(op("handoff_notes", email, to=handoff.notes, count=incomplete))
    if awaiting:
        if handoff is None or handoff.signatures is None:
            problems.append(f"{email} is no longer in Sessions Health but {awaiting} note(s) "
                            "await their signature in the store: add a handoff with "
                            "signatures: to the observation")
        else:
            ops.append(op("handoff_signatures", email, to=handoff.signatures, count=awaiting))
    future = sum(a.practitioner == email and a.starts_at > now for a in live.appointments)
    ops.append(op("remove_member", email, cancel_appointments=future))
    return ops
