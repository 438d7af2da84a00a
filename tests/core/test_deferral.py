"""One rule for every step that gives a member access: it waits until they accept.

Each row is one path by which a plan could give a pending member (invited before, or by the
same plan) access to client records. For every path the plan must apply everything else, list
the step as deferred with who it waits for, and plan it once the member has accepted; and a
plan file that slips the step back into its operations is refused by the one check.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from shsync.core import planner
from shsync.core.actions import grantees
from shsync.core.authorize import Actor
from shsync.core.operations import sort_key
from shsync.core.verify import verify
from tests.core.builders import ADMIN, NOW, D, c, live, m, note, want

SAM = m("sam", "practitioner", supervisor="admin")
LEO = m("leo", "practitioner", "supervisor")
NEW = m("new", "practitioner", "supervisor", status="invited")  # invited earlier, not accepted
LEAVER = m("leaver", "practitioner", "supervisor")
OPERATOR = Actor.operator("t")


def base(*extra):
    return live(ADMIN, SAM, LEO, NEW, LEAVER, *extra,
                clients=[c("C1", "sam"), c("C2", "leaver")],
                notes=[note(1, "leaver", "C2", "incomplete")])


def keep(*members, **kw):
    """The practice as it is, plus the changes given (later members replace earlier ones)."""
    return want(ADMIN, SAM, LEO, NEW, LEAVER, *members, **kw)


def active(member):
    return replace(member, status="active")


# (path, desired file, the deferred action)
PATHS = [
    ("a Manage Access grant",
     keep(clients=[c("C1", "sam", "new")]), "grant_access"),
    ("a new client assigned to them",
     keep(clients=[c("C9", "new")]), "create_client"),
    ("a new client granted to them",
     keep(clients=[c("C9", "sam", "new")]), "create_client"),
    ("a client reassigned to them",
     keep(clients=[c("C1", "new")]), "reassign_client"),
    ("full clinical access",
     keep(replace(NEW, full_clinical_access=True)), "set_full_clinical_access"),
    ("supervision by them",
     keep(replace(SAM, supervisor="new" + D)), "set_supervisor"),
    ("a client's own supervisor",
     keep(clients=[c("C1", "sam", supervisor="new")]),
     "set_client_supervisor"),
    ("a leaver's clients handed to them",
     want(ADMIN, SAM, LEO, NEW, handoffs={"leaver": ("new", "leo")}), "reassign_client"),
    ("a leaver's notes handed to them",
     want(ADMIN, SAM, LEO, NEW, clients=[c("C2", "leo")], handoffs={"leaver": (None, "new")}),
     "handoff_notes"),
]


@pytest.mark.parametrize("path,desired,action", PATHS, ids=[p[0] for p in PATHS])
def test_a_step_giving_a_pending_member_access_waits_for_their_acceptance(path, desired, action):
    plan = planner.plan(desired, base(), practice="p", now=NOW)
    assert plan.errors == ()
    deferred = [(d.operation.action, d.waits_for) for d in plan.deferred]
    assert (action, "new" + D) in deferred
    assert all("new" + D not in grantees(o) for o in plan.operations)
    # Slipping the step back into a plan file is refused by the one check.
    forged = tuple(sorted((*plan.operations, *(d.operation for d in plan.deferred)),
                          key=sort_key))
    assert any("has not accepted" in p for p in verify(forged, base(), OPERATOR, NOW).problems)
    # Once they accept, the next plan contains the step and nothing waits.
    accepted = base()
    accepted = replace(accepted, members={**accepted.members, "new" + D: active(NEW)})
    after = planner.plan(desired, accepted, practice="p", now=NOW)
    assert after.errors == () and after.deferred == ()
    assert action in [o.action for o in after.operations]


def test_a_member_invited_by_the_same_plan_is_pending_too():
    plan = planner.plan(keep(m("hire", "practitioner"), clients=[c("C1", "sam", "hire")]),
                        base(), practice="p", now=NOW)
    assert [o.action for o in plan.operations if o.target == "hire" + D] == ["invite_member"]
    assert [(d.operation.action, d.waits_for) for d in plan.deferred] == [
        ("grant_access", "hire" + D)]


def test_an_invitation_with_full_clinical_access_invites_now_and_grants_it_later():
    plan = planner.plan(keep(m("hire", "practitioner", full_clinical_access=True)),
                        base(), practice="p", now=NOW)
    (invite,) = [o for o in plan.operations if o.action == "invite_member"]
    assert invite.get("full_clinical_access") is False
    assert [d.operation.action for d in plan.deferred] == ["set_full_clinical_access"]


def test_a_leaver_whose_handoff_waits_stays_until_it_can_happen():
    plan = planner.plan(want(ADMIN, SAM, LEO, NEW, handoffs={"leaver": ("new", "leo")}),
                        base(), practice="p", now=NOW)
    waiting = {d.operation.action for d in plan.deferred}
    assert {"reassign_client", "remove_member"} <= waiting
    assert "remove_member" not in [o.action for o in plan.operations]


def test_the_migration_switch_records_everyone_as_accepted_and_defers_nothing():
    plan = planner.plan(keep(clients=[c("C1", "sam", "new")]), base(),
                        practice="p", now=NOW, options=planner.Options(assume_accepted=True))
    assert plan.errors == () and plan.deferred == ()
    assert ("accept_invitation", "new" + D) in [(o.action, o.target) for o in plan.operations]


def test_granting_access_to_a_non_practitioner_is_an_error_that_says_so():
    sched = m("sched", "scheduler")
    plan = planner.plan(want(ADMIN, SAM, LEO, NEW, LEAVER, sched,
                             clients=[c("C1", "sam", "sched")]),
                        base(sched), practice="p", now=NOW)
    assert any("neither a practitioner nor an administrator" in e.message for e in plan.errors)


def test_an_administrator_may_grant_themselves_access():
    plan = planner.plan(want(ADMIN, SAM, LEO, NEW, LEAVER, clients=[c("C1", "sam", "admin")]),
                        base(), practice="p", now=NOW)
    assert plan.errors == () and [o.action for o in plan.operations] == ["grant_access"]
