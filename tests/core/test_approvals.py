"""The two-person rule, as pure functions: what a plan needs, what counts, who may approve."""

from __future__ import annotations

from dataclasses import replace

from shsync.core.approvals import StoredPlan, counted, is_plan_id, missing, needed, plan_id, refusal
from shsync.core.authorize import Actor
from shsync.core.operations import op
from shsync.core.plan import from_file
from shsync.core.state import PracticeState, fingerprint, state_from_dict, state_to_dict
from shsync.core.verify import verify
from tests.core.builders import ADMIN, NOW, D, actions, c, live, m, make, want

BEN = m("ben", "biller", admin=True)
CAT = m("cat", "scheduler", admin=True)
SAM = m("sam", "practitioner")
RULE = (("removes_members", 1), ("widens_access", 2))
GRANT = op("grant_access", "C1", member="ben" + D)
REMOVE = op("remove_member", "sam" + D, cancel_appointments=0)
REVOKE = op("revoke_access", "C1", member="ben" + D)


def practice(policy=RULE, *members):
    return replace(live(ADMIN, BEN, CAT, SAM, *members, clients=[c("C1", "sam")]),
                   approval_policy=policy)


def test_without_a_rule_nothing_needs_approval():
    assert needed([GRANT, REMOVE], ()).count == 0


def test_a_step_that_widens_access_needs_the_widens_access_count():
    need = needed([GRANT], RULE)
    assert need.count == 2
    assert need.reasons == (f"it widens access (grant_access C1): approvals.widens_access is 2",)


def test_a_removal_needs_the_removes_members_count_and_the_highest_count_wins():
    assert needed([REMOVE], RULE).count == 1
    assert needed([REMOVE, GRANT], RULE).count == 2


def test_steps_that_only_take_access_away_need_nothing():
    assert needed([REVOKE], RULE).count == 0


def test_emergency_access_and_acceptances_do_not_count():
    glass = op("break_glass", "C1", member="ben" + D, until="2026-11-26T14:00:00Z",
               reason="crisis")
    assert needed([glass, op("accept_invitation", "ben" + D)], RULE).count == 0


def test_changing_the_rule_itself_needs_the_current_rules_highest_count():
    lowering = op("set_policy", "practice", approvals=(), previous=RULE)
    need = needed([lowering], RULE)
    assert need.count == 2 and "changes the approvals policy itself" in need.text()
    assert needed([lowering], ()).count == 0  # bringing a rule in where there was none


def test_only_active_administrators_other_than_the_author_count_once_each():
    state = practice(RULE, m("ivy", "biller", admin=True, status="invited"))
    given = [("ben" + D, NOW), ("ben" + D, NOW), ("sam" + D, NOW), ("ivy" + D, NOW),
             ("admin" + D, NOW), ("gone" + D, NOW), ("cat" + D, NOW)]
    assert counted(given, state, author="admin" + D) == ("ben" + D, "cat" + D)


def test_missing_says_how_many_more_and_which_steps():
    state = practice()
    assert missing([GRANT], state, "admin" + D, [("ben" + D, NOW)]) == (
        "this plan needs 2 approval(s) from administrators other than its author and has 1, so "
        "1 more: it widens access (grant_access C1): approvals.widens_access is 2")
    assert missing([GRANT], state, "admin" + D, [("ben" + D, NOW), ("cat" + D, NOW)]) is None


def test_verify_checks_approvals_only_when_given_them():
    state = practice()
    planned = verify([GRANT], state, Actor.member("admin" + D), NOW)
    assert planned.need.count == 2 and planned.unapproved is None
    applied = verify([GRANT], state, Actor.member("admin" + D), NOW, approvals=[])
    assert applied.unapproved and "2 more" in applied.unapproved


def test_the_planner_plans_the_rule_and_warns_what_a_plan_needs():
    state = practice(())
    desired = replace(want(ADMIN, BEN, CAT, SAM, clients=[c("C1", "sam")]),
                      approval_policy=RULE)
    plan = make(desired, state)
    assert actions(plan) == [("set_policy", "practice")] and plan.errors == ()
    under_rule = make(want(ADMIN, BEN, CAT, SAM, clients=[c("C1", "sam", "ben")]), practice())
    assert [w.code for w in under_rule.warnings] == ["approvals-required"]


def test_a_file_that_does_not_mention_the_rule_leaves_it_be():
    assert make(want(ADMIN, BEN, CAT, SAM, clients=[c("C1", "sam")]), practice()).operations == ()


def test_set_policy_round_trips_through_a_plan_file():
    state = practice(())
    desired = replace(want(ADMIN, BEN, CAT, SAM, clients=[c("C1", "sam")]), approval_policy=RULE)
    plan = make(desired, state)
    assert plan.to_dict()["changes"][0] == {"action": "set_policy", "target": "practice",
                                            "approvals": {"removes_members": 1,
                                                          "widens_access": 2},
                                            "previous": {}}
    assert from_file(plan.to_file()) == plan


def test_the_rule_is_part_of_the_fingerprint_and_the_seed_record_but_absent_changes_nothing():
    without = live(ADMIN)
    assert fingerprint(replace(without, approval_policy=RULE)) != fingerprint(without)
    assert "approval_policy" not in state_to_dict(without)
    ruled = replace(without, approval_policy=RULE)
    assert state_from_dict(state_to_dict(ruled)) == ruled


def test_plan_ids_are_short_hashes():
    plan = make(want(ADMIN, BEN), live(ADMIN))
    assert is_plan_id(plan_id(plan)) and plan_id(plan) == "p-" + plan.digest()[7:19]
    assert not is_plan_id("p-../../etc") and not is_plan_id("plan.json")


def _stored(plan, **fields):
    return StoredPlan(plan_id(plan), plan, "admin" + D, NOW, **fields)


def refused_code(stored: StoredPlan, live: PracticeState, approver: Actor) -> str:
    """The code of the refusal the test expects (it fails if `approver` may approve)."""
    refused = refusal(stored, live, approver)
    assert refused is not None, f"{approver.name} may approve {stored.id}"
    return refused[0]


def test_who_may_approve():
    state = practice()
    plan = make(want(ADMIN, BEN, CAT, SAM, clients=[c("C1", "sam", "ben")]), state,)
    plan = replace(plan, actor="admin" + D)
    stored = _stored(plan, required=2)
    assert refusal(stored, state, Actor.member("ben" + D)) is None
    assert refused_code(stored, state, Actor.member("admin" + D)) == "self-approval"
    assert refused_code(stored, state, Actor.member("sam" + D)) == "forbidden"
    assert refused_code(stored, state, Actor.operator("operator:root")) == "forbidden"
    approved = replace(stored, approvals=(("ben" + D, NOW),))
    assert refused_code(approved, state, Actor.member("ben" + D)) == "already-approved"
    assert refused_code(replace(stored, applied_entry=3), state,
                        Actor.member("ben" + D)) == "already-applied"
    changed = replace(state, name="Elsewhere")
    assert refused_code(stored, changed, Actor.member("ben" + D)) == "stale-plan"


def test_changing_the_break_glass_policy_needs_what_widening_access_needs():
    """Who may break glass, and for how long, is access: a change of it, wider or narrower,
    is held to the two-person rule like any step that widens access."""
    for who, minutes in ((("practitioner", "biller"), 10080), (("admin",), 60)):
        change = op("set_break_glass_policy", "practice", who=who, max_minutes=minutes,
                    previous_who=None, previous_max_minutes=None)
        need = needed([change], RULE)
        assert need.count == dict(RULE)["widens_access"], need
        assert "it widens access (" in need.text()
