"""Emergency (break-glass) access: who may give it to themselves, its end, and its review.

HIPAA asks for an emergency access procedure (45 CFR 164.312(a)(2)(ii)) and for reviewing
information system activity (164.308(a)(1)(ii)(D)). In shsync an emergency is one operation,
`break_glass`, written to the audit log as its own kind: access to one client for the acting
member, outside the org file, ending by itself. Every later plan shows it; the first plan or
`shsync expire` after its end takes it back; `shsync history --break-glass` lists it until an
administrator records a review (`shsync review`). The policy (who, and for how long) comes from
the org file; the store checks the rest again inside its transaction (`actions.break_glass`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shsync.core.entry import AuditEntry
from shsync.model.clock import duration, later
from shsync.errors import Forbidden, UserError
from shsync.core.actions import (
    DEFAULT_BREAK_GLASS,
    policy_text,
    may_break_glass,
    sees_record,
)  # fmt: skip
from shsync.core.authorize import Actor
from shsync.core.operations import Operation, in_order, op
from shsync.core.state import PracticeState

DEFAULT_LENGTH = "4h"  # without --for: this, or the policy's max when that is shorter
NOTE_LIMIT = 2000


def expired_operations(live: PracticeState, now: str) -> list[Operation]:
    """Every grant, emergency access and full clinical access whose end has passed."""
    ops = [op("revoke_access", cid, member=e.member, expired=e.until)
           for cid, c in sorted(live.clients.items()) for e in c.ends if e.passed(now)]
    ops += [op("set_full_clinical_access", email, full_clinical_access=False,
               expired=m.clinical_until)
            for email, m in sorted(live.members.items())
            if m.full_clinical_access and m.clinical_until and m.clinical_until <= now]
    return in_order(ops)


def _text(value: str, what: str, code: str, limit: int, bad_code: str) -> str:
    value = value.strip()
    if not value:
        raise UserError(f"{what} is required: say why, for the audit log and the review", code)
    if len(value) > limit or not value.isprintable():
        raise UserError(f"{what} must be one line of at most {limit} printable characters "
                        "(no control characters)", bad_code)
    return value


def break_glass_operation(live: PracticeState, actor: Actor, client: str, reason: str,
                          length: str | None, now: str) -> Operation:
    """The one `break_glass` step the practice's policy allows, or a UserError saying why not.
    The policy is the one the live practice keeps (`policy.break_glass`, applied like any other
    change), so the store checks the step again against the same policy inside its
    transaction."""
    if actor.email is None:
        raise UserError("break-glass gives the acting member access: name yourself with "
                        "--actor EMAIL (or SHSYNC_ACTOR; over HTTP, a member's own token)",
                        "break-glass-needs-actor")
    reason = _text(reason, "a reason", "break-glass-no-reason", 500, "invalid-reason")
    who, minutes = live.break_glass_policy or DEFAULT_BREAK_GLASS
    longest = timedelta(minutes=minutes)
    try:
        wanted = duration(length) if length else min(duration(DEFAULT_LENGTH), longest)
    except ValueError as exc:
        raise UserError(f"--for: {exc}", "invalid-duration") from None
    if wanted > longest:
        raise UserError(f"--for {length} is longer than the practice's policy allows "
                        f"({policy_text(who, minutes)})", "break-glass-too-long")
    me = live.members.get(actor.email)
    if me is None or not me.active:
        raise UserError(f"{actor.email} is not an active member of this practice, so cannot "
                        "break glass", "break-glass-not-active")
    if not may_break_glass(me, who):
        raise UserError(f"{actor.email} may not break glass: the practice's policy allows "
                        f"{policy_text(who, minutes)}", "break-glass-not-allowed")
    found = live.clients.get(client)
    if found is None:
        raise UserError(f"there is no client {client} in this practice", "unknown-client")
    if sees_record(me, found):
        raise UserError(f"{actor.email} already sees client {client}; break-glass is only for "
                        "a client they cannot see", "break-glass-already-sees")
    try:
        until = later(now, wanted)
    except OverflowError:
        raise UserError(f"emergency access from {now} for {length or DEFAULT_LENGTH} would end "
                        "after the year 9999", "time-out-of-range") from None
    return op("break_glass", client, member=actor.email, until=until, reason=reason)


@dataclass(frozen=True)
class Emergency:
    """One emergency access, as its audit entry recorded it."""

    seq: int
    at: str
    member: str
    client: str
    until: str
    reason: str

    def line(self) -> str:
        return (f"#{self.seq} {self.at}: {self.member} on {self.client} until {self.until}, "
                f"reason: {self.reason}")


def emergencies(entries: Sequence[AuditEntry]) -> list[Emergency]:
    """Every `break_glass` step in the log, whatever kind its entry claims: a store checks the
    kind now, but a log written before it did (or a store edited by hand) must not be able to
    hide an emergency from the review queue by its entry's kind."""
    found = []
    for e in entries:
        for o in e.operations:
            if isinstance(o, dict) and o.get("action") == "break_glass":
                found.append(Emergency(e.seq, e.at, str(o.get("member")), str(o.get("target")),
                                       str(o.get("until")), str(o.get("reason"))))
    return found


def reviewed(entries: Sequence[AuditEntry]) -> set[int]:
    return {int(e.details["entry"]) for e in entries
            if e.kind == "review" and e.details.get("entry") is not None}


def unreviewed(entries: Sequence[AuditEntry]) -> list[Emergency]:
    done = reviewed(entries)
    return [x for x in emergencies(entries) if x.seq not in done]


def review_details(entries: Sequence[AuditEntry], live: PracticeState, actor: Actor, seq: int,
                   note: str) -> dict[str, Any]:
    """What a review entry records, once the reviewer and the entry are checked."""
    if actor.email is None:
        # The operator is anyone holding the store's URL without naming themselves, the member
        # who broke glass included: a review says who vouched for the emergency.
        raise Forbidden("a review names its reviewer: run it as an administrator with --actor "
                        "EMAIL (or SHSYNC_ACTOR; over HTTP, with a member's own token); another "
                        "administrator than the one who broke glass", "review-needs-actor")
    me = live.members.get(actor.email)
    if me is None or not me.active or not me.admin:
        raise Forbidden(f"{actor.email} is not an active administrator; only an "
                        "administrator reviews emergency access")
    note = _text(note, "a note", "review-no-note", NOTE_LIMIT, "invalid-note")
    found = next((x for x in emergencies(entries) if x.seq == seq), None)
    if found is None:
        raise UserError(f"audit entry #{seq} is not an emergency access (see `shsync history "
                        "--break-glass`)", "not-break-glass")
    if actor.email == found.member:
        raise Forbidden(f"{actor.email} broke glass in entry #{seq}; another administrator "
                        "reviews it", "self-review")
    if seq in reviewed(entries):
        raise UserError(f"audit entry #{seq} has already been reviewed", "already-reviewed")
    return {"entry": seq, "member": found.member, "client": found.client, "note": note}
