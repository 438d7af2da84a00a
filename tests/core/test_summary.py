"""A plan's summary counts whom and what its steps touch, by the registry's kind of each step."""

from __future__ import annotations

from hypothesis import given, settings

from shsync.core import planner
from shsync.core.actions import ACTIONS
from shsync.core.plan import Summary
from shsync.core.simulate import simulate
from shsync.core.verify import summarize
from tests.core.test_replay import NOW, scenarios


def by_definition(operations, live, final) -> Summary:
    invited = {o.target for o in operations if o.action == "invite_member"}
    removed = {o.target for o in operations if o.action == "remove_member"}
    changed = {o.target for o in operations
               if ACTIONS[o.action].kind == "member"} - invited - removed
    clients = {o.target for o in operations if ACTIONS[o.action].kind == "client"}
    return Summary(invite=len(invited), change=len(changed), remove=len(removed),
                   clients=len(clients), seats_before=live.practitioner_count(),
                   seats_after=final.practitioner_count())


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_the_summary_counts_each_target_once_by_its_kind(scenario):
    live, desired = scenario
    plan = planner.plan(desired, live, practice="p", now=NOW,
                        options=planner.Options(allow_mass_removal=True, assume_accepted=True))
    final = simulate(live, plan.operations, NOW)
    assert summarize(plan.operations, live, final) == by_definition(plan.operations, live, final)
    if not plan.errors:  # a refused plan's summary counts the practice its possible steps leave
        assert plan.summary == by_definition(plan.operations, live, final)
