"""The access model, table-driven: who holds which capability on which client, and why."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shsync.core.access import delta, rows_for_client, rows_for_member
from tests.core.builders import ADMIN, D, c, live, m

PRAC = m("prac", "practitioner", supervisor="sup")
SUP = m("sup", "practitioner", "supervisor")
OTHER = m("other", "practitioner", "supervisor")
GRANTEE = m("grantee", "practitioner")
SCHED = m("sched", "scheduler")
BILLER = m("biller", "biller")
NOBILL = m("nobill", "practitioner", billing_access=False)
FULL = m("full", "practitioner", full_clinical_access=True)
STATE = live(ADMIN, PRAC, SUP, OTHER, GRANTEE, SCHED, BILLER, NOBILL, FULL,
             clients=[c("C1", "prac", "grantee", "sched"), c("C2", "nobill"),
                      c("C3", "prac", supervisor="other")])


def held(member: str, client: str) -> set[tuple[str, str]]:
    return {(r.capability, r.reason) for r in rows_for_client(STATE, client)
            if r.member == member + D}


CLINICAL = {"record", "notes", "diagnoses", "treatment_plans"}
SUPERVISING = {(c, "supervisor") for c in ("notes", "treatment_plans", "sign_notes")}

CASES = [
    # member, client, must hold (capability, reason), must not hold capability
    ("prac", "C1", {(c, "assigned") for c in (*CLINICAL, "schedule", "manage_access", "billing")},
     set()),
    ("grantee", "C1", {(c, "granted") for c in (*CLINICAL, "billing")}, {"manage_access"}),
    ("grantee", "C2", set(), CLINICAL),
    ("admin", "C2", {("limited_info", "admin"), ("manage_access", "admin")}, CLINICAL),
    ("sched", "C2", {("schedule", "scheduler")}, CLINICAL | {"billing"}),
    ("sched", "C1", {(c, "granted") for c in CLINICAL}, {"billing"}),  # granted, no billing
    ("biller", "C2", {("billing", "biller"), ("diagnoses", "biller")},
     {"record", "notes", "treatment_plans"}),
    ("nobill", "C2", {(c, "assigned") for c in CLINICAL}, {"billing"}),
    # A supervisor opens and signs supervisees' notes and treatment plans (Sessions Health help,
    # article 436), but not the rest of the record.
    ("sup", "C1", SUPERVISING, {"record", "diagnoses"}),
    ("sup", "C3", set(), {"sign_notes", "notes"}),  # C3 has its own supervisor ...
    ("other", "C3", SUPERVISING, {"record", "diagnoses"}),  # ... who signs instead
    ("full", "C2", {(c, "full_clinical_access") for c in CLINICAL}, {"manage_access"}),
]


@pytest.mark.parametrize("member,client,holds,lacks", CASES,
                         ids=[f"{a}-{b}" for a, b, _, _ in CASES])
def test_capabilities(member, client, holds, lacks):
    got = held(member, client)
    assert holds <= got
    assert not {cap for cap, _ in got} & lacks


def test_admin_scheduler_and_biller_never_imply_clinical_access():
    # A biller views diagnoses (to bill); the record, notes and treatment plans stay closed.
    for who in ("admin", "sched", "biller"):
        for client in ("C2", "C3"):
            assert not {cap for cap, _ in held(who, client)} & {"record", "notes",
                                                                  "treatment_plans"}


def test_member_rows_list_every_client_for_role_wide_access():
    rows = rows_for_member(STATE, "sched" + D)
    assert {r.client for r in rows if r.capability == "schedule"} == {"C1", "C2", "C3"}


def test_a_grant_is_a_gain_on_that_client():
    after = replace(STATE, clients={**STATE.clients, "C2": c("C2", "nobill", "grantee")})
    (change,) = delta(STATE, after)
    assert (change.member, change.change, change.reason, change.clients) == (
        "grantee" + D, "gain", "granted", ("C2",))
    assert set(change.capabilities) == CLINICAL | {"billing"}


def test_a_removal_loses_everything_on_every_client_it_touched():
    members = {e: x for e, x in STATE.members.items() if e != "grantee" + D}
    clients = {**STATE.clients, "C1": c("C1", "prac", "sched")}
    changes = [x for x in delta(STATE, replace(STATE, members=members, clients=clients))
               if x.member == "grantee" + D]
    assert [(x.change, x.capabilities, x.reason, x.client_count) for x in changes] == [
        ("lose", ("everything",), "removed", 1)]


def test_becoming_a_biller_gains_billing_on_all_clients():
    after = replace(STATE, members={**STATE.members, "sched" + D: replace(
        SCHED, roles=("biller", "scheduler"))})
    (change,) = delta(STATE, after)
    assert change.all_clients and change.client_count == 3
    assert change.capabilities == ("diagnoses", "billing") and change.reason == "biller"


def test_turning_billing_off_loses_billing_even_on_own_clients():
    after = replace(STATE, members={**STATE.members, "prac" + D: replace(
        PRAC, billing_access=False)})
    (change,) = delta(STATE, after)
    assert (change.change, change.capabilities, change.clients) == ("lose", ("billing",),
                                                                    ("C1", "C3"))


def test_a_supervisor_change_moves_signing():
    after = replace(STATE, members={**STATE.members, "prac" + D: replace(
        PRAC, supervisor="other" + D)})
    changes = {(x.member, x.change, x.clients) for x in delta(STATE, after)}
    assert changes == {("sup" + D, "lose", ("C1",)), ("other" + D, "gain", ("C1",))}


def test_client_lists_are_capped_but_counted():
    clients = {f"X{i}": c(f"X{i}", "prac") for i in range(25)}
    before = replace(STATE, clients={**STATE.clients, **clients})
    after = replace(before, clients={**before.clients, **{
        k: replace(v, access=("grantee" + D,)) for k, v in clients.items()}})
    (change,) = delta(before, after)
    assert change.client_count == 25 and len(change.clients) == 10
