"""`shsync onboard` as a person reads it: merging updates, field-level conflicts, new hires into a
new directory, safe file names. Exact text."""

from __future__ import annotations

from pathlib import Path

import yaml

FULL = ("email,first_name,last_name,roles,admin,npi,taxonomy,supervised_by\n"
        "ann@x.example,Ann,A,practitioner;supervisor,yes,1245319599,101YM0800X,\n"
        "bob@x.example,Bob,B,practitioner,,1204567899,101YM0800X,ann@x.example\n")


def csv(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / name).write_text(text)
    return name


def members(org: Path) -> dict[str, dict]:
    found = {}
    for path in sorted(org.rglob("*.yaml")):
        for m in yaml.safe_load(path.read_text()).get("members", []):
            found[m["email"]] = m
    return found


def test_update_with_only_names_and_roles_keeps_npi_taxonomy_and_supervisor(run, tmp_path):
    assert run("onboard", csv(tmp_path, "first.csv", FULL), "-o", "org").returncode == 0
    names = csv(tmp_path, "names.csv", "email,first_name,last_name,roles\n"
                                       "bob@x.example,Robert,B,practitioner\n")
    result = run("onboard", names, "-o", "org", "--update")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == ("Added 0 member(s), updated 1, 0 already declared. "
                             "Wrote org/members/first.yaml.\n")
    assert members(tmp_path / "org")["bob@x.example"] == {
        "email": "bob@x.example", "first_name": "Robert", "last_name": "B",
        "roles": ["practitioner"], "npi": "1204567899", "taxonomy": "101YM0800X",
        "supervised_by": "ann@x.example"}


def test_a_roster_that_matches_what_it_has_is_already_declared_not_a_conflict(run, tmp_path):
    run("onboard", csv(tmp_path, "first.csv", FULL), "-o", "org")
    names = csv(tmp_path, "names.csv", "email,first_name,last_name\nbob@x.example,Bob,B\n")
    result = run("onboard", names, "-o", "org")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "Added 0 member(s), updated 0, 1 already declared. Nothing to write.\n"


def test_a_conflict_shows_each_field_that_differs(run, tmp_path):
    run("onboard", csv(tmp_path, "first.csv", FULL), "-o", "org")
    before = members(tmp_path / "org")
    changed = csv(tmp_path, "npi.csv", "email,first_name,last_name,npi,billing_access\n"
                                       "bob@x.example,Bob,Bee,1999999999,no\n")
    result = run("onboard", changed, "-o", "org")
    assert result.returncode == 1
    assert result.stdout == (
        "npi.csv:2: error[roster-conflict]: bob@x.example is already declared with different "
        "data (last_name: B -> Bee; npi: 1204567899 -> 1999999999; billing_access: (none) -> "
        "false); pass --update to change it\n")
    assert result.stderr == "error[roster-refused]: the roster has problems; nothing was written\n"
    assert members(tmp_path / "org") == before


def test_new_hires_into_a_new_directory_warn_that_there_is_no_admin_yet(run, tmp_path):
    hires = csv(tmp_path, "hires.csv", "email,first_name,last_name,roles\n"
                                       "new@x.example,New,Hire,scheduler\n")
    result = run("onboard", hires, "-o", "fresh")
    assert result.returncode == 0
    assert result.stdout == ("hires.csv:1: warning[no-admin]: no member is an administrator "
                             "(admin: true); a practice needs at least one\n")
    assert result.stderr == ("Added 1 member(s), updated 0, 0 already declared. "
                             "Wrote fresh/org.yaml, fresh/members/hires.yaml.\n")
    # A second wave of new hires merges into that directory too.
    more = csv(tmp_path, "more.csv", "email,first_name,last_name,roles\n"
                                     "two@x.example,Two,Hire,biller\n")
    again = run("onboard", more, "-o", "fresh")
    assert again.returncode == 0, again.stdout + again.stderr
    assert set(members(tmp_path / "fresh")) == {"new@x.example", "two@x.example"}


def test_the_admin_rule_is_judged_on_the_directory_and_the_roster_together(run, tmp_path):
    run("onboard", csv(tmp_path, "first.csv", FULL), "-o", "org")
    hires = csv(tmp_path, "hires.csv", "email,first_name,last_name,roles\n"
                                       "new@x.example,New,Hire,scheduler\n")
    result = run("onboard", hires, "-o", "org")
    assert (result.returncode, result.stdout) == (0, "")  # ann, already declared, is admin
    assert run("validate", "org").returncode == 0


def test_demoting_the_only_admin_of_a_directory_is_still_an_error(run, tmp_path):
    run("onboard", csv(tmp_path, "first.csv", FULL), "-o", "org")
    demote = csv(tmp_path, "demote.csv", "email,first_name,last_name,admin\n"
                                         "ann@x.example,Ann,A,no\n")
    result = run("onboard", demote, "-o", "org", "--update")
    assert result.returncode == 1
    assert result.stdout == ("demote.csv:1: error[no-admin]: no member is an administrator "
                             "(admin: true); a practice needs at least one\n")


def test_output_file_names_are_never_hidden_and_never_paths(run, tmp_path):
    row = "email,first_name,last_name,roles,admin\nnew@x.example,New,Hire,scheduler,yes\n"
    result = run("onboard", csv(tmp_path, ".hr.csv", row), "-o", "org")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.endswith("Wrote org/org.yaml, org/members/hr.yaml.\n")
    assert run("validate", "org").returncode == 0  # a hidden file would have been skipped
    odd = csv(tmp_path, "a\\b..c.csv", row.replace("new@", "odd@"))
    result = run("onboard", odd, "-o", "org")
    assert result.stderr.endswith("Wrote org/members/a-b-c.yaml.\n")
    assert sorted(p.name for p in (tmp_path / "org" / "members").iterdir()) == [
        "a-b-c.yaml", "hr.yaml"]
