"""Practices in a few lines, for planner tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shsync.core import planner
from shsync.core.plan import Plan
from shsync.core.state import (
    Appointment,
    ClientState,
    Desired,
    Handoff,
    MemberState,
    Note,
    PracticeState,
)  # fmt: skip
from tests.conftest import NOW

D = "@p.example"


def m(name: str, *roles: str, **fields: Any) -> MemberState:
    if "supervisor" in fields and fields["supervisor"]:
        fields["supervisor"] += D
    fields.setdefault("first_name", name.title())
    return MemberState(email=name + D, last_name="X", roles=tuple(sorted(roles)), **fields)


def c(cid: str, practitioner: str, *access: str, supervisor: str | None = None) -> ClientState:
    return ClientState(cid, practitioner + D, tuple(sorted(a + D for a in access)),
                       supervisor + D if supervisor else None)


def live(*members: MemberState, clients=(), appointments=(), notes=()) -> PracticeState:
    return PracticeState({x.email: x for x in members}, {x.id: x for x in clients},
                         tuple(appointments), tuple(notes))


def want(*members: MemberState, clients=(), handoffs=None, prune=True) -> Desired:
    return Desired({x.email: replace(x, status="active", invited_at=None) for x in members},
                   {x.id: x for x in clients},
                   {k + D: Handoff(*(v + D if v else None for v in t))
                    for k, t in (handoffs or {}).items()},
                   prune, any(x.owner for x in members))


def appt(i: int, who: str, client: str, at: str) -> Appointment:
    return Appointment(i, who + D, client, at)


def note(i: int, who: str, client: str, status: str, supervisor: str | None = None) -> Note:
    return Note(i, who + D, client, status, "2026-11-01T00:00:00Z" if status == "signed" else None,
                supervisor + D if supervisor else None)


def make(desired: Desired, state: PracticeState, **options: Any) -> Plan:
    return planner.plan(desired, state, practice="test", now=NOW,
                        options=planner.Options(**options))


def codes(plan: Plan) -> list[str]:
    return [e.code for e in plan.errors]


def warning_codes(plan: Plan) -> list[str]:
    return [w.code for w in plan.warnings]


def actions(plan: Plan) -> list[tuple[str, str]]:
    return [(o.action, o.target) for o in plan.operations]


ADMIN = m("admin", "practitioner", "supervisor", admin=True, owner=True)
