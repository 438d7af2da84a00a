"""The backend contract: what every store of a live practice must do, tested once for all."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from shsync.stores.base import (
    Forbidden, NotEmpty, Refused, StalePlan, WrongPractice, verify_chain,
)
from shsync.core import planner
from shsync.core.authorize import Actor
from shsync.core.operations import op
from shsync.stores.remote import RemoteBackend
from shsync.errors import BackendError
from shsync.core.plan import Plan, Summary, from_file
from shsync.format.load import load_snapshot
from shsync.core.simulate import simulate
from shsync.core.state import PracticeState, fingerprint, state_from_snapshot
from tests.core.builders import ADMIN, D, NOW, appt, c, live, m, note, want
from tests.helpers import value_of

OPERATOR = Actor.operator("tester")
JO = m("jo", "practitioner", "supervisor")
SAM = m("sam", "practitioner", supervisor="jo")
ROSA = m("rosa", "scheduler", status="invited", invited_at="2026-11-01T00:00:00Z")


def seeded_state() -> PracticeState:
    return replace(live(ADMIN, JO, SAM, ROSA,
                        clients=[c("C1", "jo", "sam"), c("C2", "sam", supervisor="admin")],
                        appointments=[appt(1, "jo", "C1", "2026-11-01T10:00:00Z"),
                                      appt(2, "jo", "C1", "2026-12-01T10:00:00Z")],
                        notes=[note(1, "jo", "C1", "incomplete"),
                               note(2, "jo", "C1", "signed"),
                               note(3, "sam", "C2", "awaiting_signature", "admin"),
                               note(4, "sam", "C1", "awaiting_signature", "jo")]),
                   name="Test Practice")


def changing_plan(state: PracticeState, practice: str = "default") -> Plan:
    """Jo leaves: clients and notes to sam (made a supervisor), a new member, grants."""
    desired = want(ADMIN, replace(SAM, roles=("practitioner", "supervisor"), supervisor="admin" + D),
                   replace(ROSA, status="active", invited_at=None),
                   m("new", "practitioner", supervisor="sam", billing_access=False),
                   clients=[c("C1", "sam", "admin", "new"), c("C3", "new", "admin")],
                   handoffs={"jo": (None, "sam")})
    plan = plan_for(desired, state, practice)
    assert plan.errors == (), plan.errors
    return plan


def plan_for(desired, state, practice="default"):
    return planner.plan(desired, state, practice=practice, now=NOW,
                        options=planner.Options(allow_mass_removal=True, assume_accepted=True))


def kinds(backend) -> list[str]:
    return [e.kind for e in backend.history()]


def test_a_new_backend_is_empty(backend):
    state = backend.read()
    assert state.is_empty and backend.history() == []


def test_seed_then_read_gives_the_same_practice(backend):
    backend.seed(seeded_state())
    assert backend.read() == seeded_state()


def test_seed_refuses_a_backend_that_holds_a_practice(backend):
    backend.seed(seeded_state())
    with pytest.raises(NotEmpty):
        backend.seed(seeded_state())


def test_the_fingerprint_is_of_exactly_what_was_read(backend):
    backend.seed(seeded_state())
    assert fingerprint(backend.read()) == fingerprint(seeded_state())


def test_apply_reaches_the_state_the_simulation_predicts(backend):
    backend.seed(seeded_state())
    plan = changing_plan(backend.read())
    backend.apply(plan, actor=OPERATOR, now=NOW)
    assert backend.read() == simulate(seeded_state(), plan.operations, NOW)


def test_after_apply_the_same_desired_state_plans_no_changes(backend):
    backend.seed(seeded_state())
    backend.apply(changing_plan(backend.read()), actor=OPERATOR, now=NOW)
    desired = want(ADMIN, replace(SAM, roles=("practitioner", "supervisor"),
                                  supervisor="admin" + D),
                   replace(ROSA, status="active", invited_at=None),
                   m("new", "practitioner", supervisor="sam", billing_access=False),
                   clients=[c("C1", "sam", "admin", "new"), c("C3", "new", "admin")],
                   handoffs={"jo": (None, "sam")})
    assert plan_for(desired, backend.read()).operations == ()


def test_removal_marks_the_member_removed_and_keeps_authorship(backend):
    backend.seed(seeded_state())
    backend.apply(changing_plan(backend.read()), actor=OPERATOR, now=NOW)
    after = backend.read()
    assert "jo" + D not in after.members
    signed = [n for n in after.notes if n.status == "signed"]
    assert [n.author for n in signed] == ["jo" + D]  # authorship of signed notes stays
    assert {a.id for a in after.appointments} == {1}  # the future one was cancelled


def test_clients_are_never_deleted(backend):
    backend.seed(seeded_state())
    backend.apply(changing_plan(backend.read()), actor=OPERATOR, now=NOW)
    assert {"C1", "C2"} <= set(backend.read().clients)


def test_a_removed_member_can_be_invited_again(backend):
    backend.seed(seeded_state())
    backend.apply(changing_plan(backend.read()), actor=OPERATOR, now=NOW)
    state = backend.read()
    again = plan_for(want(*state.members.values(), replace(JO, supervisor=None)), state)
    backend.apply(again, actor=OPERATOR, now=NOW)
    assert backend.read().members["jo" + D].status == "active"  # assume_accepted: a migration
    invited = planner.plan(want(*state.members.values(), replace(JO, supervisor=None)), state,
                           practice="default", now=NOW,
                           options=planner.Options(allow_mass_removal=True))
    assert [o.get("status") for o in invited.operations if o.action == "invite_member"] == [
        "invited"]


def test_apply_refuses_a_stale_plan_and_changes_nothing(backend):
    backend.seed(seeded_state())
    plan = changing_plan(backend.read())
    other = plan_for(want(ADMIN, JO, SAM, ROSA, m("x", "biller")), backend.read())
    backend.apply(other, actor=OPERATOR, now=NOW)
    before = backend.read()
    with pytest.raises(StalePlan):
        backend.apply(plan, actor=OPERATOR, now=NOW)
    assert backend.read() == before and kinds(backend) == ["seed", "apply"]


@pytest.mark.parametrize("kind", ["apply", "accepted", "refresh", "expire"])
def test_a_plan_without_steps_is_checked_and_records_no_entry(backend, kind):
    # An entry that changes nothing would move the log's head for nothing (an apply-scope
    # token could fill the log with them): every store checks such a plan, then records nothing.
    from shsync.errors import NothingToApply

    backend.seed(seeded_state())
    state = backend.read()
    seats = state.practitioner_count()
    empty = Plan("default", fingerprint(state), (), Summary(seats_before=seats,
                                                            seats_after=seats), kind=kind)
    with pytest.raises(NothingToApply):
        backend.apply(empty, actor=OPERATOR, now=NOW)
    assert kinds(backend) == ["seed"] and backend.read() == seeded_state()
    # ... and it is still refused like any plan when the practice has moved on.
    backend.apply(plan_for(want(ADMIN, JO, SAM, ROSA, m("x", "biller")), state), actor=OPERATOR,
                  now=NOW)
    with pytest.raises(StalePlan):
        backend.apply(empty, actor=OPERATOR, now=NOW)
    assert kinds(backend) == ["seed", "apply"]


def test_a_stored_plan_the_practice_moved_on_from_is_stale_and_its_refusal_is_kept(backend):
    backend.seed(seeded_state())
    plan = changing_plan(backend.read())
    stored = backend.save_plan(plan, author=None, now=NOW)
    assert backend.stored_plan(stored.id).status == "ready"
    backend.apply(plan_for(want(ADMIN, JO, SAM, ROSA, m("x", "biller")), backend.read()),
                  actor=OPERATOR, now=NOW)
    moved_on = backend.stored_plan(stored.id)
    assert (moved_on.status, moved_on.refused) == ("stale", None)  # listed as the store sees it
    with pytest.raises(StalePlan):
        backend.apply(plan, actor=OPERATOR, now=NOW)
    refused = backend.stored_plan(stored.id)
    assert refused.status == "stale" and refused.refused is not None  # the refusal is kept
    assert kinds(backend) == ["seed", "apply"]


def test_apply_refuses_a_plan_for_another_practice(backend):
    backend.seed(seeded_state())
    plan = changing_plan(backend.read(), practice="elsewhere")
    with pytest.raises(WrongPractice):
        backend.apply(plan, actor=OPERATOR, now=NOW)
    assert backend.read() == seeded_state()


def test_apply_refuses_a_plan_that_would_break_the_practice(backend):
    backend.seed(seeded_state())
    state = backend.read()
    broken = Plan("default", fingerprint(state),
                  (op("revoke_role", "jo" + D, role="supervisor"),), Summary())
    with pytest.raises(Refused, match="cannot lose the supervisor role: 1 supervisee"):
        backend.apply(broken, actor=OPERATOR, now=NOW)
    assert backend.read() == seeded_state() and kinds(backend) == ["seed"]


def test_a_step_that_does_not_fit_the_live_practice_is_refused_before_anything_is_written(
        backend):
    backend.seed(seeded_state())
    state = backend.read()
    # The second step collides with an existing client: the store's check refuses the plan.
    plan = Plan("default", fingerprint(state),
                (op("grant_access", "C2", member="rosa" + D),
                 op("create_client", "C1", practitioner="sam" + D, access=(), supervisor=None)),
                Summary())
    with pytest.raises(Refused, match="client C1 already exists"):
        backend.apply(plan, actor=OPERATOR, now=NOW)
    assert backend.read() == seeded_state() and kinds(backend) == ["seed"]


def test_the_audit_log_records_each_apply_as_a_chain(backend):
    backend.seed(seeded_state())
    plan = changing_plan(backend.read())
    entry = backend.apply(plan, actor=OPERATOR, now=NOW)
    seeded, logged = backend.history()
    assert logged == entry and seeded.kind == "seed" and logged.prev_hash == seeded.entry_hash
    assert (logged.actor, logged.plan_hash, logged.at) == ("tester", plan.digest(), NOW)
    assert len(logged.operations) == len(plan.operations)
    second = backend.apply(plan_for(want(*backend.read().members.values(), m("x", "biller")),
                                backend.read()), actor=OPERATOR, now=NOW)
    assert second.prev_hash == entry.entry_hash and second.seq == 3


def test_practices_in_one_store_do_not_see_each_other(make_backend):
    first, second = make_backend("first"), make_backend("second")
    first.seed(seeded_state())
    assert second.read().is_empty
    second.seed(live(ADMIN))
    assert first.read() == seeded_state() and second.read() == live(ADMIN)
    first.apply(changing_plan(first.read(), "first"), actor=OPERATOR, now=NOW)
    assert second.read() == live(ADMIN) and kinds(second) == ["seed"]


def test_a_large_plan_applies_in_one_go(backend):
    backend.seed(live(ADMIN))
    practitioners = [m(f"p{i}", "practitioner") for i in range(200)]
    clients = [c(f"C{i}", f"p{i % 200}", "admin") for i in range(3000)]
    plan = plan_for(want(ADMIN, *practitioners, clients=clients), backend.read())
    backend.apply(plan, actor=OPERATOR, now=NOW)
    after = backend.read()
    assert len(after.members) == 201 and len(after.clients) == 3000


def test_the_backend_refuses_a_plan_the_actor_may_not_apply(backend):
    backend.seed(seeded_state())
    state = backend.read()
    sam = Actor.member("sam" + D)
    # A hand-made plan for sam that makes sam an administrator: the planner would refuse it,
    # so the backend must refuse it too, whatever the plan file says.
    plan = Plan("default", fingerprint(state), (op("set_admin", "sam" + D, admin=True),),
                Summary(), actor="sam" + D)
    with pytest.raises(Forbidden, match="needs an administrator"):
        backend.apply(plan, actor=sam, now=NOW)
    assert backend.read() == seeded_state() and kinds(backend) == ["seed"]


def test_the_backend_refuses_a_plan_made_for_another_actor(backend):
    backend.seed(seeded_state())
    plan = changing_plan(backend.read())
    with pytest.raises(Forbidden, match="made for the operator"):
        backend.apply(plan, actor=Actor.member("admin" + D), now=NOW)


def test_the_audit_log_records_the_actor(backend):
    backend.seed(seeded_state())
    state = backend.read()
    admin = Actor.member("admin" + D)
    plan = planner.plan(want(*state.members.values(), m("x", "biller")), state,
                        practice="default", now=NOW, actor=admin)
    backend.apply(plan, actor=admin, now=NOW)
    assert backend.history()[-1].actor == "admin" + D


def _three_applies(backend):
    backend.seed(seeded_state())
    for name in ("x", "y", "z"):
        state = backend.read()
        backend.apply(plan_for(want(*state.members.values(), m(name, "biller")), state),
                      actor=OPERATOR, now=NOW)
    return backend.history()


def test_an_intact_audit_chain_verifies(backend):
    assert verify_chain(_three_applies(backend)) is None


def test_an_edited_audit_entry_is_found(backend):
    entries = _three_applies(backend)
    forged = [entries[0], replace(entries[1], actor="someone else"), *entries[2:]]
    assert verify_chain(forged) == "entry #2 was changed after it was written (its hash does not match)"


def test_a_deleted_audit_entry_is_found(backend):
    entries = _three_applies(backend)
    assert verify_chain([entries[0], *entries[2:]]) == "entry #2 is missing (found #3 in its place)"
    problem = verify_chain(entries[1:])
    assert problem is not None and "entry #1" in problem


# --- forged plans: the store's own check refuses them, on every store --------------------------

CORPUS = Path(__file__).parents[1] / "corpus"
FORGED = sorted(p for p in CORPUS.glob("*.json")
                if p.name.startswith(("refused--", "plan-summary-mismatch--", "forbidden--",
                                      "plan-kind-mismatch--")))


@pytest.mark.parametrize("path", FORGED, ids=[p.stem for p in FORGED])
def test_a_forged_plan_is_refused_inside_apply_and_changes_nothing(backend, path):
    backend.seed(state_from_snapshot(value_of(load_snapshot(CORPUS.parent / "corpus_support" /
                                                            "live.yaml"))))
    before = backend.read()
    plan = from_file(path.read_text())
    code = path.name.split("--")[0]
    actor = Actor.member(plan.actor) if plan.actor else OPERATOR
    with pytest.raises(BackendError) as refused:
        backend.apply(plan, actor=actor, now=NOW)
    assert refused.value.code == code, refused.value
    assert backend.read() == before and kinds(backend) == ["seed"]


def test_the_forged_corpus_covers_every_action():
    from shsync.core.actions import ACTIONS

    covered = {p.name.split("--")[1].split("-")[0] for p in FORGED if p.name.startswith("refused")}
    assert covered == set(ACTIONS)


def test_every_action_has_exactly_one_registered_handler_in_the_sql_stores():
    from shsync.core.actions import ACTIONS
    from shsync.stores.sql import HANDLERS

    assert set(HANDLERS) == set(ACTIONS)
    assert all(callable(handler) for handler in HANDLERS.values())


def test_the_log_replays_to_the_live_state_and_finds_a_deleted_tail(backend):
    from shsync.audit.chain import replay

    entries = _three_applies(backend)
    assert entries[0].kind == "seed" and replay(entries, backend.read()) is None
    problem = replay(entries[:-1], backend.read())
    assert problem is not None and "does not explain the live practice" in problem


# --- stored plans and approvals (the two-person rule; more in tests/stores/test_approvals.py)

RULE = (("removes_members", 1), ("widens_access", 1))


def test_the_approvals_rule_is_kept_by_the_practice_and_changed_only_by_a_plan(backend):
    backend.seed(seeded_state())
    state = backend.read()
    assert state.approval_policy == ()
    from shsync.core.verify import verify

    steps = (op("set_policy", "practice", approvals=RULE, previous=()),)
    setting = Plan("default", fingerprint(state), steps, verify(steps, state, OPERATOR, NOW).summary)
    backend.apply(setting, actor=OPERATOR, now=NOW)
    assert backend.read() == replace(seeded_state(), approval_policy=RULE)
    from shsync.audit.chain import replay

    assert replay(backend.history(), backend.read()) is None


def test_a_stored_plan_reads_back_whole_with_its_approvals(backend, request):
    backend.seed(replace(seeded_state(), approval_policy=RULE))
    plan = changing_plan(backend.read())
    stored = backend.save_plan(plan, author=None, now=NOW)
    assert backend.save_plan(plan, author=None, now=NOW) == stored  # saving twice keeps one
    # Made again later (`apply org/` on merge), it differs only in its clock: the same plan.
    later = replace(plan, created_at="2026-11-26T12:30:00Z")
    assert backend.save_plan(later, author=None, now=NOW) == stored
    again = backend.stored_plan(stored.id)
    assert (again.plan, again.author, again.created_at, again.required, again.applied_entry) == (
        plan, None, NOW, 1, None)
    approver = backend
    if isinstance(backend, RemoteBackend):  # a server takes an approval from its own token only
        served = request.getfixturevalue("server")
        approver = RemoteBackend(backend.display_url, token=served.token(
            backend.practice, "admin" + D, operator=False, scope="apply"))
        with pytest.raises(Forbidden):
            backend.approve(stored.id, approver=Actor.member("admin" + D), now=NOW)
    approved = approver.approve(stored.id, approver=Actor.member("admin" + D), now=NOW)
    if approver is not backend:
        approver.close()
    assert approved.approvals == (("admin" + D, NOW),)
    entry = backend.apply(later, actor=OPERATOR, now=NOW)
    assert backend.stored_plans() == [replace(approved, applied_entry=entry.seq)]
    assert entry.plan_hash == plan.digest()  # the approved plan is what was applied
    assert entry.details["approvals"] == [{"by": "admin" + D, "at": NOW}]


def test_apply_refuses_a_plan_the_live_rule_has_not_approved(backend):
    backend.seed(replace(seeded_state(), approval_policy=RULE))
    with pytest.raises(BackendError) as refused:
        backend.apply(changing_plan(backend.read()), actor=OPERATOR, now=NOW)
    assert refused.value.code == "approvals-required"
    assert "remove_member jo@p.example" in str(refused.value)
    assert kinds(backend) == ["seed"]


# --- time passes between a plan and its apply -----------------------------------------------------

AFTER_THE_APPOINTMENT = "2026-12-02T00:00:00Z"  # jo's future appointment (12-01) has passed


def test_a_saved_plan_applies_after_an_appointment_it_counted_has_passed(make_store):
    """Plan on a pull request, apply on merge: nothing in the practice changed, only time, so
    the plan applies; the entry records how many appointments the removal really cancelled,
    and the runbook says that number. (The store's own clock is the real one, later than
    both times here: on any date. A server applies at its own clock, pinned to NOW in the
    tests, so this is the SQL stores'.)"""
    from shsync.audit.chain import replay_steps

    backend = make_store()
    backend.seed(seeded_state())
    plan = changing_plan(backend.read())
    removal = next(o for o in plan.operations if o.action == "remove_member")
    assert removal.get("cancel_appointments") == 1  # at NOW, the 12-01 appointment is ahead
    entry = backend.apply(plan, actor=OPERATOR, now=AFTER_THE_APPOINTMENT)
    assert entry.details["as_applied"] == {"cancel_appointments": {"jo" + D: 0}}
    assert entry.operations == list(plan.operation_dicts)  # the plan's own steps, unchanged
    jo = [s for s in backend.runbook_steps() if s.member == "jo" + D
          and "Permanently Remove" in s.text]
    assert jo and all("future appointment" not in s.text for s in jo)
    assert replay_steps(backend.history(), backend.runbook_steps(), backend.read()) == (None,
                                                                                        None)


def test_a_removal_that_would_cancel_more_than_its_plan_says_is_refused(backend):
    """Fewer future appointments is time passing; more is not (an apply dated before its
    plan), and is refused."""
    backend.seed(seeded_state())
    desired = want(ADMIN, replace(SAM, roles=("practitioner", "supervisor"),
                                  supervisor="admin" + D),
                   replace(ROSA, status="active", invited_at=None),
                   clients=[c("C1", "sam", "admin"), c("C2", "sam", supervisor="admin")],
                   handoffs={"jo": (None, "sam")})
    later_plan = planner.plan(desired, backend.read(), practice="default",
                              now=AFTER_THE_APPOINTMENT,
                              options=planner.Options(allow_mass_removal=True,
                                                      assume_accepted=True))
    assert later_plan.errors == (), later_plan.errors
    removal = next(o for o in later_plan.operations if o.action == "remove_member")
    assert removal.get("cancel_appointments") == 0
    with pytest.raises(Refused, match=r"cancels 1 future appointment\(s\), not 0"):
        backend.apply(later_plan, actor=OPERATOR, now=NOW)
    assert [e.kind for e in backend.history()] == ["seed"]


def test_an_owner_is_recorded_so_only_in_a_new_practice(backend):
    """A new practice's owner signed up (no invitation); in a practice with members, a plan
    that brings in an owner so is forged, and refused: shsync never transfers ownership."""
    backend.seed(seeded_state())
    forged = replace(changing_plan(backend.read()), operations=(
        op("invite_member", "eve" + D, first_name="Eve", last_name="Ng",
           roles=("practitioner",), admin=True, npi=None, taxonomy=None, billing_access=True,
           full_clinical_access=False, status="active", owner=True),))
    with pytest.raises(Refused, match="never transfers ownership"):
        backend.apply(forged, actor=OPERATOR, now=NOW)
    assert "eve" + D not in backend.read().members
