"""`shsync onboard`: roster parsing, every error kind with its row, merging without clobbering."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shsync.jobs.onboard import OnboardRefused, onboard
from shsync.format.load import load_org
from shsync.format.roster import read_roster
from tests.helpers import value_of

HEADER = "email,first_name,last_name,roles,admin,npi,taxonomy,billing_access,supervised_by\n"
ANN = "ann@x.example,Ann,A,practitioner;supervisor,yes,1245319599,101YM0800X,,\n"
BOB = "bob@x.example,Bob,B,practitioner,,1234567893,,no,ann@x.example\n"
CAT = "cat@x.example,Cat,C,scheduler|biller,,,,,\n"


def roster(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + "".join(rows))
    return path


def codes_by_row(exc: pytest.ExceptionInfo[OnboardRefused]) -> list[tuple[int, str]]:
    rows = []
    for d in exc.value.outcome.diagnostics:
        if d.severity.value == "error":
            assert d.location is not None, d  # a roster error names its row
            rows.append((d.location.line, d.code))
    return rows


def test_columns_map_by_header_and_roles_split_on_semicolons_and_bars(tmp_path):
    r = read_roster(roster(tmp_path, ANN, CAT), {})
    assert r.members[0]["roles"] == ["practitioner", "supervisor"]
    assert r.members[0]["admin"] is True
    assert r.members[1]["roles"] == ["scheduler", "biller"]
    assert r.rows == (2, 3)


def test_headers_are_matched_loosely_and_map_renames_columns(tmp_path):
    path = roster(tmp_path, "ann@x.example,Ann,A,biller,yes\n",
                  header="Work Email,First Name,Last-Name,Roles,Admin\n")
    r = read_roster(path, {"Work Email": "email"})
    assert r.members[0] == {"email": "ann@x.example", "first_name": "Ann", "last_name": "A",
                            "roles": ["biller"], "admin": True}


def test_an_unknown_column_is_a_warning(tmp_path):
    r = read_roster(roster(tmp_path, header=HEADER.strip() + ",Department\n"), {})
    assert [(d.code, d.severity.value) for d in r.diagnostics] == [("unknown-column", "warning")]


def test_a_missing_required_column_is_an_error(tmp_path):
    r = read_roster(roster(tmp_path, header="email,first_name\n"), {})
    assert [d.code for d in r.diagnostics] == ["missing-column"]


def test_every_bad_row_is_reported_with_its_row_and_nothing_is_written(tmp_path):
    path = roster(tmp_path, ANN,
                  "bob@x.example,Bob,B,practitioner,,1234567890,,,\n",  # row 3: NPI check digit
                  "cat@x.example,Cat,C,schedular,,,,,\n",  # row 4: unknown role
                  "dan@x.example,Dan,D,practitioner,,,,maybe,kim@x.example\n",  # row 5: two
                  "not-an-email,Eve,E,biller,,,,,\n")  # row 6
    with pytest.raises(OnboardRefused) as info:
        onboard(path, tmp_path / "org", {})
    assert codes_by_row(info) == [(3, "invalid-npi"), (4, "invalid-role"),
                                  (5, "unknown-supervisor"), (5, "wrong-type"),
                                  (6, "invalid-email")]
    assert not (tmp_path / "org").exists()


def test_a_rule_across_rows_is_reported_at_the_row(tmp_path):
    path = roster(tmp_path, ANN, "dan@x.example,Dan,D,practitioner,,,,no,kim@x.example\n")
    with pytest.raises(OnboardRefused) as info:
        onboard(path, tmp_path / "org", {})
    assert codes_by_row(info) == [(3, "unknown-supervisor")]
    message = info.value.outcome.diagnostics[-1].render()
    assert message.startswith(f"{tmp_path}/roster.csv:3: error[unknown-supervisor]:")


def test_a_good_roster_writes_an_org_that_validates(tmp_path):
    outcome = onboard(roster(tmp_path, ANN, BOB, CAT), tmp_path / "org", {})
    assert outcome.added == ["ann@x.example", "bob@x.example", "cat@x.example"]
    loaded = load_org(tmp_path / "org")
    assert loaded.ok and loaded.value is not None
    assert len(loaded.value.model().members) == 3
    assert loaded.value.model().prune is False  # a roster alone never removes anyone


def test_skip_invalid_writes_the_good_rows_and_drops_rows_that_depend_on_bad_ones(tmp_path):
    bad_sup = "sue@x.example,Sue,S,practitioner;supervisor,,1234567890,,,\n"  # bad NPI
    depends = "dan@x.example,Dan,D,practitioner,,,,no,sue@x.example\n"
    outcome = onboard(roster(tmp_path, ANN, bad_sup, depends, CAT), tmp_path / "org", {},
                      skip_invalid=True)
    assert outcome.added == ["ann@x.example", "cat@x.example"]
    assert outcome.skipped_rows == [3, 4]
    assert load_org(tmp_path / "org").ok


def test_merging_keeps_members_already_declared_untouched(tmp_path):
    org = tmp_path / "org"
    onboard(roster(tmp_path, ANN, CAT), org, {})
    clinical = org / "members" / "clinical.yaml"
    clinical.write_text("# hand-written, with a comment\nversion: 1\nmembers:\n"
                        "  - email: zed@x.example\n    first_name: Zed\n    last_name: Z\n"
                        "    roles: [biller]\n")
    before = clinical.read_text()
    outcome = onboard(roster(tmp_path, ANN, BOB, name="wave2.csv"), org, {})
    assert outcome.added == ["bob@x.example"] and outcome.unchanged == ["ann@x.example"]
    assert clinical.read_text() == before
    assert load_org(org).ok


def test_a_declared_email_with_different_data_is_refused_unless_update(tmp_path):
    org = tmp_path / "org"
    onboard(roster(tmp_path, ANN, CAT), org, {})
    changed = "cat@x.example,Cat,Changed,scheduler,,,,,\n"
    with pytest.raises(OnboardRefused) as info:
        onboard(roster(tmp_path, changed, name="fix.csv"), org, {})
    assert codes_by_row(info) == [(2, "roster-conflict")]
    outcome = onboard(roster(tmp_path, changed, name="fix.csv"), org, {}, update=True)
    assert outcome.updated == ["cat@x.example"]
    members = {m.email: m for m in value_of(load_org(org)).model().members}
    assert members["cat@x.example"].last_name == "Changed" and len(members) == 2


def test_the_roster_file_is_named_after_the_roster(tmp_path):
    onboard(roster(tmp_path, ANN, name="HR Export.csv"), tmp_path / "org", {})
    data = yaml.safe_load((tmp_path / "org" / "members" / "hr-export.yaml").read_text())
    assert data["members"][0]["email"] == "ann@x.example"


def test_an_empty_existing_directory_is_a_new_org(tmp_path):
    (tmp_path / "org").mkdir()
    outcome = onboard(roster(tmp_path, ANN), tmp_path / "org", {})
    assert outcome.added == ["ann@x.example"] and load_org(tmp_path / "org").ok


def test_a_skipped_update_is_not_reported_as_updated(tmp_path):
    org = tmp_path / "org"
    onboard(roster(tmp_path, ANN, CAT), org, {})
    broken_update = "cat@x.example,Cat,C,scheduler,,,,,ann@x.example\n"  # rule: practitioner-only
    outcome = onboard(roster(tmp_path, broken_update, name="fix.csv"), org, {}, update=True,
                      skip_invalid=True)
    assert outcome.updated == [] and outcome.skipped_rows == [2]
    assert {m.last_name for m in value_of(load_org(org)).model().members} == {"A", "C"}
