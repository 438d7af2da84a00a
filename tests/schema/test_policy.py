"""`policy.approvals`, the two-person rule, as the org format declares it."""

from __future__ import annotations

import pytest

from shsync.reconcile.state import desired_from_org
from tests.helpers import base_org, codes, load_data, write_yaml
from shsync.schema.load import load_org


def with_approvals(approvals):
    org = base_org()
    org["policy"] = {"approvals": approvals}
    return org


def test_a_rule_loads_into_the_desired_state(tmp_path):
    loaded = load_data(tmp_path, with_approvals({"widens_access": 1, "removes_members": 2}))
    assert loaded.ok and codes(loaded) == []
    assert desired_from_org(loaded.model).approval_policy == (("removes_members", 2),
                                                              ("widens_access", 1))


def test_an_empty_rule_removes_it_and_no_rule_leaves_it_be(tmp_path):
    assert desired_from_org(load_data(tmp_path, with_approvals({})).model).approval_policy == ()
    assert desired_from_org(load_data(tmp_path, base_org()).model).approval_policy is None


@pytest.mark.parametrize("count", [-1, 21])
def test_a_count_out_of_range_is_invalid_policy_at_its_place(tmp_path, count):
    loaded = load_data(tmp_path, with_approvals({"widens_access": count}))
    (d,) = loaded.diagnostics
    assert d.code == "invalid-policy" and not loaded.ok
    assert d.message == (f"approvals.widens_access is {count}: give how many administrators "
                         "must approve, 0 to 20")
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
