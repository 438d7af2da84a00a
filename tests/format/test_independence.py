"""Each rule reports even when an unrelated field of the same item is malformed: the rules run on
what parsed. A dropped field never makes up a finding of its own."""

from __future__ import annotations

from tests.helpers import base_org, codes, email, load_data


def test_a_client_with_a_bad_access_entry_is_still_checked_for_its_practitioner(tmp_path):
    org = base_org()
    org["clients"][0].update(practitioner=email("rosa"), access=["not an email"])
    assert sorted(codes(load_data(tmp_path, org))) == ["invalid-email", "not-a-practitioner"]


def test_a_malformed_supervisor_does_not_make_up_cosign_without_supervisor(tmp_path):
    org = base_org()
    org["members"][1].update(supervised_by="not an email", cosign=["progress_notes"])
    assert codes(load_data(tmp_path, org)) == ["invalid-email"]


def test_a_malformed_npi_does_not_make_up_missing_npi_but_other_rules_run(tmp_path):
    org = base_org()
    org["members"][1].update(npi="12345", supervised_by=email("rosa"))
    assert sorted(codes(load_data(tmp_path, org))) == ["invalid-npi", "not-a-supervisor"]


def test_a_missing_key_still_leaves_the_item_out(tmp_path):
    org = base_org()
    del org["members"][1]["first_name"]
    org["members"][1]["supervised_by"] = email("rosa")
    assert codes(load_data(tmp_path, org)) == ["missing-key"]
