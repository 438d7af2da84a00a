"""`shsync onboard` as a person reads it: merging updates, field-level conflicts, new hires into a
new directory, safe file names. Exact text."""

from __future__ import annotations

import json
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
    assert (result.returncode, result.stdout) == (0, (
        "org/members/first.yaml:4:3: warning[not-in-roster]: ann@x.example is declared here but "
        "is not in the roster names.csv: kept (--remove-missing removes them)\n"))
    assert result.stderr == ("Added 0 member(s), updated 1, 0 already declared. "
                             "Wrote org/members/first.yaml.\n"
                             "1 member(s) declared under org are not in the roster (listed "
                             "above): kept; `--remove-missing` removes them from the files.\n")
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
                             "(admin: true); a practice needs at least one\n"
                             "org/members/first.yaml:13:3: warning[not-in-roster]: bob@x.example "
                             "is declared here but is not in the roster demote.csv: kept "
                             "(--remove-missing removes them)\n")


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


# --- leavers: members declared and no longer in the roster ------------------------------------

STAFF = ("email,first_name,last_name,roles,admin,npi,supervised_by\n"
         "ann@x.example,Ann,A,practitioner;supervisor,yes,1245319599,\n"
         "bob@x.example,Bob,B,practitioner,,1204567899,ann@x.example\n"
         "cat@x.example,Cat,C,scheduler,,,\n"
         "dan@x.example,Dan,D,biller,,,\n"
         "eve@x.example,Eve,E,practitioner,,1234567893,\n")
LEFT = "".join(line + "\n" for line in STAFF.splitlines()[:3])  # cat, dan and eve have left


def _staffed(run, tmp_path: Path) -> None:
    assert run("onboard", csv(tmp_path, "staff.csv", STAFF), "-o", "org").returncode == 0
    org = tmp_path / "org" / "org.yaml"
    org.write_text(org.read_text().replace("prune: false", "prune: true"))


def test_update_warns_of_each_member_no_longer_in_the_roster_where_declared(run, tmp_path):
    _staffed(run, tmp_path)
    before = (tmp_path / "org" / "members" / "staff.yaml").read_text()
    result = run("onboard", csv(tmp_path, "left.csv", LEFT), "-o", "org", "--update")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = before.splitlines()
    at = {e: lines.index(f"- email: {e}@x.example") + 1 for e in ("cat", "dan", "eve")}
    assert result.stdout == "".join(
        f"org/members/staff.yaml:{at[e]}:3: warning[not-in-roster]: {e}@x.example is declared "
        "here but is not in the roster left.csv: kept (--remove-missing removes them)\n"
        for e in ("cat", "dan", "eve"))
    assert result.stderr.endswith("\n3 member(s) declared under org are not in the roster "
                                  "(listed above): kept; `--remove-missing` removes them from "
                                  "the files.\n")
    assert (tmp_path / "org" / "members" / "staff.yaml").read_text() == before
    # Without --update a roster is new hires only: nobody is missing from it.
    hires = run("onboard", csv(tmp_path, "hires.csv", "email,first_name,last_name,roles\n"
                                                      "fay@x.example,Fay,F,biller\n"), "-o", "org")
    assert hires.returncode == 0 and "not-in-roster" not in hires.stdout + hires.stderr


def test_remove_missing_removes_them_from_the_files_and_the_plan_asks_for_handoffs(run,
                                                                                   tmp_path):
    _staffed(run, tmp_path)
    # The store: the practice as the files declared it, everyone active, eve with a client
    # and an incomplete note.
    snapshot = {"version": 1, "members": list(members(tmp_path / "org").values()),
                "clients": [{"id": "C-1", "practitioner": "eve@x.example"}],
                "notes": [{"author": "eve@x.example", "client": "C-1", "status": "incomplete"}]}
    (tmp_path / "snapshot.yaml").write_text(yaml.safe_dump(snapshot))
    backend = f"sqlite:///{tmp_path}/practice.db"
    assert run("seed", "snapshot.yaml", "--backend", backend).returncode == 0
    result = run("onboard", csv(tmp_path, "left.csv", LEFT), "-o", "org", "--update",
                 "--remove-missing")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("warning[not-in-roster]") == 3
    assert "eve@x.example is declared here but is not in the roster left.csv: removed from " \
           "this file (--remove-missing)" in result.stdout
    assert result.stderr.endswith(
        "Removed 3 member(s) not in the roster from the files under org: cat@x.example, "
        "dan@x.example, eve@x.example. The next `shsync plan` removes them from the practice, "
        "and asks for a handoff (handoffs: in the org files) of their clients, incomplete notes "
        "and notes awaiting their signature wherever they hold any.\n")
    assert set(members(tmp_path / "org")) == {"ann@x.example", "bob@x.example"}
    # The layout is kept: the same files, each member as onboard wrote them.
    assert sorted(p.name for p in (tmp_path / "org").rglob("*.yaml")) == ["org.yaml",
                                                                          "staff.yaml"]
    (tmp_path / "org" / "clients.yaml").write_text(yaml.safe_dump(
        {"version": 1, "clients": [{"id": "C-1", "practitioner": "bob@x.example"}]}))
    planned = run("plan", "org", "--backend", backend, "--allow-mass-removal")
    assert planned.returncode == 1
    assert ("[notes-need-handoff] eve@x.example is removed but has 1 incomplete note(s): add a "
            "handoff with notes:") in planned.stdout
    (tmp_path / "org" / "handoffs.yaml").write_text(yaml.safe_dump(
        {"version": 1, "handoffs": [{"from": "eve@x.example", "notes": "bob@x.example"}]}))
    planned = run("plan", "org", "--backend", backend, "--format", "json",
                  "--allow-mass-removal")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    removed = {c["target"] for c in json.loads(planned.stdout)["changes"]
               if c["action"] == "remove_member"}
    assert removed == {"cat@x.example", "dan@x.example", "eve@x.example"}


def test_remove_missing_refuses_while_the_files_still_name_a_leaver(run, tmp_path):
    _staffed(run, tmp_path)
    (tmp_path / "org" / "clients.yaml").write_text(
        "version: 1\nclients:\n  - id: C-1\n    practitioner: eve@x.example\n"
        "    access: [bob@x.example]\n"
        "  - id: C-2\n    practitioner: bob@x.example\n    access: [eve@x.example]\n"
        "handoffs:\n  - from: old@x.example\n    notes: eve@x.example\n")
    staff = (tmp_path / "org" / "members" / "staff.yaml")
    staff.write_text(staff.read_text().replace("supervised_by: ann@x.example",
                                               "supervised_by: eve@x.example")
                     .replace("- practitioner\n  npi: '1234567893'",
                              "- practitioner\n  - supervisor\n  npi: '1234567893'"))
    assert run("validate", "org").returncode == 0, run("validate", "org").stdout
    before = {p: p.read_text() for p in (tmp_path / "org").rglob("*.yaml")}
    line = staff.read_text().splitlines().index("  supervised_by: eve@x.example") + 1
    # bob stays, supervised by eve in the files (his row leaves supervised_by empty)
    left = csv(tmp_path, "left.csv", "email,first_name,last_name,roles,admin,npi\n"
                                     "ann@x.example,Ann,A,practitioner;supervisor,yes,1245319599\n"
                                     "bob@x.example,Bob,B,practitioner,,1204567899\n")
    result = run("onboard", left, "-o", "org", "--update", "--remove-missing")
    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if "error[" in line]
    assert errors == [
        "org/clients.yaml:4:19: error[still-referenced]: eve@x.example is not in the roster, "
        "but is client C-1's practitioner: reassign the client before removing them",
        "org/clients.yaml:8:14: error[still-referenced]: eve@x.example is not in the roster, "
        "but client C-2 grants them access: take the grant out before removing them",
        "org/clients.yaml:11:12: error[still-referenced]: eve@x.example is not in the roster, "
        "but a handoff gives them old@x.example's notes: name someone else before removing "
        "them",
        f"org/members/staff.yaml:{line}:18: error[still-referenced]: eve@x.example is not in the "
        "roster, but bob@x.example is supervised by them: name another supervisor (here or in "
        "the roster) before removing them"]
    assert "error[roster-refused]" in result.stderr
    assert {p: p.read_text() for p in before} == before  # nothing written


def test_a_roster_row_supervised_by_a_leaver_is_refused_at_its_row(run, tmp_path):
    _staffed(run, tmp_path)
    hire = LEFT.replace("email,first_name,last_name,roles,admin,npi,supervised_by\n",
                        "email,first_name,last_name,roles,admin,npi,supervised_by\n"
                        "gil@x.example,Gil,G,practitioner,,1234567893,eve@x.example\n")
    before = {p: p.read_text() for p in (tmp_path / "org").rglob("*.yaml")}
    result = run("onboard", csv(tmp_path, "left.csv", hire), "-o", "org", "--update",
                 "--remove-missing")
    assert result.returncode == 1
    assert [line for line in result.stdout.splitlines() if "error[" in line] == [
        "left.csv:2: error[unknown-supervisor]: gil@x.example is supervised by eve@x.example, "
        "who is not a member"]
    assert {p: p.read_text() for p in before} == before


def test_with_prune_false_the_output_says_the_plan_keeps_them(run, tmp_path):
    assert run("onboard", csv(tmp_path, "staff.csv", STAFF), "-o", "org").returncode == 0
    result = run("onboard", csv(tmp_path, "left.csv", LEFT), "-o", "org", "--update",
                 "--remove-missing")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.endswith(
        "dan@x.example, eve@x.example. The files do not say `prune: true`, so `shsync plan` "
        "leaves them in the practice until they do; then it removes them and asks for a "
        "handoff (handoffs:) of their clients and notes.\n")


def test_remove_missing_needs_update(run, tmp_path):
    _staffed(run, tmp_path)
    result = run("onboard", csv(tmp_path, "left.csv", LEFT), "-o", "org", "--remove-missing")
    assert result.returncode == 1
    assert result.stderr == ("error[usage]: --remove-missing needs --update: only a roster of "
                             "the whole staff says who has left\n")
