"""`policy.approvals`, the two-person rule, as the org format declares it."""

from __future__ import annotations

import pytest

from shsync.core.state import desired_from_values
from tests.helpers import base_org, codes, load_data, value_of, write_yaml
from shsync.format.load import load_org


def with_approvals(approvals):
    org = base_org()
    org["policy"] = {"approvals": approvals}
    return org


def test_a_rule_loads_into_the_desired_state(tmp_path):
    loaded = load_data(tmp_path, with_approvals({"widens_access": 1, "removes_members": 2}))
    assert loaded.ok and codes(loaded) == []
    assert loaded.value is not None
    assert desired_from_values(loaded.value).approval_policy == (("removes_members", 2),
                                                              ("widens_access", 1))


def test_an_empty_rule_removes_it_and_no_rule_leaves_it_be(tmp_path):
    emptied = value_of(load_data(tmp_path, with_approvals({})))
    assert desired_from_values(emptied).approval_policy == ()
    assert desired_from_values(value_of(load_data(tmp_path, base_org()))).approval_policy is None


@pytest.mark.parametrize("count", [-1, 21])
def test_a_count_out_of_range_is_invalid_policy_at_its_place(tmp_path, count):
    loaded = load_data(tmp_path, with_approvals({"widens_access": count}))
    (d,) = loaded.diagnostics
    assert d.code == "invalid-policy" and not loaded.ok
    assert d.message == (f"approvals.widens_access is {count}: give how many administrators "
                         "must approve, 0 to 20")
    assert d.location is not None
    line = (tmp_path / "org.yaml").read_text().splitlines()[d.location.line - 1]
    assert "widens_access" in line


@pytest.mark.parametrize("approvals, code", [({"widen_access": 1}, "unknown-key"),
                                             ({"widens_access": "one"}, "wrong-type")])
def test_a_malformed_rule_is_a_structure_error(tmp_path, approvals, code):
    assert code in codes(load_data(tmp_path, with_approvals(approvals)))


def test_files_of_one_org_agree_on_the_policy(tmp_path):
    write_yaml(tmp_path / "org" / "a.yaml", with_approvals({"widens_access": 1}))
    write_yaml(tmp_path / "org" / "b.yaml", {"version": 1,
                                             "policy": {"approvals": {"widens_access": 2}}})
    assert "conflicting-setting" in codes(load_org(tmp_path / "org"))


@pytest.mark.parametrize("length", ["0m", "0h0m", "87600h", "169h", "10081m"])
def test_a_break_glass_max_the_store_cannot_hold_is_invalid_policy_at_validate(tmp_path, length):
    org = base_org()
    org["policy"] = {"break_glass": {"max": length}}
    loaded = load_data(tmp_path, org)
    assert codes(loaded) == ["invalid-policy"] and not loaded.ok
    assert repr(length) in loaded.diagnostics[0].message


@pytest.mark.parametrize("length, minutes", [("1m", 1), ("90m", 90), ("8h", 480),
                                             ("168h", 10080), ("1h30m", 90)])
def test_a_break_glass_policy_loads_as_who_and_minutes(tmp_path, length, minutes):
    org = base_org()
    org["policy"] = {"break_glass": {"who": ["supervisor", "admin"], "max": length}}
    loaded = load_data(tmp_path, org)
    assert loaded.ok, loaded.diagnostics
    assert loaded.value is not None
    assert desired_from_values(loaded.value).break_glass_policy == (("admin", "supervisor"),
                                                                    minutes)


@pytest.mark.parametrize("until, zone", [
    ("9999-12-31", None), ("9999-12-31T23:00:00-05:00", None),
    ("9999-12-31T23:59", "America/Chicago"), ("0001-01-01", "America/Chicago"),
    ("1969-12-31T00:00:00Z", None)])
def test_an_until_at_the_ends_of_the_calendar_is_time_out_of_range(tmp_path, until, zone):
    org = base_org()
    if zone:
        org["timezone"] = zone
    member = org["members"][-1]["email"]
    org["clients"] = [{**org["clients"][0], "access": [
        {"member": member, "until": until, "reason": "cover"}]}] if org.get("clients") else []
    org["members"][-1]["full_clinical_access"] = {"until": until, "reason": "audit"}
    loaded = load_data(tmp_path, org)
    assert "time-out-of-range" in codes(loaded) and not loaded.ok
