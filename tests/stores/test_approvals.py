"""Stored plans and the two-person rule through the application object, on every store.

The rule the store enforces is the one the live practice holds; approvals are read inside the
apply transaction; a plan file (forged or not) is held to the same rule as a stored plan.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
import yaml

from shsync.jobs.app import Shsync, export
from shsync.errors import ShsyncError
from shsync.core import planner
from shsync.core.authorize import Actor
from shsync.core.operations import op
from shsync.core.plan import Message, Plan
from tests.format.model_oracle import desired_from_org
from shsync.model.org import Org
from tests.core.builders import ADMIN, D, NOW, c, live, m, want

BEN = m("ben", "biller", admin=True)
CAT = m("cat", "scheduler", admin=True)
SAM = m("sam", "practitioner")
RULE = (("removes_members", 1), ("widens_access", 1))
CLIENTS = [c("C1", "sam")]



@pytest.fixture
def backend(make_store):
    """Approvals are given by members acting as themselves: on a server only through their own
    tokens (tests/server/test_api.py), so these run on the SQL stores, where --actor is the
    operator's claim."""
    return make_store()

def app(backend, who: str | None = "admin") -> Shsync:
    actor = Actor.member(who + D) if who else Actor.operator("operator:test")
    return Shsync(backend, actor, lambda: NOW)


def ruled(backend, rule=RULE):
    backend.seed(replace(live(ADMIN, BEN, CAT, SAM, clients=CLIENTS), approval_policy=rule))


def plan_as(shsync: Shsync, *members, clients=CLIENTS) -> Plan:
    result = planner.plan(want(*members, clients=clients), shsync.read(),
                          practice=shsync.backend.practice, now=NOW, actor=shsync.who)
    assert result.errors == (), result.errors
    return result


def code_of(call) -> str:
    with pytest.raises(ShsyncError) as raised:
        call()
    return raised.value.code


def test_a_widening_plan_waits_for_another_administrator(backend):
    ruled(backend)
    author = app(backend)
    plan = plan_as(author, ADMIN, BEN, CAT, SAM, clients=[c("C1", "sam", "ben")])
    stored = author.save_plan(plan)
    assert (stored.author, stored.required, stored.approvals, stored.status) == (
        "admin" + D, 1, (), "awaiting approval")
    before = backend.read()
    assert code_of(lambda: author.apply_stored(stored.id)) == "approvals-required"
    assert backend.read() == before and [e.kind for e in backend.history()] == ["seed"]

    approved = app(backend, "ben").approve(stored.id)
    assert approved.approvals == (("ben" + D, NOW),) and approved.status == "ready"
    entry = author.apply_stored(stored.id)
    assert backend.read().clients["C1"].access == ("ben" + D,)
    # the entry also records the runbook step it left for Sessions Health: tick ben on C1
    assert entry.details == {"author": "admin" + D, "approvals": [{"by": "ben" + D, "at": NOW}],
                             "runbook": {"first": 1, "count": 1}}
    assert author.stored_plan(stored.id).applied_entry == entry.seq
    assert author.check_log().replayed


def test_the_refusals_of_an_approval(backend):
    ruled(backend)
    stored = app(backend).save_plan(plan_as(app(backend), ADMIN, BEN, SAM))  # removes cat
    assert stored.required == 1
    assert code_of(lambda: app(backend).approve(stored.id)) == "self-approval"
    assert code_of(lambda: app(backend, "sam").approve(stored.id)) == "forbidden"
    assert code_of(lambda: app(backend, None).approve(stored.id)) == "forbidden"
    assert code_of(lambda: app(backend, "ben").approve("p-000000000000")) == "no-such-plan"
    assert code_of(lambda: app(backend, "ben").approve("../etc/passwd")) == "no-such-plan"
    app(backend, "ben").approve(stored.id)
    assert code_of(lambda: app(backend, "ben").approve(stored.id)) == "already-approved"


def test_a_stale_or_applied_plan_cannot_be_approved(backend):
    ruled(backend)
    first = app(backend).save_plan(plan_as(app(backend), ADMIN, BEN, CAT, SAM,
                                           clients=[c("C1", "sam", "ben")]))
    other = app(backend).save_plan(plan_as(app(backend), ADMIN, BEN, CAT, SAM,
                                           clients=[c("C1", "sam", "cat")]))
    app(backend, "ben").approve(first.id)
    app(backend).apply_stored(first.id)
    assert code_of(lambda: app(backend, "cat").approve(first.id)) == "already-applied"
    assert code_of(lambda: app(backend, "ben").approve(other.id)) == "stale-plan"
    assert code_of(lambda: app(backend).apply_stored(first.id)) == "already-applied"


def test_a_plan_file_applies_only_when_a_stored_plan_with_its_hash_is_approved(backend):
    ruled(backend)
    author = app(backend)
    plan = plan_as(author, ADMIN, BEN, CAT, SAM, clients=[c("C1", "sam", "ben")])
    assert code_of(lambda: author.apply(plan)) == "approvals-required"
    stored = author.save_plan(plan)
    app(backend, "cat").approve(stored.id)
    author.apply(plan)  # the same plan, read from a file: matched by its hash
    assert author.stored_plan(stored.id).status == "applied"


def test_a_forged_plan_that_leaves_out_the_rule_is_still_refused(backend):
    """A hand-made plan, with the live fingerprint, no approvals-required warning and a step
    that lowers the rule in the same plan: the store judges it by the live rule."""
    ruled(backend)
    state = backend.read()
    grant = op("grant_access", "C1", member="ben" + D)
    for steps in ((grant,), (op("set_policy", "practice", approvals=(), previous=RULE), grant)):
        valid = planner.plan(want(ADMIN, BEN, CAT, SAM, clients=[c("C1", "sam", "ben")]), state,
                             practice="default", now=NOW)
        forged = replace(valid, operations=steps, warnings=(), actor=None)
        assert code_of(lambda: backend.apply(forged, actor=Actor.operator("x"), now=NOW)) == \
            "approvals-required"
    assert backend.read() == state


def test_lowering_the_rule_needs_approvals_under_the_rule_it_replaces(backend):
    ruled(backend, (("widens_access", 2),))
    author = app(backend)
    org = yaml.safe_load(export(backend.read()))
    org["policy"] = {"approvals": {}}
    lowering = planner.plan(desired_from_org(Org.model_validate(org)), backend.read(),
                            practice="default", now=NOW, actor=author.who)
    assert [o.action for o in lowering.operations] == ["set_policy"]
    stored = author.save_plan(lowering)
    assert stored.required == 2
    app(backend, "ben").approve(stored.id)
    assert code_of(lambda: author.apply_stored(stored.id)) == "approvals-required"
    app(backend, "cat").approve(stored.id)
    author.apply_stored(stored.id)
    assert backend.read().approval_policy == ()


def test_the_rule_is_exported_and_an_export_plans_to_no_changes(backend):
    ruled(backend)
    org = yaml.safe_load(export(backend.read()))
    assert org["policy"] == {"approvals": {"removes_members": 1, "widens_access": 1}}
    again = planner.plan(desired_from_org(Org.model_validate(org)), backend.read(),
                         practice="default", now=NOW)
    assert again.operations == ()


def test_without_a_rule_nothing_changes_for_users(backend):
    backend.seed(live(ADMIN, BEN, SAM, clients=CLIENTS))
    author = app(backend)
    author.apply(plan_as(author, ADMIN, BEN, SAM, clients=[c("C1", "sam", "ben")]))
    assert backend.history()[-1].details == {"runbook": {"first": 1, "count": 1}}


def test_stored_plans_are_scoped_to_their_practice(make_store):
    make_backend = make_store
    first, second = make_backend("first"), make_backend("second")
    ruled(first)
    ruled(second)
    stored = app(first).save_plan(plan_as(app(first), ADMIN, BEN, CAT, SAM,
                                          clients=[c("C1", "sam", "ben")]))
    assert code_of(lambda: app(second).stored_plan(stored.id)) == "no-such-plan"
    assert code_of(lambda: app(second, "ben").approve(stored.id)) == "no-such-plan"
    assert app(second).stored_plans() == [] and len(app(first).stored_plans()) == 1


def test_a_plan_with_errors_or_for_someone_else_is_not_stored(backend):
    ruled(backend)
    plan = plan_as(app(backend), ADMIN, BEN, CAT, SAM, clients=[c("C1", "sam", "ben")])
    assert code_of(lambda: app(backend, "ben").save_plan(plan)) == "forbidden"
    broken = replace(plan, errors=(Message("mass-removal", "too many"),))
    assert code_of(lambda: app(backend).save_plan(broken)) == "plan-has-errors"
    assert app(backend).stored_plans() == []


def _at_once(calls) -> list[str]:
    """Run each call in its own thread at the same moment; each outcome's code or "ok"."""
    results: list[str] = [""] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i, call):
        start.wait()
        try:
            call()
            results[i] = "ok"
        except ShsyncError as exc:
            results[i] = exc.code

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _own_handle(url: str, who: str, job: str, plan_id: str):
    """A call that opens its own handle on the store (in its own thread, as a separate process
    would), runs one job as `who`, and closes the handle."""
    def call():
        from shsync.stores import open_backend

        handle = open_backend(url)
        try:
            getattr(app(handle, who), job)(plan_id)
        finally:
            handle.close()
    return call


def test_approvals_and_applies_at_once_never_double_count_or_double_apply(backend):
    ruled(backend, (("widens_access", 2),))
    stored = app(backend).save_plan(plan_as(app(backend), ADMIN, BEN, CAT, SAM,
                                            clients=[c("C1", "sam", "ben")]))
    url = backend.display_url
    outcomes = _at_once([_own_handle(url, "ben", "approve", stored.id),
                         _own_handle(url, "ben", "approve", stored.id),
                         _own_handle(url, "cat", "approve", stored.id)])
    assert sorted(outcomes) == ["already-approved", "ok", "ok"]
    assert len(app(backend).stored_plan(stored.id).approvals) == 2
    outcomes = _at_once([_own_handle(url, "admin", "apply_stored", stored.id)
                         for _ in range(3)])
    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} <= {"already-applied", "stale-plan"}
    assert [e.kind for e in backend.history()] == ["seed", "apply"]


def test_a_change_of_the_break_glass_policy_waits_for_another_administrator(backend):
    """Who may break glass, and for how long, is a plan step like any other: under the live
    two-person rule the store applies it only once approved, on every store."""
    ruled(backend)
    author = app(backend)
    desired = replace(want(ADMIN, BEN, CAT, SAM, clients=CLIENTS),
                      break_glass_policy=(("practitioner",), 10080))
    plan = planner.plan(desired, author.read(), practice=backend.practice, now=NOW,
                        actor=author.who)
    assert [o.action for o in plan.operations] == ["set_break_glass_policy"]
    assert code_of(lambda: author.apply(plan)) == "approvals-required"
    assert backend.read().break_glass_policy is None
    stored = author.save_plan(plan)
    app(backend, "ben").approve(stored.id)
    author.apply_stored(stored.id)
    assert backend.read().break_glass_policy == (("practitioner",), 10080)
