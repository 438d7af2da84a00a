"""The planner: one behaviour per test."""

from dataclasses import replace

from shsync.core.simulate import simulate, violations
from tests.core.builders import (
    ADMIN,
    NOW,
    D,
    actions,
    appt,
    c,
    codes,
    live,
    m,
    make,
    note,
    want,
    warning_codes,
)  # fmt: skip


def test_no_changes_when_the_file_matches():
    sam = m("sam", "practitioner", supervisor="admin")
    plan = make(want(ADMIN, sam, clients=[c("C1", "sam")]),
                live(ADMIN, sam, clients=[c("C1", "sam")]))
    assert plan.operations == () and plan.errors == () and plan.warnings == ()


def test_a_new_member_is_invited_then_given_a_supervisor():
    sam = m("sam", "practitioner", supervisor="admin")
    plan = make(want(ADMIN, sam), live(ADMIN))
    assert actions(plan) == [("invite_member", "sam" + D), ("set_supervisor", "sam" + D)]
    assert plan.summary.invite == 1 and plan.status_of("sam" + D) == "new"


def test_changed_fields_become_one_update():
    plan = make(want(ADMIN, m("sam", "practitioner", first_name="Samuel", npi="1234567893")),
                live(ADMIN, m("sam", "practitioner")))
    (update,) = plan.operations
    assert update.action == "update_member"
    assert dict(update.get("changes")) == {"first_name": ("Sam", "Samuel"),
                                           "npi": (None, "1234567893")}


def test_roles_admin_and_billing_changes():
    plan = make(want(ADMIN, m("sam", "practitioner", "supervisor", admin=True,
                               billing_access=False)),
                live(ADMIN, m("sam", "practitioner", "scheduler")))
    assert sorted(actions(plan)) == sorted([
        ("grant_role", "sam" + D), ("revoke_role", "sam" + D), ("set_admin", "sam" + D),
        ("set_billing_access", "sam" + D)])


def test_client_changes():
    sam, ann = m("sam", "practitioner"), m("ann", "practitioner", "supervisor")
    plan = make(want(ADMIN, sam, ann, clients=[c("C1", "ann", "sam", supervisor="admin"),
                                                c("C2", "sam")]),
                live(ADMIN, sam, ann, clients=[c("C1", "sam", "admin")]))
    assert actions(plan) == [
        ("create_client", "C2"), ("reassign_client", "C1"), ("set_client_supervisor", "C1"),
        ("grant_access", "C1"), ("revoke_access", "C1")]


def test_unlisted_clients_are_left_alone():
    sam = m("sam", "practitioner")
    plan = make(want(ADMIN, sam), live(ADMIN, sam, clients=[c("C1", "sam", "admin")]))
    assert plan.operations == ()


def test_removing_a_member_with_clients_needs_a_new_practitioner():
    jo = m("jo", "practitioner")
    plan = make(want(ADMIN), live(ADMIN, jo, clients=[c("C1", "jo"), c("C2", "jo")]))
    assert codes(plan) == ["clients-need-handoff"]
    assert "jo@p.example is removed but still has 2 client(s) (C1, C2)" in plan.errors[0].message


def test_a_clients_handoff_reassigns_the_unlisted_clients():
    jo, sam = m("jo", "practitioner"), m("sam", "practitioner")
    plan = make(want(ADMIN, sam, clients=[c("C1", "admin")], handoffs={"jo": ("sam", None)}),
                live(ADMIN, jo, sam, clients=[c("C1", "jo"), c("C2", "jo")]))
    assert plan.errors == ()
    assert {(o.target, o.get("practitioner")) for o in plan.operations
            if o.action == "reassign_client"} == {("C1", "admin" + D), ("C2", "sam" + D)}


def test_removing_a_member_with_incomplete_notes_needs_a_notes_handoff():
    jo = m("jo", "practitioner")
    state = live(ADMIN, jo, notes=[note(1, "jo", "C1", "incomplete")])
    assert codes(make(want(ADMIN), state)) == ["notes-need-handoff"]
    plan = make(want(ADMIN, handoffs={"jo": (None, "admin")}), state)
    assert ("handoff_notes", "jo" + D) in actions(plan) and plan.errors == ()


def test_removal_warns_about_supervisees_left_unsupervised():
    jo = m("jo", "practitioner", "supervisor")
    sam = m("sam", "practitioner", supervisor="jo")
    plan = make(want(ADMIN, replace(sam, supervisor=None)), live(ADMIN, jo, sam))
    assert "unsupervised" in warning_codes(plan)


def test_no_unsupervised_warning_when_the_supervisee_gets_a_new_supervisor():
    jo = m("jo", "practitioner", "supervisor")
    sam = m("sam", "practitioner", supervisor="jo")
    plan = make(want(ADMIN, replace(sam, supervisor="admin" + D)), live(ADMIN, jo, sam))
    assert "unsupervised" not in warning_codes(plan)


def test_removal_warns_about_future_appointments_with_their_range():
    jo = m("jo", "practitioner")
    state = live(ADMIN, jo, appointments=[appt(1, "jo", "C1", "2026-11-01T10:00:00Z"),
                                          appt(2, "jo", "C1", "2026-12-03T10:00:00Z"),
                                          appt(3, "jo", "C1", "2027-02-01T10:00:00Z")])
    plan = make(want(ADMIN), state)
    (w,) = [w for w in plan.warnings if w.code == "appointments-cancelled"]
    assert "cancels 2 future appointment(s), 2026-12-03 to 2027-02-01" in w.message
    assert plan.operations[-1].get("cancel_appointments") == 2


def test_a_supervisor_change_says_where_each_note_awaiting_signature_goes():
    sam = m("sam", "practitioner", supervisor="admin")
    ann = m("ann", "practitioner", "supervisor")
    state = live(ADMIN, ann, sam, notes=[note(1, "sam", "C1", "signed", "admin"),
                                         note(2, "sam", "C1", "awaiting_signature", "admin")])
    plan = make(want(ADMIN, ann, replace(sam, supervisor="ann" + D)), state)
    by_code = {w.code: w.message for w in plan.warnings}
    assert "1 note(s) signed earlier stay unassociated" in by_code["supervisor-notes"]
    assert by_code["signatures-move"] == ("1 note(s) by sam@p.example awaiting admin@p.example's "
                                          "signature go to ann@p.example (notes 2)")


def test_notes_awaiting_a_leaving_supervisors_signature_need_a_handoff():
    jo = m("jo", "practitioner", "supervisor")
    sam = m("sam", "practitioner")  # no longer supervised by jo, but a note still awaits jo
    state = live(ADMIN, jo, sam, clients=[c("C1", "sam")],
                 notes=[note(1, "sam", "C1", "awaiting_signature", "jo")])
    refused = make(want(ADMIN, sam), state)
    assert codes(refused) == ["signatures-need-handoff"]
    assert "jo@p.example is removed but 1 note(s) await their signature (notes 1)" in \
        refused.errors[0].message
    handed = make(want(ADMIN, sam, handoffs={"jo": (None, None, "admin")}), state)
    assert codes(handed) == []
    assert ("handoff_signatures", "jo" + D) in actions(handed)
    assert "go to admin@p.example (notes 1)" in " ".join(w.message for w in handed.warnings)


def test_a_supervisor_losing_the_role_with_notes_awaiting_them_is_refused():
    jo = m("jo", "practitioner", "supervisor")
    sam = m("sam", "practitioner")
    state = live(ADMIN, jo, sam, clients=[c("C1", "sam")],
                 notes=[note(1, "sam", "C1", "awaiting_signature", "jo")])
    plan = make(want(ADMIN, replace(jo, roles=("practitioner",)), sam), state)
    assert codes(plan) == ["signatures-need-handoff"]
    assert "keep the role until they are signed" in plan.errors[0].message


def test_removing_a_supervisee_leaves_their_notes_with_the_supervisor():
    sam = m("sam", "practitioner", supervisor="admin")
    state = live(ADMIN, sam, notes=[note(1, "sam", "C1", "awaiting_signature", "admin")])
    plan = make(want(ADMIN), state)
    assert "their 1 note(s) awaiting signature stay with admin@p.example" in " ".join(
        w.message for w in plan.warnings)


def test_a_supervisor_who_has_not_accepted_supervises_only_after_accepting():
    vic = m("vic", "practitioner", "supervisor", status="invited")
    nina = m("nina", "practitioner", supervisor="vic")
    plan = make(want(ADMIN, vic, nina), live(ADMIN, vic))
    assert "set_supervisor" not in [o.action for o in plan.operations]
    assert [(d.operation.action, d.waits_for) for d in plan.deferred] == [
        ("set_supervisor", "vic" + D)]
    assert plan.status_of("vic" + D) == "invited"


def test_cosign_requirements_are_planned_with_the_supervision():
    sam = m("sam", "practitioner", supervisor="admin")
    plan = make(want(ADMIN, replace(sam, cosign=("progress_notes", "treatment_plans"))),
                live(ADMIN, sam))
    (step,) = plan.operations
    assert (step.action, step.get("cosign"), step.get("previous")) == (
        "set_cosign", ("progress_notes", "treatment_plans"), ())


def test_the_practice_name_is_planned_like_any_field():
    plan = make(replace(want(ADMIN), name="Riverbend"), replace(live(ADMIN), name="Old"))
    assert [(o.action, o.get("name"), o.get("previous")) for o in plan.operations] == [
        ("set_practice_name", "Riverbend", "Old")]
    assert plan.practice_name == "Riverbend"


def test_the_owner_is_never_removed():
    other = m("other", "biller", admin=True)
    assert "owner-removal" in codes(make(want(other), live(ADMIN, other), max_removals=5))


def test_the_owner_is_never_demoted():
    other = m("other", "biller", admin=True)
    plan = make(want(replace(ADMIN, admin=False), other), live(ADMIN, other))
    assert codes(plan) == ["owner-demotion"]


def test_ownership_is_never_transferred():
    other = m("other", "biller", admin=True)
    plan = make(want(replace(ADMIN, owner=False), replace(other, owner=True)), live(ADMIN, other))
    assert set(codes(plan)) == {"owner-change"}


def test_a_file_that_names_no_owner_leaves_the_owner_alone():
    plan = make(want(replace(ADMIN, owner=False)), live(ADMIN))
    assert plan.errors == () and plan.operations == ()


def test_mass_removal_is_refused_by_default():
    members = [m(f"p{i}", "scheduler") for i in range(20)]
    plan = make(want(ADMIN, *members[:17]), live(ADMIN, *members))
    assert codes(plan) == ["mass-removal"]  # 3 of 21 > 10% (2)


def test_removals_within_the_guard_pass():
    members = [m(f"p{i}", "scheduler") for i in range(20)]
    assert codes(make(want(ADMIN, *members[:18]), live(ADMIN, *members))) == []


def test_the_guard_allows_at_least_one_removal_in_a_small_practice():
    assert codes(make(want(ADMIN), live(ADMIN, m("x", "biller")))) == []


def test_max_removals_and_the_override():
    members = [m(f"p{i}", "scheduler") for i in range(4)]
    state = live(ADMIN, *members)
    assert codes(make(want(ADMIN), state, max_removals=3)) == ["mass-removal"]
    assert codes(make(want(ADMIN), state, max_removals=4)) == []
    assert codes(make(want(ADMIN), state, allow_mass_removal=True)) == []


def test_prune_false_leaves_undeclared_members_alone():
    plan = make(want(ADMIN, prune=False), live(ADMIN, m("x", "biller")))
    assert plan.operations == ()


def test_seats_count_practitioners_before_and_after():
    plan = make(want(ADMIN, m("a", "practitioner"), m("b", "practitioner")),
                live(ADMIN, m("c", "practitioner")))
    assert (plan.summary.seats_before, plan.summary.seats_after) == (2, 3)


def test_a_supervisor_gets_the_role_before_anyone_points_at_them():
    sam = m("sam", "practitioner")
    ann = m("ann", "practitioner")
    plan = make(want(ADMIN, replace(ann, roles=("practitioner", "supervisor")),
                     replace(sam, supervisor="ann" + D)), live(ADMIN, ann, sam))
    order = actions(plan)
    assert order.index(("grant_role", "ann" + D)) < order.index(("set_supervisor", "sam" + D))


def test_supervisees_move_before_their_supervisor_loses_the_role():
    ann = m("ann", "practitioner", "supervisor")
    sam = m("sam", "practitioner", supervisor="ann")
    plan = make(want(ADMIN, replace(ann, roles=("practitioner",)),
                     replace(sam, supervisor="admin" + D)), live(ADMIN, ann, sam))
    order = actions(plan)
    assert order.index(("set_supervisor", "sam" + D)) < order.index(("revoke_role", "ann" + D))


def test_a_new_admin_exists_before_the_last_old_one_goes():
    old = m("old", "biller", admin=True)
    new = m("new", "biller", admin=True)
    plan = make(want(replace(ADMIN, admin=True, owner=False), replace(old, admin=False), new),
                live(replace(ADMIN, admin=False, owner=False), old))
    order = actions(plan)
    assert order.index(("invite_member", "new" + D)) < order.index(("set_admin", "old" + D))
    assert plan.errors == ()


def test_the_plan_is_deterministic_whatever_the_input_order():
    members = [m(f"p{i}", "practitioner") for i in range(8)]
    clients = [c(f"C{i}", f"p{i}", "admin") for i in range(8)]
    a = make(want(ADMIN, *members, clients=clients), live(ADMIN))
    b = make(want(*reversed(members), ADMIN, clients=list(reversed(clients))), live(ADMIN))
    assert a.operations == b.operations and a.digest() == b.digest()


def test_simulating_the_plan_reaches_the_desired_state():
    jo = m("jo", "practitioner", "supervisor")
    sam = m("sam", "practitioner", supervisor="jo")
    state = live(ADMIN, jo, sam, clients=[c("C1", "jo", "sam")],
                 notes=[note(1, "jo", "C1", "incomplete")])
    desired = want(ADMIN, replace(sam, supervisor="admin" + D), clients=[c("C1", "sam")],
                   handoffs={"jo": (None, "sam")})
    plan = make(desired, state)
    final = simulate(state, plan.operations, NOW)
    assert violations(final, NOW) == []
    assert make(desired, final).operations == ()
