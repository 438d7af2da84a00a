"""A non-admin actor cannot escalate through any path; admins and the operator can act."""

from dataclasses import replace

from shsync.core import planner
from shsync.core.actions import widens
from shsync.core.authorize import Actor, forbidden
from shsync.core.operations import op
from tests.core.builders import ADMIN, NOW, D, c, live, m, want

SAM = m("sam", "practitioner", supervisor="admin")
ANN = m("ann", "practitioner", "supervisor")
STATE = live(ADMIN, SAM, ANN, clients=[c("C1", "sam"), c("C2", "ann")])
SAM_ACTS = Actor.member("sam" + D)


def plan_as(actor, desired):
    return planner.plan(desired, STATE, practice="p", now=NOW, actor=actor)


def test_a_practitioner_may_change_access_on_their_own_clients():
    p = plan_as(SAM_ACTS, want(ADMIN, SAM, ANN, clients=[c("C1", "sam", "ann"), c("C2", "ann")]))
    assert p.errors == ()


def test_a_practitioner_may_not_grant_access_to_someone_elses_client():
    p = plan_as(SAM_ACTS, want(ADMIN, SAM, ANN, clients=[c("C1", "sam"), c("C2", "ann", "sam")]))
    assert [e.code for e in p.errors] == ["forbidden"]
    assert "only on clients assigned to them" in p.errors[0].message


def test_a_practitioner_may_not_make_themselves_admin():
    p = plan_as(SAM_ACTS, want(ADMIN, replace(SAM, admin=True), ANN))
    assert [e.code for e in p.errors] == ["forbidden"]
    assert "set_admin sam@p.example: needs an administrator" in p.errors[0].message


def test_a_practitioner_may_not_change_a_supervisor():
    p = plan_as(SAM_ACTS, want(ADMIN, replace(SAM, supervisor="ann" + D), ANN))
    assert "forbidden" in [e.code for e in p.errors]


def test_every_forbidden_change_is_listed():
    p = plan_as(SAM_ACTS, want(ADMIN, replace(SAM, admin=True, billing_access=False), ANN,
                               m("new", "biller")))
    assert len([e for e in p.errors if e.code == "forbidden"]) == 3


def test_an_admin_actor_may_do_anything():
    p = plan_as(Actor.member("admin" + D), want(ADMIN, replace(SAM, admin=True), ANN))
    assert p.errors == ()


def test_a_non_member_actor_may_do_nothing():
    assert forbidden([op("grant_access", "C1", member=ANN.email)], STATE,
                     Actor.member("stranger@x.example"))


def test_an_invited_member_may_do_nothing():
    state = replace(STATE, members={**STATE.members, "sam" + D: replace(SAM, status="invited")})
    assert forbidden([op("grant_access", "C1", member=ANN.email)], state, SAM_ACTS)


def test_the_operator_may_do_anything():
    assert forbidden([op("set_admin", "sam" + D, admin=True)], STATE,
                     Actor.operator("operator:ci")) == []


def test_escalations_are_flagged():
    widening = [op("grant_access", "C1", member="x"), op("set_admin", "x", admin=True),
                op("set_full_clinical_access", "x", full_clinical_access=True),
                op("set_billing_access", "x", billing_access=True),
                op("reassign_client", "C1", practitioner="x", previous="y")]
    narrowing = [op("revoke_access", "C1", member="x"), op("set_admin", "x", admin=False),
                 op("set_billing_access", "x", billing_access=False)]
    assert all(widens(o) for o in widening)
    assert not any(widens(o) for o in narrowing)
