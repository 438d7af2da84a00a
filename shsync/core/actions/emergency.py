"""Emergency (break-glass) access and the practice's policy for it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shsync.core.actions.clients import set_access
from shsync.core.actions.common import (
    no_client,
    until_text,
)  # fmt: skip
from shsync.core.actions.registry import PRACTICE, Action, Phase, register
from shsync.core.operation import Operation
from shsync.core.state import ClientState, MemberState
from shsync.core.working import Working
from shsync.model.clock import duration, later, length_text
from shsync.model.vocabulary import DEFAULT_BREAK_GLASS_MAX, DEFAULT_BREAK_GLASS_WHO

# Without a `policy.break_glass` the practice keeps: active practitioners, for up to 8 hours.
DEFAULT_BREAK_GLASS: tuple[tuple[str, ...], int] = (
    DEFAULT_BREAK_GLASS_WHO, duration(DEFAULT_BREAK_GLASS_MAX) // timedelta(minutes=1))


def policy_text(who: Any, minutes: Any) -> str:
    if who is None:
        who, minutes = DEFAULT_BREAK_GLASS
    return f"{', '.join(who)} for up to {length_text(minutes)}"


def _glass_policy_pre(w: Working, o: Operation) -> str | None:
    if o.target != PRACTICE:
        return f"set_break_glass_policy targets {PRACTICE!r}, not {o.target!r}"
    had = w.break_glass_policy
    previous = (tuple(o.get("previous_who")), o.get("previous_max_minutes")) \
        if o.get("previous_who") is not None else None
    if had != previous:
        return "the practice's break-glass policy is no longer " \
               f"{policy_text(o.get('previous_who'), o.get('previous_max_minutes'))}"
    return None


def _set_glass_policy(w: Working, o: Operation) -> None:
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




def sees_record(m: MemberState, client: ClientState) -> bool:
    """Does `m` already see the client's record (assigned, granted, full clinical access)?"""
    return (client.practitioner == m.email or m.email in client.access
            or (m.has("practitioner") and m.full_clinical_access))


def _break_glass_pre(w: Working, o: Operation) -> str | None:
    if (problem := no_client(w, o)) is not None:
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
    lambda w, o: set_access(w, o, True, break_glass=True),
    describe=lambda o: ("+", f"break-glass: emergency access for {o.get('member')}"
                             f"{until_text(o)}"),
    step=lambda o: (f"Clients > {o.target} > Manage Access: tick {o.get('member')} (emergency "
                    f"access). Save. Untick them at {o.get('until')}."),
    widens=lambda o: True, grantees=lambda o: (o.get("member"),)))
