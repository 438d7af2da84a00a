"""Hints with the user's own values, and rules that report even when an unrelated field is
malformed. Exact text, through the real command line."""

from __future__ import annotations

from pathlib import Path

HEAD = "version: 1\nmembers:\n"
DANA = ("  - email: dana@x.example\n    first_name: Dana\n    last_name: O\n    admin: true\n"
        "    roles: [practitioner, supervisor]\n    npi: \"1245319599\"\n")
ROSA = "  - email: rosa@x.example\n    first_name: Rosa\n    last_name: R\n    roles: [scheduler]\n"


def validate(run, tmp_path: Path, text: str):
    (tmp_path / "org.yaml").write_text(text)
    result = run("validate", "org.yaml")
    assert result.returncode == 1
    return result.stdout


def test_unquoted_npi_hint_quotes_the_users_own_number(run, tmp_path):
    out = validate(run, tmp_path, HEAD + DANA.replace('"1245319599"', "1204567899"))
    assert out == ("org.yaml:8:10: error[wrong-type]: npi of member dana@x.example must be a "
                   "string, not the number 1204567899; write it in quotes, like "
                   "npi: \"1204567899\"\n")


def test_a_single_role_suggests_a_list_of_it(run, tmp_path):
    out = validate(run, tmp_path, HEAD + DANA + ROSA.replace("[scheduler]", "scheduler"))
    assert out == ("org.yaml:12:12: error[wrong-type]: roles of member rosa@x.example must be a "
                   "list, not 'scheduler'; write it as a list, like roles: [scheduler]\n")


def test_yes_and_no_suggest_the_boolean_they_mean(run, tmp_path):
    out = validate(run, tmp_path, HEAD + DANA + "    billing_access: no\n")
    assert out == ("org.yaml:9:21: error[wrong-type]: billing_access of member dana@x.example "
                   "must be true or false, not 'no'; write billing_access: false\n")


def test_multiple_owners_name_the_other_owner(run, tmp_path):
    owners = HEAD + DANA + "    owner: true\n" + ROSA + "    admin: true\n    owner: true\n"
    assert validate(run, tmp_path, owners) == (
        "org.yaml:9:12: error[multiple-owners]: dana@x.example is marked owner, and so is "
        "rosa@x.example; a practice has one owner\n"
        "org.yaml:15:12: error[multiple-owners]: rosa@x.example is marked owner, and so is "
        "dana@x.example; a practice has one owner\n")


def test_a_malformed_field_does_not_hide_a_rule_elsewhere_in_the_member(run, tmp_path):
    sam = ("  - email: sam@x.example\n    first_name: Sam\n    last_name: L\n"
           "    roles: [practitioner]\n    billing_access: no\n"
           "    supervised_by: rosa@x.example\n")
    assert validate(run, tmp_path, HEAD + DANA + ROSA + sam) == (
        "org.yaml:17:21: error[wrong-type]: billing_access of member sam@x.example must be true "
        "or false, not 'no'; write billing_access: false\n"
        "org.yaml:18:20: error[not-a-supervisor]: sam@x.example is supervised by rosa@x.example, "
        "who does not have the supervisor role\n")  # and no missing-npi from the dropped field


def test_a_malformed_field_on_the_supervisor_does_not_vouch_for_them(run, tmp_path):
    sam = ("  - email: sam@x.example\n    first_name: Sam\n    last_name: L\n"
           "    roles: [practitioner]\n    npi: \"1234567893\"\n"
           "    supervised_by: rosa@x.example\n")
    rosa = ROSA + "    full_clinical_access: maybe\n"
    assert validate(run, tmp_path, HEAD + DANA + rosa + sam) == (
        "org.yaml:13:27: error[wrong-type]: full_clinical_access of member rosa@x.example must "
        "be true or false, not 'maybe'; write true or false\n"
        "org.yaml:19:20: error[not-a-supervisor]: sam@x.example is supervised by rosa@x.example, "
        "who does not have the supervisor role\n")


def test_malformed_roles_still_leave_the_member_out_so_nothing_cascades(run, tmp_path):
    sam = ("  - email: sam@x.example\n    first_name: Sam\n    last_name: L\n"
           "    roles: [practitioner]\n    npi: \"1234567893\"\n"
           "    supervised_by: rosa@x.example\n")
    rosa = ROSA.replace("[scheduler]", "[supervisr]")
    assert validate(run, tmp_path, HEAD + DANA + rosa + sam) == (
        "org.yaml:12:13: error[invalid-role]: 'supervisr' (roles of member rosa@x.example) is "
        "not one of practitioner, supervisor, scheduler, biller, forms_admin; did you mean "
        "'supervisor'?\n")


def test_roster_did_you_mean_uses_the_users_spelling(run, tmp_path):
    (tmp_path / "r.csv").write_text("email,first_name,last_name,roles,admin,Supervisor By\n"
                                    "ann@x.example,Ann,A,Schedular,yes,\n")
    result = run("onboard", "r.csv", "-o", "org")
    assert result.returncode == 1
    assert result.stdout == (
        "r.csv:1: warning[unknown-column]: column 'Supervisor By' is ignored (did you mean "
        "--map 'Supervisor By=supervised_by'?)\n"
        "r.csv:2: error[invalid-role]: 'Schedular' (roles of member ann@x.example) is not one "
        "of practitioner, supervisor, scheduler, biller, forms_admin; did you mean "
        "'scheduler'?\n")


def test_a_map_to_an_unknown_field_is_an_error_with_a_suggestion(run, tmp_path):
    (tmp_path / "r.csv").write_text("Work Email,first_name,last_name\nann@x.example,Ann,A\n")
    result = run("onboard", "r.csv", "-o", "org", "--map", "Work Email=emial")
    assert result.returncode == 1
    assert result.stdout == (
        "r.csv:1: error[unknown-field]: --map 'Work Email=emial': 'emial' is not a field; did "
        "you mean 'email'?\n"
        "r.csv:1: error[missing-column]: no column for email\n")


SAM = ("  - email: sam@x.example\n    first_name: Sam\n    last_name: L\n"
       "    roles: [practitioner]\n    npi: \"1234567893\"\n")


def test_a_mistyped_supervisor_or_grantee_gets_the_member_it_probably_means(run, tmp_path):
    clients = ("clients:\n  - id: C-1\n    practitioner: sma@x.example\n"
               "    access: [dnaa@x.example]\n    supervisor: dana@x.exmaple\n")
    out = validate(run, tmp_path, HEAD + DANA + ROSA + SAM.replace(
        "roles", "supervised_by: dan@x.example\n    roles") + clients)
    assert out.splitlines()[:1] == [
        "org.yaml:16:20: error[unknown-supervisor]: sam@x.example is supervised by "
        "dan@x.example, who is not a member; did you mean dana@x.example?"]
    assert ("error[unknown-member]: client C-1 grants access to dnaa@x.example, who is not a "
            "member; did you mean dana@x.example?") in out
    assert ("error[unknown-practitioner]: client C-1's practitioner sma@x.example is not a "
            "member; did you mean sam@x.example?") in out
    # A typo in the domain: the same name at the practice's domain.
    assert ("error[unknown-supervisor]: client C-1's supervisor dana@x.exmaple is not a "
            "member; did you mean dana@x.example?") in out


def test_an_email_near_no_member_gets_no_guess(run, tmp_path):
    out = validate(run, tmp_path, HEAD + DANA + ROSA + SAM.replace(
        "roles", "supervised_by: zed@y.example\n    roles"))
    assert out == ("org.yaml:16:20: error[unknown-supervisor]: sam@x.example is supervised by "
                   "zed@y.example, who is not a member\n")


def test_a_list_of_supervisors_says_a_practitioner_has_one(run, tmp_path):
    out = validate(run, tmp_path, HEAD + DANA + ROSA + SAM.replace(
        "roles", "supervised_by: [dana@x.example]\n    roles"))
    assert out == ("org.yaml:16:20: error[wrong-type]: supervised_by of member sam@x.example "
                   "is a list, but a practitioner has one supervisor at most; write "
                   "supervised_by: dana@x.example\n")
    two = validate(run, tmp_path, HEAD + DANA + ROSA + SAM.replace(
        "roles", "supervised_by: [dana@x.example, rosa@x.example]\n    roles"))
    assert two.endswith("has one supervisor at most; choose one of dana@x.example, "
                        "rosa@x.example\n")


def test_a_lower_case_taxonomy_gets_its_upper_case_form(run, tmp_path):
    out = validate(run, tmp_path, HEAD + DANA + "    taxonomy: 101ym0800x\n")
    assert out == ("org.yaml:9:15: error[invalid-taxonomy]: '101ym0800x' (taxonomy of member "
                   "dana@x.example) is not a NUCC taxonomy code (3 digits, 6 capital letters "
                   "or digits, then X, like 101YM0800X); did you mean '101YM0800X'?\n")
    wrong = validate(run, tmp_path, HEAD + DANA + "    taxonomy: 101ym0800\n")
    assert "did you mean" not in wrong  # upper case would not make it a code


def test_the_token_examples_make_tokens_for_members_of_the_example_practice():
    """A token example's `--actor EMAIL` (a member's token) names a member of examples/org.yaml
    (the practice `riverbend` of the examples): a CI job is a service (`--operator NAME`)."""
    import re

    import yaml

    from tests.cli.conftest import ROOT
    from tests.cli.helppaths import commands, render

    org = yaml.safe_load((ROOT / "examples" / "org.yaml").read_text())
    members = {m["email"] for m in org["members"]}
    named = {(path, email) for path in commands() if path[:1] == ("token",)
             for email in re.findall(r"--actor\s+(\S+@\S+)", render(path, 200))}
    assert named, "the help shows members' examples"
    assert "--operator ci-plans" in render(("token",), 200)
    assert [(" ".join(path), email) for path, email in sorted(named)
            if email not in members] == []
