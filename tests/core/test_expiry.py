"""Access that ends by itself, in the planner: a fixed clock, to the second."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shsync.core import planner
from shsync.core.actions import widens
from shsync.core.authorize import Actor
from shsync.core.operations import from_dict, op, to_dict
from shsync.core.plan import from_file
from shsync.core.simulate import simulate
from shsync.core.state import End
from shsync.core.verify import verify
from shsync.core.break_glass import expired_operations
from shsync.render import plan as render
from tests.core.builders import ADMIN, D, c, live, m, want

END = "2026-11-30T00:00:00Z"
BEFORE, AT, AFTER = "2026-11-29T23:59:59Z", END, "2026-11-30T00:00:01Z"
SAM = m("sam", "practitioner")
KIM = m("kim", "practitioner")
OPERATOR = Actor.operator("tester")


def ending(client, who, until=END, reason="leave cover", break_glass=False):
    return replace(client, ends=(End(who + D, until, reason, break_glass),))


def plan_at(desired, state, now):
    return planner.plan(desired, state, practice="p", now=now)


def timed_grant():
    """The file grants kim access to C1 until END; the live practice has the same."""
    client = ending(c("C1", "sam", "kim"), "kim")
    return want(ADMIN, SAM, KIM, clients=[client]), live(ADMIN, SAM, KIM, clients=[client])


def test_a_new_grant_with_an_end_carries_it():
    desired, _ = timed_grant()
    plan = plan_at(desired, live(ADMIN, SAM, KIM, clients=[c("C1", "sam")]), BEFORE)
    assert plan.operations == (op("grant_access", "C1", member="kim" + D, until=END,
                                  reason="leave cover"),)
    assert render.describe(plan.operations[0]) == (
        "+", f"grant access to kim{D} until {END} (reason: leave cover)")
    final = simulate(live(ADMIN, SAM, KIM, clients=[c("C1", "sam")]), plan.operations, BEFORE)
    assert final.clients["C1"].end_of("kim" + D) == End("kim" + D, END, "leave cover")


@pytest.mark.parametrize("now, revoked", [(BEFORE, False), (AT, True), (AFTER, True)])
def test_a_grant_is_revoked_at_its_end_to_the_second(now, revoked):
    desired, state = timed_grant()
    plan = plan_at(desired, state, now)
    expected = (op("revoke_access", "C1", member="kim" + D, expired=END),) if revoked else ()
    assert plan.operations == expected
    assert plan.drift is revoked
    assert not plan.errors


def test_an_expired_step_is_marked_in_every_format():
    desired, state = timed_grant()
    plan = plan_at(desired, state, AFTER)
    step = f"revoke access of kim{D} [expired {END}]"
    assert plan.to_dict()["changes"] == [
        {"action": "revoke_access", "target": "C1", "member": "kim" + D, "expired": END}]
    assert f"  - client C1: {step}\n" in render.text(plan)
    # Markdown escapes the brackets it did not write (they render as written)
    escaped = step.replace("[", "\\[").replace("]", "\\]")
    assert f"| `-` | client C1 | {escaped} |" in render.markdown(plan)
    assert (f"1. Clients > C1 > Manage Access: untick kim{D}. Save. Do it now: this access ended "
            f"at {END}.") in render.runbook(plan)
    assert from_file(plan.to_file()) == plan  # a saved plan reads back, marker and all


def test_applying_the_expiry_converges():
    desired, state = timed_grant()
    plan = plan_at(desired, state, AFTER)
    after = simulate(state, plan.operations, AFTER)
    assert after.clients["C1"].access == () and after.clients["C1"].ends == ()
    assert plan_at(desired, after, AFTER).operations == ()


def test_an_expired_mark_is_refused_before_its_time():
    """A forged (or previewed, `plan --at`) expiry cannot be applied before the end."""
    _, state = timed_grant()
    forged = (op("revoke_access", "C1", member="kim" + D, expired=END),)
    verdict = verify(forged, state, OPERATOR, BEFORE)
    assert verdict.problems == (f"revoke_access C1: C1: marked expired at {END}, which has not "
                                f"passed (now {BEFORE})",)
    assert verify(forged, state, OPERATOR, AT).ok


def test_changing_the_end_in_the_file_changes_it_live():
    desired, state = timed_grant()
    later = "2026-12-31T00:00:00Z"
    longer = replace(desired, clients={"C1": ending(c("C1", "sam", "kim"), "kim", later)})
    plan = plan_at(longer, state, BEFORE)
    assert plan.operations == (op("set_access_end", "C1", member="kim" + D, until=later,
                                  reason="leave cover", previous=END),)
    assert widens(plan.operations[0])  # a longer end widens access
    assert plan_at(longer, simulate(state, plan.operations, BEFORE), BEFORE).operations == ()
    # The file drops the end: the grant stays, for good.
    plain = replace(desired, clients={"C1": c("C1", "sam", "kim")})
    assert plan_at(plain, state, BEFORE).operations == (
        op("set_access_end", "C1", member="kim" + D, until=None, reason=None, previous=END),)


def test_an_end_that_has_passed_in_the_file_revokes_a_live_grant_without_one():
    desired, _ = timed_grant()
    state = live(ADMIN, SAM, KIM, clients=[c("C1", "sam", "kim")])
    assert plan_at(desired, state, AFTER).operations == (
        op("revoke_access", "C1", member="kim" + D, expired=END),)


def test_a_new_client_with_a_grant_that_has_ended_gets_no_grant():
    desired, _ = timed_grant()
    plan = plan_at(desired, live(ADMIN, SAM, KIM), AFTER)
    assert [o.action for o in plan.operations] == ["create_client"]
    assert plan.operations[0].get("access") == ()


def test_grants_on_clients_the_file_does_not_list_expire_too():
    _, state = timed_grant()
    desired = want(ADMIN, SAM, KIM)
    assert plan_at(desired, state, BEFORE).operations == ()
    assert plan_at(desired, state, AFTER).operations == (
        op("revoke_access", "C1", member="kim" + D, expired=END),)


@pytest.mark.parametrize("now, revoked", [(BEFORE, False), (AT, True), (AFTER, True)])
def test_full_clinical_access_ends_to_the_second(now, revoked):
    kim = replace(KIM, full_clinical_access=True, clinical_until=END, clinical_reason="audit")
    plan = plan_at(want(ADMIN, SAM, kim), live(ADMIN, SAM, kim), now)
    expected = (op("set_full_clinical_access", "kim" + D, full_clinical_access=False,
                   expired=END),) if revoked else ()
    assert plan.operations == expected
    if revoked:
        assert render.describe(plan.operations[0]) == (
            "~", f"remove full clinical access [expired {END}]")
        assert plan_at(want(ADMIN, SAM, kim), simulate(live(ADMIN, SAM, kim), plan.operations,
                                                       now), now).operations == ()


def test_full_clinical_access_with_an_end_is_granted_with_it():
    kim = replace(KIM, full_clinical_access=True, clinical_until=END, clinical_reason="audit")
    plan = plan_at(want(ADMIN, SAM, kim), live(ADMIN, SAM, KIM), BEFORE)
    assert plan.operations == (op("set_full_clinical_access", "kim" + D,
                                  full_clinical_access=True, until=END, reason="audit"),)


# --- break-glass ---------------------------------------------------------------------------------

def emergency_state(until=END):
    return live(ADMIN, SAM, KIM, clients=[ending(c("C1", "sam", "kim"), "kim", until,
                                                 "crisis", break_glass=True)])


@pytest.mark.parametrize("listed", [True, False])
def test_break_glass_stays_until_its_end_and_every_plan_shows_it(listed):
    desired = want(ADMIN, SAM, KIM, clients=[c("C1", "sam")] if listed else [])
    plan = plan_at(desired, emergency_state(), BEFORE)
    assert plan.operations == ()
    assert [(w.code, w.message) for w in plan.warnings] == [
        ("break-glass", f"break-glass: kim{D} on C1 until {END}, reason: crisis")]
    assert plan.drift  # --detailed-exitcode: the practice does not match the file meanwhile
    after = plan_at(desired, emergency_state(), AT)
    assert after.operations == (op("revoke_access", "C1", member="kim" + D, expired=END),)
    assert after.warnings == ()


def test_break_glass_reads_as_emergency_access():
    step = op("break_glass", "C1", member="kim" + D, until=END, reason="crisis")
    assert render.describe(step) == (
        "+", f"break-glass: emergency access for kim{D} until {END} (reason: crisis)")
    assert widens(step)
    final = simulate(live(ADMIN, SAM, KIM, clients=[c("C1", "sam")]), [step], BEFORE)
    assert final.clients["C1"].ends == (End("kim" + D, END, "crisis", True),)


@pytest.mark.parametrize("who, state, problem", [
    ("kim", live(ADMIN, SAM, replace(KIM, status="invited"), clients=[c("C1", "sam")]),
     f"kim{D} is not an active member of this practice, so cannot break glass"),
    ("kim", live(ADMIN, SAM, KIM, clients=[c("C1", "sam", "kim")]),
     f"kim{D} already sees client C1; break-glass is for a client they do not"),
    ("sam", live(ADMIN, SAM, KIM, clients=[c("C1", "sam")]),
     f"sam{D} already sees client C1; break-glass is for a client they do not"),
    ("kim", live(ADMIN, SAM, replace(KIM, full_clinical_access=True), clients=[c("C1", "sam")]),
     f"kim{D} already sees client C1; break-glass is for a client they do not"),
])
def test_the_store_refuses_break_glass_that_does_not_fit(who, state, problem):
    step = op("break_glass", "C1", member=who + D, until=END, reason="crisis")
    assert verify([step], state, OPERATOR, BEFORE, kind="break_glass").problems == (
        f"break_glass C1: {problem}",)


ROSA = m("rosa", "scheduler", "biller")


@pytest.mark.parametrize("who, policy, until, problem", [
    ("rosa", None, END, f"rosa{D} may not break glass: the practice's policy allows "
                        "practitioner for up to 8h"),
    ("kim", None, "2026-11-30T08:00:00Z",
     "emergency access of kim@p.example to client C1 until 2026-11-30T08:00:00Z is longer than "
     "the practice's policy allows (practitioner for up to 8h)"),
    ("kim", (("practitioner",), 30), "2026-11-30T00:30:00Z",
     "emergency access of kim@p.example to client C1 until 2026-11-30T00:30:00Z is longer than "
     "the practice's policy allows (practitioner for up to 30m)"),
    ("kim", (("admin",), 480), END, f"kim{D} may not break glass: the practice's policy allows "
                                    "admin for up to 8h"),
])
def test_the_store_holds_break_glass_to_the_policy_the_live_practice_keeps(who, policy, until,
                                                                          problem):
    """Never a policy a file or a plan brings along: a biller forging a year of emergency
    access for themselves meets the live practice's own rule, inside the store."""
    state = replace(live(ADMIN, SAM, KIM, ROSA, clients=[c("C1", "sam")]),
                    break_glass_policy=policy)
    step = op("break_glass", "C1", member=who + D, until=until, reason="crisis")
    verdict = verify([step], state, Actor.member(who + D), BEFORE, kind="break_glass")
    assert verdict.problems == (f"break_glass C1: {problem}",)


def test_a_wider_break_glass_policy_is_a_plan_step_that_widens_access():
    state = live(ADMIN, SAM, KIM, ROSA, clients=[c("C1", "sam")])
    wider = replace(want(*state.members.values(), clients=[c("C1", "sam")]),
                    break_glass_policy=(("biller",), 60))
    plan = plan_at(wider, state, BEFORE)
    step = op("set_break_glass_policy", "practice", who=("biller",), max_minutes=60,
              previous_who=None, previous_max_minutes=None)
    assert plan.operations == (step,) and widens(step)
    after = simulate(state, [step], BEFORE)
    assert after.break_glass_policy == (("biller",), 60)
    grant = op("break_glass", "C1", member="rosa" + D, until="2026-11-30T00:59:59Z",
               reason="crisis")
    assert verify([grant], after, Actor.member("rosa" + D), BEFORE, kind="break_glass").ok


def test_break_glass_is_only_for_oneself():
    state = live(ADMIN, SAM, KIM, clients=[c("C1", "sam")])
    step = op("break_glass", "C1", member="kim" + D, until=END, reason="crisis")
    assert verify([step], state, Actor.member("kim" + D), BEFORE, kind="break_glass").ok
    assert verify([step], state, Actor.member("sam" + D), BEFORE, kind="break_glass").forbidden
    assert verify([step], state, Actor.member("admin" + D), BEFORE,
                  kind="break_glass").forbidden


def test_break_glass_in_a_plan_file_keeps_its_fields():
    step = op("break_glass", "C1", member="kim" + D, until=END, reason="crisis")
    assert from_dict(to_dict(step)) == step


# --- shsync expire -------------------------------------------------------------------------------

def test_expire_needs_no_file_and_takes_back_everything_that_ended():
    kim = replace(KIM, full_clinical_access=True, clinical_until=AFTER)
    state = live(ADMIN, SAM, kim, clients=[
        ending(c("C1", "sam", "kim"), "kim", END, "crisis", break_glass=True),
        ending(c("C2", "sam", "admin"), "admin", "2027-01-01T00:00:00Z")])
    assert expired_operations(state, BEFORE) == []
    assert expired_operations(state, AT) == [
        op("revoke_access", "C1", member="kim" + D, expired=END)]
    assert expired_operations(state, AFTER) == [
        op("set_full_clinical_access", "kim" + D, full_clinical_access=False, expired=AFTER),
        op("revoke_access", "C1", member="kim" + D, expired=END)]  # in the plan's order
    assert verify(expired_operations(state, AFTER), state, OPERATOR, AFTER).ok


def test_an_expire_plan_holds_only_the_expiries_the_live_practice_has():
    """The audit entry's kind comes from the plan: an `expire` entry must be an expiry, so a
    forged plan cannot record a grant, or the removal of access that had no end (or another
    end), as one."""
    _, state = timed_grant()
    genuine = (op("revoke_access", "C1", member="kim" + D, expired=END),)
    assert verify(genuine, state, OPERATOR, AFTER, kind="expire").ok
    kim = replace(KIM, full_clinical_access=True, clinical_until=END, clinical_reason="audit")
    clinical = live(ADMIN, SAM, kim, clients=[c("C1", "sam")])
    ended = (op("set_full_clinical_access", "kim" + D, full_clinical_access=False, expired=END),)
    assert verify(ended, clinical, OPERATOR, AFTER, kind="expire").ok
    plain = live(ADMIN, SAM, KIM, clients=[c("C1", "sam", "kim")])  # a grant with no end
    forged = [
        (genuine, plain),  # access that never ended, taken back in the expiry's name
        ((op("revoke_access", "C1", member="kim" + D, expired=AT.replace("30", "29")),), state),
        ((op("set_full_clinical_access", "kim" + D, full_clinical_access=True, expired=END),),
         live(ADMIN, SAM, KIM)),  # a grant dressed up as an expiry
        ((op("set_admin", "sam" + D, admin=True),), state),
    ]
    for operations, practice in forged:
        verdict = verify(operations, practice, OPERATOR, AFTER, kind="expire")
        assert any("an expire plan holds only" in p for p in verdict.problems), operations
    # The planner's own apply plans may still revoke a plain grant the file ended.
    assert verify(genuine, plain, OPERATOR, AFTER, kind="apply").ok


def test_a_refresh_plan_never_carries_shsyncs_own_policies():
    _, state = timed_grant()
    policy = op("set_policy", "practice", approvals=(("widens_access", 1),), previous=())
    verdict = verify((policy,), state, OPERATOR, AFTER, kind="refresh")
    assert any("a refresh plan records what Sessions Health shows" in p
               for p in verdict.problems)
    assert verify((policy,), state, OPERATOR, AFTER, kind="apply").ok
