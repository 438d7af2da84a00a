"""Runbook steps as records (issue #25), on every store: what an apply leaves people to do in
Sessions Health is written in its own transaction, tracked until someone confirms it, replayed
by `history --verify`, and refused whole when a confirmation is wrong."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shsync.core import planner
from shsync.core.authorize import Actor
from shsync.core.runbook import Filter
from shsync.errors import AuditBroken, ShsyncError
from shsync.jobs.app import Shsync, export
from tests.core.builders import ADMIN, D, NOW, c, live, m, note, want

SAM = m("sam", "practitioner", supervisor="admin")
KIM = m("kim", "practitioner")
ROSA = m("rosa", "scheduler")
CLIENTS = [c("C1", "sam"), c("C2", "kim", "sam")]


def app(backend, who: str | None = None) -> Shsync:
    actor = Actor.member(who + D) if who else Actor.operator("operator:test")
    return Shsync(backend, actor, lambda: NOW)


def apply(shsync: Shsync, *members, clients=CLIENTS, handoffs=None):
    plan = planner.plan(want(*members, clients=clients, handoffs=handoffs), shsync.read(),
                        practice=shsync.backend.practice, now=NOW, actor=shsync.who)
    assert plan.errors == (), plan.errors
    return shsync.apply(plan)


def code_of(call) -> str:
    with pytest.raises(ShsyncError) as raised:
        call()
    return raised.value.code


def seed(backend):
    backend.seed(live(ADMIN, SAM, KIM, ROSA, clients=CLIENTS,
                      notes=[note(1, "sam", "C1", "incomplete")]))
    return backend


@pytest.fixture
def seeded(make_backend):
    return seed(make_backend())


def test_a_removal_is_one_step_that_carries_every_row_its_member_loses(seeded):
    operator = app(seeded)
    entry = apply(operator, ADMIN, KIM, ROSA, clients=[c("C1", "kim"), c("C2", "kim")],
                  handoffs={"sam": ("kim", "kim", None)})
    steps = operator.runbook_steps()
    assert entry.details["runbook"] == {"first": 1, "count": len(steps)}
    assert [s.entry for s in steps] == [entry.seq] * len(steps)
    removals = [s for s in steps if "Permanently Remove" in s.text]
    # the note transfer is asked when Permanently Remove asks it: one step, not two
    assert len(removals) == 1 and removals[0].actions == ("remove_member",)
    assert "transfer their 1 incomplete note(s) to kim" + D in removals[0].text
    removal = removals[0]
    assert removal.member == "sam" + D and removal.effect == "narrows"
    assert {(who, where) for change, who, where, _, _ in removal.access if change == "lose"} \
        == {("sam" + D, "C1"), ("sam" + D, "C2")}
    # one hour for access taken away, from the store's clock when it was written
    assert removal.due > removal.recorded_at and removal.state == "pending"


def test_done_records_its_own_entry_and_a_step_is_done_once(seeded):
    operator = app(seeded)
    apply(operator, ADMIN, SAM, KIM, ROSA, clients=[c("C1", "sam", "kim"), CLIENTS[1]])
    (step,) = operator.runbook_steps()
    assert step.client == "C1" and step.member == "kim" + D and step.effect == "widens"
    entry = operator.done([step.label], "ticked at 10:05")
    assert entry.kind == "done" and entry.details == {"steps": [step.label],
                                                      "note": "ticked at 10:05"}
    (after,) = operator.runbook_steps(Filter(everything=True))
    assert (after.state, after.note, after.confirmed_in) == ("done", "ticked at 10:05",
                                                             entry.seq)
    assert operator.runbook_steps() == []
    heads = len(seeded.history())
    assert code_of(lambda: operator.done([step.label])) == "step-not-pending"
    assert code_of(lambda: operator.done(["R-999"])) == "no-such-step"
    with pytest.raises(ShsyncError) as refused:  # said so on every store, a server's too
        operator.done([step.label])
    assert str(refused.value).startswith("nothing was recorded: "), str(refused.value)
    assert code_of(lambda: operator.done(["R-x", step.label])) == "no-such-step"
    assert len(seeded.history()) == heads  # nothing recorded by any refusal
    assert operator.check_log().replayed


@pytest.fixture
def seeded_sql(make_store):
    return seed(make_store())


def test_a_member_confirms_only_their_own_steps_and_never_with_a_control_character(seeded_sql):
    # On the SQL stores, where the actor is the caller's to name; a server confirms as its
    # token's own identity, which tests/server/test_runbook_api.py covers.
    seeded = seeded_sql
    operator = app(seeded)
    apply(operator, ADMIN, SAM, KIM, ROSA,
          clients=[c("C1", "sam", "kim"), c("C2", "kim", "sam", "admin")])
    steps = {s.client: s for s in operator.runbook_steps()}
    kim, rosa = app(seeded, "kim"), app(seeded, "rosa")
    assert code_of(lambda: rosa.done([steps["C1"].label])) == "step-refused"
    assert code_of(lambda: kim.done([steps["C1"].label], "line\nbreak")) == "step-refused"
    assert kim.done([steps["C1"].label]).kind == "done"
    assert app(seeded, "admin").done([steps["C2"].label]).actor == "admin" + D


def test_a_step_for_an_invited_member_waits_for_their_acceptance(seeded):
    operator = app(seeded)
    newcomer = m("nia", "practitioner")
    apply(operator, ADMIN, SAM, KIM, ROSA, newcomer)
    (invite,) = operator.runbook_steps()
    assert "Send Invite" in invite.text and invite.waits_for is None
    operator.done([invite.label])
    apply(operator, ADMIN, SAM, KIM, ROSA, replace(newcomer, roles=("practitioner", "supervisor")))
    (role,) = operator.runbook_steps()
    assert role.waits_for == "nia" + D
    assert code_of(lambda: operator.done([role.label])) == "step-refused"
    operator.apply(operator.plan_acceptance(["nia" + D]))
    assert operator.done([role.label]).kind == "done"


def test_deadlines_are_the_practice_policy_held_before_the_change(seeded):
    operator = app(seeded)
    plan = planner.plan(replace(want(ADMIN, SAM, KIM, ROSA, clients=CLIENTS),
                                deadline_policy=(("narrows_access", 30),)), operator.read(),
                        practice=seeded.practice, now=NOW)
    assert [o.action for o in plan.operations] == ["set_deadline_policy"]
    operator.apply(plan)
    assert seeded.read().deadline_policy == (("narrows_access", 30),)
    assert "narrows_access: 30m" in export(seeded.read())
    apply(operator, ADMIN, SAM, KIM)  # rosa leaves: narrows, due in 30 minutes
    (leave,) = [s for s in operator.runbook_steps() if s.member == "rosa" + D]
    from shsync.model.clock import parse_instant
    minutes = (parse_instant(leave.due) - parse_instant(leave.recorded_at)).total_seconds() / 60
    assert leave.effect == "narrows" and minutes == 30
    assert operator.check_log().replayed


def test_history_verify_finds_a_step_edited_or_deleted_in_the_store(make_store):
    backend = make_store()
    backend.seed(live(ADMIN, SAM, KIM, ROSA, clients=CLIENTS))
    operator = app(backend)
    apply(operator, ADMIN, SAM, KIM)
    assert operator.check_log().replayed
    with backend._transaction():
        backend._execute("UPDATE runbook_steps SET state = 'done' WHERE practice = ?",
                         (backend.practice,))
    with pytest.raises(AuditBroken, match="runbook step R-1"):
        operator.check_log()
    with backend._transaction():
        backend._execute("DELETE FROM runbook_steps WHERE practice = ?", (backend.practice,))
    with pytest.raises(AuditBroken, match="missing from the store"):
        operator.check_log()
