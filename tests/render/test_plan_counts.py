"""Counts in a plan: no clause counts nothing (`cancels 0 future appointment(s)`, `on all 0
clients`), and a plan with errors shows the seats it leads to, as the same plan once fixed."""

from __future__ import annotations

from shsync.core.access import AccessChange
from shsync.render import plan as render
from tests.core.builders import ADMIN, D, appt, c, live, m, make, want

JO = m("jo", "practitioner")
ANN = m("ann", "scheduler")


def test_a_removal_that_cancels_nothing_says_no_count():
    plan = make(want(ADMIN), live(ADMIN, ANN))
    assert [o.action for o in plan.operations] == ["remove_member"] and not plan.errors
    for out in (render.text(plan), render.markdown(plan), render.runbook(plan)):
        # The summary line keeps Terraform's `Plan: 0 to invite, ...`; no other line counts 0.
        steps = [line for line in out.splitlines() if "Plan: " not in line]
        assert not [line for line in steps if " 0 " in line], out
        assert "future appointment" not in out
    assert f"  - ann{D} (active): remove\n" in render.text(plan)
    assert ("Permanently Remove. Confirm that their supervisees lose supervision."
            in render.runbook(plan))


def test_a_removal_that_cancels_appointments_counts_them():
    plan = make(want(ADMIN), live(ADMIN, ANN, appointments=[
        appt(1, "ann", "C-1", "2026-12-01T15:00:00Z")]), allow_mass_removal=True)
    assert "remove (cancels 1 future appointment(s))" in render.text(plan)
    assert "their 1 future appointment(s) are cancelled and their supervisees" \
        in render.runbook(plan)


def test_access_on_every_client_of_a_practice_without_clients_counts_none():
    change = AccessChange(f"ann{D}", "gain", ("limited_info",), "admin", (), 0, all_clients=True)
    assert render.access_line(change) == f"ann{D} gains limited info on all clients (admin)"
    eight = AccessChange(f"ann{D}", "gain", ("limited_info",), "admin", (), 8, all_clients=True)
    assert render.access_line(eight) == f"ann{D} gains limited info on all 8 clients (admin)"
    one = AccessChange(f"ann{D}", "lose", ("notes",), "granted", ("C-1",), 1)
    assert render.access_line(one) == f"ann{D} loses notes on 1 client(s) (granted): C-1"


def test_a_plan_with_errors_shows_the_seats_of_the_same_plan_once_fixed():
    state = live(ADMIN, JO, m("kim", "practitioner"), clients=[c("C-1", "jo")])
    # Jo leaves without anyone taking her client: an error, and her removal cannot happen.
    broken = make(want(ADMIN, m("kim", "practitioner")), state)
    assert "clients-need-handoff" in [e.code for e in broken.errors]
    fixed = make(want(ADMIN, m("kim", "practitioner"), clients=[c("C-1", "kim")]), state)
    assert not fixed.errors
    assert (broken.summary.seats_before, broken.summary.seats_after) == (3, 2)
    assert (fixed.summary.seats_before, fixed.summary.seats_after) == (3, 2)
    assert "Practitioner seats: 3 -> 2." in render.text(broken)
